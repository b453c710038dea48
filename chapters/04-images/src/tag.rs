//! `tag SOURCE TARGET`: another name for an image.

use crate::error::{Error, Result};
use crate::reference::Reference;
use crate::store::ImageStore;

/// Names the image `source` (a name or an id) `target` (`NAME[:TAG]`) as well.
pub fn tag(store: &ImageStore, source: &str, target: &str) -> Result<()> {
    let image = store.find_image(source)?;
    let target: Reference = target.parse()?;
    if target.digest.is_some() {
        return Err(Error::InvalidReference {
            reference: target.familiar(),
            reason: "a tag cannot name a digest".into(),
        });
    }
    store.update_catalog(|catalog| {
        catalog.tags.insert(target.to_string(), image.id.clone());
        Ok(())
    })
}
