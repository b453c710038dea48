//! # Compose: a multi-container application from one file
//!
//! `docker compose up` reads a `compose.yaml` and makes what it describes: networks, volumes,
//! and containers started in dependency order. This module follows the Compose Specification
//! as Docker Compose v2 (compose-go) implements it, in the same pipeline (compose-go's
//! `parsing.md`):
//!
//! ```text
//! YAML ──parse──▶ tree ──interpolate ${VAR}──▶ tree ──validate──▶ extends, include, merge -f files
//!      ──▶ canonical long syntax ──▶ resolved paths ──▶ the model ──▶ networks, volumes, containers
//! ```
//!
//! The parts so far:
//!
//! - [`yaml`]: the file's text to a plain tree (anchors, merge keys, `!reset`/`!override`).
//! - [`interpolate`]: `${VAR}`, `${VAR:-default}` and the other substitutions, in one string
//!   or in every string of a parsed tree.
//! - [`dotenv`]: the `.env` file format, whose values feed the substitutions.
//! - [`schema`]: the keys the specification allows, checked in each file.
//! - [`merge`]: several `-f` files laid over each other (`!reset`, `!override`).
//! - [`include`](mod@include): other Compose applications loaded as projects of their own and added;
//!   [`extends`]: a service built on another one, of the same file or another.
//! - [`depends_on`]: the dependency graph, its checks and the start order.
//! - [`normalize`]: each service and top-level resource in the canonical long form that
//!   `docker compose config --format json` prints, with [`short_syntax`] (ports, mounts,
//!   hosts, devices written as one string), [`units`] (durations, byte sizes) and
//!   [`env_files`] (a service's `env_file`s and `label_file`s read).
//! - [`project`]: the whole pipeline: environment, files, name, profiles: a [`Project`].
//!
//! Then from the model to containers, through an [`engine::Engine`]:
//!
//! - [`service`]: a service's tree read into types; [`convert`]: a service to a container's
//!   create options, with Compose's [`labels`].
//! - [`up`]: the convergence of the engine's containers to the model, in dependency order;
//!   [`down`]: its undoing; [`act`]: start, stop, restart, kill, pause, rm of what exists;
//!   [`run`]: a one-off container of a service; [`images`]: build, pull, push.
//! - [`waves`]: stops in dependency order, a wave of containers at a time.
//! - [`events`]: what they report as they go.

pub mod act;
pub mod cast;
pub mod context;
pub mod convert;
pub mod depends_on;
pub mod dotenv;
pub mod down;
pub mod engine;
pub mod env_files;
pub mod error;
pub mod events;
pub mod extends;
pub mod images;
pub mod include;
pub mod interpolate;
pub mod labels;
pub mod merge;
pub mod normalize;
pub mod project;
pub mod run;
pub mod schema;
pub mod service;
pub mod short_syntax;
pub mod units;
pub mod up;
pub mod waves;
pub mod yaml;

pub use error::ComposeError;
pub use project::{LoadOptions, Project, load};
