//! # Base images from a registry
//!
//! `FROM python:3.12` names an image the store may not have yet. As `docker build` does, the
//! builder then pulls it (chapter 04's [`pull`]), and with `--pull` it pulls every base
//! image whether the store has it or not, so that a tag that moved in the registry is
//! built on as it is now. The images concerned are those of the stages the build needs
//! (see [`super::plan`]): each planned stage's `FROM` image and its `COPY --from=image`s;
//! `scratch` and earlier stages are not images.
//!
//! It is done before the first step, not at each `FROM` as the legacy builder does it:
//! a build that cannot get its images fails before it has done any work, and the pull's
//! threads (chapter 04 downloads three layers at a time) are all gone before the builder
//! enters its mount namespace and clones containers, both of which need a process with
//! one thread.

use ch01_namespaces::Narrator;
use ch04_images::platform::Wanted;
use ch04_images::registry::pull::{PullOptions, pull};
use ch04_images::{Error as ImagesError, ImageStore, Reference};
use dockyard_support::Sink;

use super::plan::Plan;
use super::{BuildEvent, BuildOptions};
use crate::error::Result;
use crate::instructions::Command;
use crate::stages::{Base, Source, Stages};

/// The images the planned stages read, each once, in the order the build meets them.
pub fn images_needed(stages: &Stages, plan: &Plan) -> Vec<String> {
    let mut images: Vec<String> = Vec::new();
    let mut add = |image: String| {
        if !images.contains(&image) {
            images.push(image);
        }
    };
    for &index in &plan.order {
        if let Some(from) = &plan.froms[index]
            && let Base::Image(image) = &from.base
        {
            add(image.clone());
        }
        for instruction in &stages.stages[index].instructions {
            if let Command::Copy(copy) = &instruction.value
                && let Some(from) = &copy.from
                && let Ok(Source::Image(image)) = stages.copy_source(index, from)
            {
                add(image);
            }
        }
    }
    images
}

// ANCHOR: pull_images
/// Pulls each of `images` the store lacks, or each of them with `options.pull`; a pull's
/// progress goes to `events`.
pub fn pull_images(
    store: &ImageStore,
    images: &[String],
    options: &BuildOptions,
    events: &dyn Sink<BuildEvent>,
) -> Result<()> {
    let pull_options = PullOptions {
        platform: Wanted::host(),
        insecure: options.insecure_registries.clone(),
    };
    for image in images {
        // A name that is no reference (an id) cannot be pulled: the step will say it is
        // missing, if it is.
        let Ok(reference) = image.parse::<Reference>() else {
            continue;
        };
        if !options.pull && is_stored(store, image)? {
            continue;
        }
        let progress = |event| events.send(BuildEvent::Pull(event));
        let pulled = pull(
            store,
            &reference,
            &pull_options,
            &Narrator::silent(),
            &progress,
        )?;
        events.send(BuildEvent::Pulled {
            reference: reference.clone(),
            digest: pulled.digest.to_string(),
            up_to_date: pulled.up_to_date,
        });
    }
    Ok(())
}
// ANCHOR_END: pull_images

/// Whether the store has `image` (by name, or by id).
fn is_stored(store: &ImageStore, image: &str) -> Result<bool> {
    match store.find_image(image) {
        Ok(_) => Ok(true),
        Err(ImagesError::NoSuchImage(_)) => Ok(false),
        Err(error) => Err(error.into()),
    }
}
