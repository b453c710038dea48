//! # `.dockerignore`: what the build context leaves out
//!
//! `docker build DIR` sends the whole of `DIR`, the *build context*, to the builder, because
//! any `COPY` or `ADD` may read from it. The builder is a daemon (possibly on another machine),
//! so every file of the context is transferred, hashed for the build cache, and visible to
//! `COPY . .`. A `.git` directory, `node_modules`, build outputs or a `.env` full of secrets
//! would travel along, slow every build, break the cache whenever they change, and end up in
//! images. The ignore file at the context root, `.dockerignore`, lists what to leave out; the
//! context is filtered while it is walked, so excluded files are never sent at all. (BuildKit
//! first looks for `<Dockerfile>.dockerignore` beside the Dockerfile, so that two Dockerfiles in
//! one context can leave out different things.)
//!
//! ## The file
//!
//! One pattern per line; `#` at the very start of a line makes a comment, blank lines are
//! skipped, whitespace around a pattern is removed, and each pattern is cleaned and made
//! relative to the root ([`parse`], [`read`]):
//!
//! ```text
//! # dependencies and outputs          (comment)
//! node_modules                        node_modules
//! /target/                            target
//! **/*.log                            **/*.log
//!
//! *.md                                *.md
//! ! README.md                         !README.md
//! ```
//!
//! ## The patterns
//!
//! A pattern is a slash-separated path that may hold wildcards, matched against each path of
//! the context (relative to its root: `src/main.rs`):
//!
//! | pattern | matches | does not match |
//! |---|---|---|
//! | `docs` | `docs`, and everything under it | `mydocs`, `src/docs` |
//! | `*.md` | `README.md` | `docs/guide.md` (`*` stays within one element) |
//! | `?.txt` | `a.txt` | `ab.txt`, `x/a.txt` |
//! | `[a-c]*` | `build`, `cache/x` | `dist` |
//! | `**/*.md` | `README.md`, `docs/guide.md` | `README.markdown` |
//! | `docs/**` | everything under `docs` | `docs` itself |
//! | `**/.env` | `.env`, `app/.env` | `x.env` |
//! | `a\*b` | `a*b` (escaped) | `ab` |
//!
//! A pattern that matches a directory excludes everything under it: `docs` matches
//! `docs/api/index.md` through the directory `docs`. That is the parent rule: a path is
//! excluded when a pattern matches it *or any directory above it*.
//!
//! ## Exceptions
//!
//! A pattern that starts with `!` is an exception: it takes back paths that earlier patterns
//! excluded. The patterns are read in order and the last one that matches decides:
//!
//! ```text
//! *.md
//! !README.md          README.md is sent, the other .md files are not
//! ```
//!
//! The subtleties, each checked by the tests:
//!
//! - **Order matters.** An exception only takes back what came before it: `!README.md`
//!   followed by `*.md` excludes `README.md` after all, and a later plain pattern can exclude
//!   again what an exception took back.
//! - **Exceptions reach under excluded directories.** With `docs` and `!docs/README.md`,
//!   `docs/README.md` is sent while `docs` and `docs/other.md` are not. So a builder cannot
//!   simply skip an excluded directory: something under it may come back
//!   ([`PatternMatcher::can_skip_excluded_dir`] says when it may).
//! - **Exceptions use the parent rule too.** `**` then `!util/web` takes back `util/web/foo`.
//! - **A `!` is removed after cleaning.** Patterns given straight to the matcher are cleaned
//!   with their `!`, so `!./foo` keeps `./foo`, which no path equals. (The file reader cleans
//!   after removing the `!`, so in a `.dockerignore` it is `!foo`.)
//! - **A lone `!` is an error**, and so is a pattern Go's globs refuse (`[`, `[]a]`, `[x-]`,
//!   a trailing `\`).
//! - **The walker and the one-shot question can disagree.** With `a/b` then `!a`, asking about
//!   `a/b` in one go finds `!a` matching its parent `a`: kept. A walker that carries each
//!   directory's results finds, at `a`, that `!a` was not tried (nothing was excluded yet), so
//!   at `a/b` it tries `!a` on `a/b` alone: excluded. Docker's builder walks, so `a/b` is left
//!   out of the context.
//!
//! ## Walking a context
//!
//! [`PatternMatcher::matches_or_parent_matches`] answers for one path, trying every directory
//! above it. A builder walking the context tree asks about every entry, so it carries each
//! directory's results down to its children instead
//! ([`PatternMatcher::matches_using_parent_results`], whose documentation shows a walker) and
//! leaves an excluded directory unvisited when [`PatternMatcher::can_skip_excluded_dir`] says
//! no exception can reach under it.
//!
//! ## How a pattern is compiled, and why with the `regex` crate
//!
//! Docker's matcher (moby's `patternmatcher`) translates each pattern into a Go regular
//! expression ([`translate`]) and lets Go's `regexp` decide, except for plain names, prefixes
//! and suffixes, which it compares as strings. Its behaviour in the corners is therefore the
//! behaviour of Go's regexp syntax on that translation: `[!b]` is a class holding `!`, `\d` a
//! digit, `^` an anchor, a reversed range `[z-a]` an error found at the first match. A
//! hand-written glob matcher would have to rediscover each of these one by one. So this module
//! does what moby does, in two visible steps: it writes moby's regexp, character for character
//! (the conformance tests compare it with moby's), then reads that text with Go's syntax rules
//! and writes it for the `regex` crate, which runs the same kind of engine (linear time, no
//! backtracking) but reads a few constructs differently (`go_regexp` has the list). Patterns
//! are compiled once, when the matcher is made.
//!
//! moby's two deprecated forms are left out: `Matches`, which tries only one parent directory,
//! and `MatchesUsingParentResult` with a single flag, which gets exceptions wrong
//! (docker/buildx#850).
//!
//! ## The modules
//!
//! - `file`: the ignore file into patterns ([`parse`], [`read`]);
//! - `pattern`: one pattern, normalised and tested on one path ([`Pattern`]);
//! - `matcher`: the list, the parent rule and the walker's forms ([`PatternMatcher`],
//!   [`MatchInfo`], [`is_excluded`]);
//! - `syntax`: Go's glob syntax check; `translate`: moby's regexp ([`translate`]); `go_regexp`:
//!   that regexp read as Go reads it, for the `regex` crate;
//! - [`path`]: Go's lexical path cleaning; `error`: [`PatternError`], [`ReadError`].

mod error;
mod file;
mod go_regexp;
mod matcher;
pub mod path;
mod pattern;
mod syntax;
mod translate;

pub use error::{PatternError, ReadError, SyntaxProblem};
pub use file::{MAX_LINE, parse, read};
pub use matcher::{MatchInfo, PatternMatcher, is_excluded};
pub use pattern::Pattern;
pub use translate::{Translation, translate};
