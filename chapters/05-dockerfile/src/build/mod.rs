//! # Building: from a Dockerfile and a context to an image
//!
//! A build is a loop over instructions, each turning the image so far into the next one:
//!
//! ```text
//!  FROM base ──▶ state: base's config and layers, cache key = base's id
//!    │
//!    ├─ ENV, LABEL, CMD, USER, WORKDIR…  edit the config: a history entry, no layer
//!    ├─ RUN    a chapter 04 container on the layers so far; its changes (chapter 03's
//!    │         diff of its writable layer) become the next layer
//!    ├─ COPY   a container's root filesystem, mounted but not run; the files copied in;
//!    │         its changes become the next layer
//!    ▼
//!  the last state of the target stage ──▶ stored as an image, named by -t
//! ```
//!
//! Before doing a step the builder computes its cache key (see [`crate::cache`]); a key the
//! cache knows means the step's result is already in the store, and the step is skipped.
//!
//! - [`plan`]: which stages the target needs, in the order they build;
//! - [`pull`]: their base images, pulled from a registry when the store lacks them;
//! - [`state`]: one stage's image so far, and the variables its words expand with;
//! - [`steps`]: what each instruction does (config edits, RUN, COPY), one file each;
//! - [`workspace`]: a container's root filesystem to copy into, or read from;
//! - [`copy`]: `COPY` and `ADD`'s rules: sources, destinations, owners, what is kept;
//! - [`download`]: `ADD https://…`'s file, fetched;
//! - [`history`]: the `created_by` strings docker writes, which are also the cache's
//!   description of each step;
//! - [`namespace`]: the builder's private mount namespace, so its mounts never outlive it;
//! - [`workers`]: stages that do not need each other, built at the same time in worker
//!   processes.

pub mod copy;
pub mod download;
pub mod history;
pub mod namespace;
pub mod plan;
pub mod pull;
pub mod state;
pub mod steps;
pub mod workers;
pub mod workspace;

use std::path::PathBuf;
use std::sync::Arc;

use ch01_namespaces::{ContainerId, Narrator, Step};
use ch03_union_fs::StorageOptions;
use ch04_images::registry::pull::PullEvent;
use ch04_images::store::Access;
use ch04_images::{Digest, ImageStore, Reference};
use dockyard_support::Sink;

use crate::cache::{Cache, Miss};
use crate::context::Context;
use crate::error::Result;
use crate::parser;
use crate::stages::Stages;
use plan::Plan;
use steps::Builder;

// ANCHOR: options
/// What `docker build`'s flags say, as plain values.
#[derive(Debug, Clone, Default)]
pub struct BuildOptions {
    /// The Dockerfile's name, for messages (`Dockerfile`, as for one read from standard input,
    /// or the path given with `-f`).
    pub dockerfile_name: String,
    /// Names for the image (`-t`).
    pub tags: Vec<Reference>,
    /// `--build-arg NAME=VALUE`, in order (the last one of a name wins).
    pub build_args: Vec<(String, String)>,
    /// `--target`: the stage to stop at (default: the last).
    pub target: Option<String>,
    /// `--no-cache`: run every step.
    pub no_cache: bool,
    /// `--label`: labels added to the final image.
    pub labels: Vec<(String, String)>,
    /// `--network`: `RUN` on the host's network (the default), on none, or on a network a
    /// later chapter plugs in.
    pub network: Network,
    /// `--secret id=ID,src=PATH`: files a `RUN --mount=type=secret` may read.
    pub secrets: Vec<(String, PathBuf)>,
    /// `--pull`: pull every base image, even one the store has.
    pub pull: bool,
    /// Registries that may be spoken to over plain HTTP (`--insecure-registry`), for pulls.
    pub insecure_registries: Vec<String>,
}

/// The network a `RUN` step sees.
#[derive(Debug, Clone, Default)]
pub enum Network {
    /// The host's (`--network host`): the default here, since this chapter has no networks.
    #[default]
    Host,
    /// A network namespace holding only `lo` (`--network none`).
    None,
    /// A network of a later chapter's, which every `RUN` container joins through that
    /// chapter's step (chapter 06: its default bridge, docker's `--network default`).
    Plugged(Arc<dyn NetworkPlug>),
}

