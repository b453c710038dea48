//! # What every chapter shares that is not a container concept
//!
//! The chapters teach namespaces, cgroups, layers and images; around those concepts every
//! chapter also needs the same plumbing, and a builder, a monitor and a daemon will need it
//! too. It lives here, in one place, rather than in whichever chapter happened to need it
//! first:
//!
//! - [`error`]: what kind of failure an error is ([`ErrorKind`]), from which a command line
//!   derives Docker's exit status and a daemon its HTTP status; the I/O error every chapter
//!   reports ([`IoError`]);
//! - [`events`]: [`Sink`], where a library sends what happens while it works (a pull's
//!   progress, a removal's steps) instead of printing it;
//! - [`cli`]: how every chapter's tool reports an error and exits, as `docker` does;
//! - [`format`]: sizes, durations and tables as `docker` prints them;
//! - [`clock`]: now, and the RFC 3339 timestamps of image configs;
//! - [`process`]: whether a process still exists.

pub mod cli;
pub mod clock;
pub mod error;
pub mod events;
pub mod format;
pub mod process;

pub use error::{EngineError, ErrorKind, FromIo, IoError};
pub use events::Sink;
