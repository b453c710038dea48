//! # Building an image from a Dockerfile, one instruction at a time.

pub mod copy;
