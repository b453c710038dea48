//! # Chapter 05: Dockerfiles
//!
//! A Dockerfile looks like a list of commands, but it is a small language: lines with their own
//! rules (continuations with a changeable escape character, comments inside continued lines,
//! heredocs), two forms for a command (shell and JSON), parser directives at the top, and a
//! shell-like word expansion (`$VAR`, `${VAR:-default}`, quotes) that the builder applies
//! instruction by instruction. This chapter reads one exactly as Docker's BuildKit reads it,
//! then (part two) builds it: every `RUN` a chapter 04 container over the layers so far, its
//! changes the next layer.
//!
//! ## The modules
//!
//! - [`parser`]: the file as BuildKit's parser reads it: directives, continuation lines,
//!   heredocs, each instruction's keyword, flags and arguments, unexpanded; and BuildKit's
//!   dump of it;
//! - [`instructions`]: each node typed (`COPY`'s sources, destination and flags,
//!   `HEALTHCHECK`'s durations…) and checked as BuildKit checks it;
//! - [`stages`]: the typed instructions grouped into stages, the `ARG`s before the first
//!   `FROM`, how one stage names another, and the `FROM` lines expanded;
//! - [`check`]: the build checks of `docker build --check` (`JSONArgsRecommended`,
//!   `UndefinedVar`…), with BuildKit's names and messages;
//! - [`shell`]: word expansion, what a builder does to an instruction's arguments (quotes,
//!   escapes, `$VAR`, `${VAR:-default}`…), as BuildKit's lexer does it;
//! - [`dockerignore`]: the build context's ignore file, read and matched as Docker does;
//! - [`context`]: the build context, a directory or a tar unpacked safely, and what its
//!   `.dockerignore` hides;
//! - [`build`]: the build itself: the stage loop, one module per kind of instruction, `RUN`
//!   as a chapter 04 container and `COPY` into a mounted root filesystem;
//! - [`cache`]: cache keys, the store's record of what each step made, and why a step missed;
//! - [`cli`]: the command line (`parse [--dump | --check]`, and chapter 04's commands);
//! - [`Error`]: what can go wrong, with the line it is on.

pub mod build;
pub mod cache;
pub mod check;
pub mod cli;
pub mod context;
pub mod dockerignore;
mod error;
pub mod instructions;
pub mod parser;
pub mod shell;
pub mod stages;

pub use error::{Error, Result};
