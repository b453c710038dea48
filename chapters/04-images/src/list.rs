//! `images`: the store's images as `docker images` lists them, a row per name (and one for
//! each image without a name), newest first.

use dockyard_support::clock::parse_rfc3339;

use crate::digest::Digest;
use crate::error::Result;
use crate::reference::{DEFAULT_TAG, Reference};
use crate::store::ImageStore;

/// One row of `images`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageSummary {
    /// The repository, as docker shows it (`busybox`, `localhost:5000/app`), or `<none>`.
    pub repository: String,
    /// The tag, or `<none>`.
    pub tag: String,
    /// The image id.
    pub id: Digest,
    /// The manifest's digest in the registry it was pulled from, or `<none>`.
    pub digest: String,
    /// When the image was made, in seconds since the epoch, if its config says.
    pub created: Option<i64>,
    /// Bytes of its unpacked layers.
    pub size: u64,
}

/// The images, newest first; with `filter` (`busybox`, or `busybox:1.36`) only the names of
/// that repository (and tag).
pub fn images(store: &ImageStore, filter: Option<&str>) -> Result<Vec<ImageSummary>> {
    let catalog = store.catalog()?;
    let filter = filter.map(Filter::parse).transpose()?;
    let mut rows = Vec::new();
    for (id, entry) in &catalog.images {
        let image = store.read_image(id.clone(), entry.clone())?;
        let created = image.config.created.as_deref().and_then(parse_rfc3339);
        let pulled_from = entry.repo_digests.first().and_then(|d| d.split_once('@'));
        let digest = pulled_from.map_or("<none>".to_string(), |(_, d)| d.to_string());
        let mut names: Vec<(String, String)> = catalog
            .tags_of(id)
            .into_iter()
            .filter_map(|t| t.parse::<Reference>().ok())
            .filter(|r| filter.as_ref().is_none_or(|f| f.matches(r)))
            .map(|r| (r.familiar_name(), r.tag.unwrap_or_default()))
            .collect();
        if names.is_empty() {
            if filter.is_some() {
                continue;
            }
            // Untagged, but pulled by digest: docker shows the repository it came from.
            let repository = pulled_from
                .and_then(|(name, _)| format!("{name}:{DEFAULT_TAG}").parse::<Reference>().ok())
                .map_or("<none>".to_string(), |r| r.familiar_name());
            names.push((repository, "<none>".into()));
        }
        for (repository, tag) in names {
            rows.push(ImageSummary {
                repository,
                tag,
                id: id.clone(),
                digest: digest.clone(),
                created,
                size: entry.size,
            });
        }
    }
    rows.sort_by(|a, b| {
        b.created
            .cmp(&a.created)
            .then_with(|| (&a.repository, &a.tag).cmp(&(&b.repository, &b.tag)))
    });
    Ok(rows)
}

/// `images busybox` lists every tag of busybox; `images busybox:1.36` that one.
struct Filter {
    name: String,
    tag: Option<String>,
}

impl Filter {
    fn parse(text: &str) -> Result<Filter> {
        let reference: Reference = text.parse()?;
        let tagged = text
            .rsplit('/')
            .next()
            .is_some_and(|last| last.contains(':'));
        Ok(Filter {
            name: reference.name(),
            tag: if tagged { reference.tag } else { None },
        })
    }

    fn matches(&self, reference: &Reference) -> bool {
        reference.name() == self.name
            && self
                .tag
                .as_ref()
                .is_none_or(|t| reference.tag.as_ref() == Some(t))
    }
}