/// How a later chapter plugs a `RUN` container into a network of its own, without this
/// chapter knowing what a network is: a chapter 01 [`Step`], which the container runs
/// between `clone` and its release (as a container of `run` joins its network) and which
/// undoes its work when the container ended.
pub trait NetworkPlug: std::fmt::Debug + Send + Sync {
    /// The network's name (`bridge`).
    fn name(&self) -> &str;

    /// The step that plugs the container `container` in.
    fn step(&self, container: &ContainerId) -> Box<dyn Step>;
}

impl PartialEq for Network {
    fn eq(&self, other: &Network) -> bool {
        match (self, other) {
            (Network::Host, Network::Host) | (Network::None, Network::None) => true,
            (Network::Plugged(a), Network::Plugged(b)) => a.name() == b.name(),
            _ => false,
        }
    }
}
// ANCHOR_END: options

// ANCHOR: events
/// What happens during a build, in the order `docker build` prints it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum BuildEvent {
    /// A step starts: `Step 2/7 : RUN make`.
    Step {
        /// Its number, from 1.
        number: usize,
        /// How many steps the build has.
        total: usize,
        /// The instruction as written.
        instruction: String,
    },
    /// The base image has `ONBUILD` triggers, run now.
    Triggers {
        /// How many.
        count: usize,
    },
    /// The step's result came from the cache.
    Cached,
    /// The step was not in the cache, and why.
    NotCached(Miss),
    /// A container runs the step: ` ---> Running in 4f2a…`.
    Running {
        /// Its short id.
        container: String,
    },
    /// The step's container is gone.
    Removed {
        /// Its short id.
        container: String,
    },
    /// The step is done: ` ---> <its id>` (the first 12 hex digits of its cache key).
    Done {
        /// The step's short id.
        id: String,
    },
    /// What the containers of a stage built in a worker process printed (see
    /// [`workers`]); a stage built in the builder's own process prints straight to its
    /// standard output and error.
    Output(Vec<u8>),
    /// A base image is being pulled: chapter 04's pull progress.
    #[serde(skip)]
    Pull(PullEvent),
    /// A base image was pulled (or found up to date in the registry).
    #[serde(skip)]
    Pulled {
        /// The image.
        reference: Reference,
        /// The registry's digest for it.
        digest: String,
        /// Whether the store had it already.
        up_to_date: bool,
    },
}
// ANCHOR_END: events

/// What a build made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Built {
    /// The image's id.
    pub id: Digest,
    /// The names it got.
    pub tags: Vec<Reference>,
}

// ANCHOR: build
/// Builds `dockerfile` (its bytes) with `context`, as `docker build` does, and stores the
/// image of the target stage, named by `options.tags`. Must be called from a single-threaded
/// process: the builder moves into a mount namespace of its own, and clones containers.
pub fn build(
    store: &ImageStore,
    context: &Context,
    dockerfile: &[u8],
    options: &BuildOptions,
    storage: &StorageOptions,
    events: &dyn Sink<BuildEvent>,
) -> Result<Built> {
    let file = options.dockerfile_name.as_str();
    let parsed = parser::parse(file, dockerfile)?;
    let stages = Stages::new(file, &parsed)?;
    let plan = Plan::new(file, &stages, options)?;
    // Before the namespace: a pull's threads are gone when it returns (see `pull`).
    pull::pull_images(store, &pull::images_needed(&stages, &plan), options, events)?;
    namespace::wait_for_one_thread()?;
    namespace::enter_private()?;
    // Held to the end: the collector of unused layers waits, so it cannot take the layers
    // this build made before an image names them.
    let _adding = store.lock(Access::Add)?;
    let mut builder = Builder {
        store,
        context,
        options,
        storage,
        events,
        file,
        stages: &stages,
        plan: &plan,
        cache: Cache::open(store.root())?,
        built: Vec::new(),
        narrator: Narrator::silent(),
        step: 0,
        in_triggers: false,
    };
    workspace::sweep(store)?;
    let state = builder.build_planned()?;
    let id = state.store_image(store, &options.labels, &options.tags)?;
    Ok(Built {
        id,
        tags: options.tags.clone(),
    })
}
// ANCHOR_END: build
