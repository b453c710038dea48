//! One stage's image so far: the config being edited, the layers stacked, the cache key of
//! the last step, and the build arguments in scope.
//!
//! Variables in a stage come from two places: the image's `ENV` (inherited from the base,
//! kept in the image) and the stage's `ARG`s (declared in the stage, valued by
//! `--build-arg` or their default, visible to the stage's instructions and `RUN`s but not
//! kept in the image). Where both name a variable, `ENV` wins, as in docker.

use std::collections::BTreeMap;
use std::path::PathBuf;

use ch04_images::create::store_config;
use ch04_images::oci::{ContainerConfig, Descriptor, History, ImageConfig};
use ch04_images::platform::Wanted;
use ch04_images::store::chain_ids;
use ch04_images::{Digest, Image, ImageStore, Reference};

use crate::cache::CachedLayer;
use crate::error::Result;
use crate::shell::Env;

/// The `PATH` a container gets when its image sets none, as docker's builder sets it.
pub const DEFAULT_PATH: &str = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/// A stage's image so far.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct StageState {
    /// The image config being built: the base's, edited step by step.
    pub config: ImageConfig,
    /// The layers, bottom first, as a manifest lists them.
    pub layers: Vec<Descriptor>,
    /// Bytes of uncompressed layers.
    pub size: u64,
    /// The cache key of the last step (the base's id for `FROM`).
    pub key: String,
    /// Whether the last step was taken from the cache.
    pub hit: bool,
    /// The stage's build arguments, in declaration order: a value, or declared but unset.
    pub args: Vec<(String, Option<String>)>,
    /// Whether this stage set `CMD` (an `ENTRYPOINT` resets only an inherited one).
    pub cmd_set: bool,
}

impl StageState {
    /// The state after `FROM image`.
    pub fn from_image(image: &Image) -> StageState {
        let mut config = image.config.clone();
        config.config.get_or_insert_with(ContainerConfig::default);
        StageState {
            config,
            layers: image.manifest.layers.clone(),
            size: image.entry.size,
            key: image.id.encoded().to_owned(),
            hit: true,
            args: Vec::new(),
            cmd_set: false,
        }
    }

    /// The state after `FROM scratch`: no layer, and docker's default `PATH`.
    pub fn scratch() -> StageState {
        StageState {
            // docker's builder writes an empty user and directory rather than none.
            config: Wanted::host().empty_config(ContainerConfig {
                env: vec![DEFAULT_PATH.to_owned()],
                user: Some(String::new()),
                working_dir: Some(String::new()),
                ..ContainerConfig::default()
            }),
            layers: Vec::new(),
            size: 0,
            key: "scratch".into(),
            hit: true,
            args: Vec::new(),
            cmd_set: false,
        }
    }

    /// The container config, to read or edit.
    pub fn run_config(&mut self) -> &mut ContainerConfig {
        self.config
            .config
            .get_or_insert_with(ContainerConfig::default)
    }

    /// The container config, to read.
    pub fn run_config_ref(&self) -> ContainerConfig {
        self.config.config.clone().unwrap_or_default()
    }

    /// The image's environment as pairs.
    pub fn env_pairs(&self) -> Vec<(String, String)> {
        self.run_config_ref()
            .env
            .iter()
            .map(|entry| match entry.split_once('=') {
                Some((name, value)) => (name.to_owned(), value.to_owned()),
                None => (entry.clone(), String::new()),
            })
            .collect()
    }

    /// The build arguments that have a value.
    pub fn valued_args(&self) -> Vec<(String, String)> {
        self.args
            .iter()
            .filter_map(|(name, value)| value.clone().map(|value| (name.clone(), value)))
            .collect()
    }

    /// What the stage's words expand with: its arguments, then its environment over them.
    pub fn expansion_env(&self) -> Env {
        let args = self.valued_args().into_iter();
        Env::new(
            args.chain(self.env_pairs())
                .map(|(name, value)| format!("{name}={value}")),
        )
    }

    /// Sets an environment variable, replacing an earlier value in place.
    pub fn set_env(&mut self, name: &str, value: &str) {
        let entry = format!("{name}={value}");
        let env = &mut self.run_config().env;
        match env
            .iter_mut()
            .find(|existing| existing.split_once('=').map(|(n, _)| n) == Some(name))
        {
            Some(existing) => *existing = entry,
            None => env.push(entry),
        }
    }

    /// The chain ids of the layers, bottom first.
    pub fn chain_ids(&self) -> Vec<Digest> {
        chain_ids(&self.config.rootfs.diff_ids)
    }

    /// The layers' directories in the store, bottom first.
    pub fn layer_dirs(&self, store: &ImageStore) -> Vec<PathBuf> {
        self.chain_ids()
            .iter()
            .map(|chain| store.layer_dir(chain))
            .collect()
    }

    /// Adds a history entry; the image's time is its last entry's.
    pub fn push_history(&mut self, created_by: String, created: &str, empty_layer: bool) {
        self.config.created = Some(created.to_owned());
        // After a MAINTAINER, docker names the author in every entry.
        let author = self.config.author.clone();
        self.config.history.push(History {
            created: Some(created.to_owned()),
            created_by: Some(created_by),
            author,
            empty_layer,
            ..History::default()
        });
    }

    /// Stacks a layer a step made.
    pub fn push_layer(&mut self, layer: &CachedLayer) {
        self.config.rootfs.diff_ids.push(layer.diff_id.clone());
        self.layers.push(layer.descriptor.clone());
        self.size += layer.size;
    }

    /// Stores the state as an image, with `labels` added (`--label`) and named `tags`.
    pub fn store_image(
        &self,
        store: &ImageStore,
        labels: &[(String, String)],
        tags: &[Reference],
    ) -> Result<Digest> {
        let mut config = self.config.clone();
        if !labels.is_empty() {
            let run_config = config.config.get_or_insert_with(ContainerConfig::default);
            let added: BTreeMap<String, String> = labels.iter().cloned().collect();
            run_config.labels.extend(added);
        }
        Ok(store_config(
            store,
            &config,
            self.layers.clone(),
            self.size,
            tags,
        )?)
    }
}
