//! # Chapter 03: layer stacking with a union filesystem

pub mod archive;
pub mod error;

pub use error::{Error, Result};
