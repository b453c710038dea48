//! `COPY` and `ADD`: files from the context (or another stage, or an image) into a
//! container's root filesystem, mounted but not run; its changes become the layer.
//!
//! The cache cannot know from the instruction alone whether the files changed, so the step's
//! inputs include a digest of every file it takes (content, mode, owner, link target; never
//! the time): change one file and this step, and the ones after it, run again.
//!
//! A URL source of `ADD` is downloaded before the cache is asked, as docker does on every
//! build: its content's digest is the input. With `--checksum` the checksum is that digest
//! already, so it is the input, and the file is downloaded only when the step runs.

use std::collections::BTreeMap;

use super::{Builder, StepInputs};
use crate::build::copy::{self as copier, CopyInstruction, Source, SourceDigest, hash, url};
use crate::build::download::Download;
use crate::build::history;
use crate::build::state::StageState;
use crate::build::workspace::{Workspace, layers_or_empty};
use crate::error::Result;
use crate::instructions::{Add, Chmod, Copy, Instruction, InstructionError, Sources, Word};
use crate::shell::Lexer;

/// What `COPY` and `ADD` have in common.
#[derive(Debug)]
pub struct CopyStep<'i> {
    /// `COPY` or `ADD`.
    pub keyword: &'static str,
    /// The sources and the destination, unexpanded.
    pub sources: &'i Sources,
    /// `--from`.
    pub from: Option<&'i str>,
    /// `--chown`, unexpanded.
    pub chown: Option<&'i str>,
    /// `--chmod`.
    pub chmod: Option<&'i Word<Chmod>>,
    /// `ADD`: extract local archives.
    pub add: bool,
    /// `ADD --checksum`, unexpanded.
    pub checksum: Option<&'i str>,
    /// A flag of BuildKit's labs syntax this builder refuses (`--parents`, `--exclude`)
    /// rather than ignore.
    pub unsupported: Option<&'static str>,
}

impl<'i> CopyStep<'i> {
    /// A `COPY`.
    pub fn copy(copy: &'i Copy) -> CopyStep<'i> {
        CopyStep {
            keyword: "COPY",
            sources: &copy.sources,
            from: copy.from.as_deref(),
            chown: copy.chown.as_deref(),
            chmod: copy.chmod.as_ref(),
            add: false,
            checksum: None,
            unsupported: if copy.parents {
                Some("--parents")
            } else if !copy.exclude.is_empty() {
                Some("--exclude")
            } else {
                None
            },
        }
    }

    /// An `ADD`.
    pub fn add(add: &'i Add) -> CopyStep<'i> {
        CopyStep {
            keyword: "ADD",
            sources: &add.sources,
            from: None,
            chown: add.chown.as_deref(),
            chmod: add.chmod.as_ref(),
            add: true,
            checksum: add.checksum.as_deref(),
            unsupported: (!add.exclude.is_empty()).then_some("--exclude"),
        }
    }
}

impl Builder<'_> {
    // ANCHOR: copy
    /// `COPY` or `ADD` in stage `stage`.
    pub fn copy(
        &mut self,
        stage: usize,
        state: &mut StageState,
        step: &CopyStep<'_>,
        instruction: &Instruction,
    ) -> Result<()> {
        if let Some(flag) = step.unsupported {
            let refused = InstructionError::new(format!(
                "{} {flag} is not supported by this builder",
                step.keyword
            ))
            .with_hint("it belongs to BuildKit's labs syntax; copy the files you want by name");
            return Err(instruction.error(self.file, refused));
        }
        let mut request = self
            .expand_copy(state, step)
            .map_err(|error| instruction.error(self.file, error))?;
        let checksum = match step.checksum {
            None => None,
            Some(text) => {
                let text = self
                    .lexer()
                    .process_word(text, &state.expansion_env())
                    .map_err(|error| instruction.error(self.file, error.into()))?;
                url::check_checksum_sources(&request.sources)?;
                Some(url::parse_checksum(&text)?)
            }
        };
        // URL sources: downloaded now (their digests are the cache's inputs), unless
        // `--checksum` already says what they hold.
        let (urls, paths) = url::split_sources(&request);
        let mut downloads = Vec::new();
        let mut url_digests = Vec::new();
        for url in &urls {
            match &checksum {
                Some(checksum) => url_digests.push((url.clone(), checksum.clone())),
                None => {
                    let (download, fetched) = self.fetch_url(url, &request.destination, None)?;
                    url_digests.push((url.clone(), download.digest.clone()));
                    request.fetched.push(fetched);
                    downloads.push(download);
                }
            }
        }
        // A `--from` stage or image is read through a mount of its own root filesystem.
        let from_root = match step.from {
            None => None,
            Some(from) => Some(self.mount_other(stage, from, instruction)?),
        };
        let from_path = from_root.as_ref().map(Workspace::root);
        let source = match &from_path {
            None => Source::Context(self.context),
            Some(root) => Source::Root(root),
        };
        let local = CopyInstruction {
            sources: paths,
            ..request.clone()
        };
        let digest = copier::hash_sources(&source, &local)?;
        let mut reads: BTreeMap<String, String> = digest
            .files
            .iter()
            .map(|(path, digest)| (format!("file:{path}"), digest.clone()))
            .collect();
        reads.extend(
            url_digests
                .iter()
                .map(|(url, digest)| (format!("url:{url}"), digest.clone())),
        );
        let summary = url_summary(&local, &digest, &url_digests);
        let shell = Builder::shell(state);
        let created_by = history::copy(
            &shell,
            step.keyword,
            request.chown.as_deref(),
            &summary,
            &request.destination,
        );
        // For the cache, the step is its words; the files' digests are inputs of their own,
        // so that --explain can name the file that changed.
        let words = request.sources.join(" ");
        let instruction = history::copy(
            &shell,
            step.keyword,
            request.chown.as_deref(),
            &words,
            &request.destination,
        );
        let inputs = StepInputs {
            instruction,
            created_by,
            reads,
        };
        self.layer_step(state, inputs, |builder, state| {
            // With `--checksum` the download happens now, checked before anything is written.
            let mut request = request;
            let mut downloads = downloads;
            if let Some(checksum) = &checksum {
                for url in &urls {
                    let (download, fetched) =
                        builder.fetch_url(url, &request.destination, Some(checksum))?;
                    request.fetched.push(fetched);
                    downloads.push(download);
                }
            }
            let layers = layers_or_empty(builder.store, state)?;
            let workspace = Workspace::create(
                builder.store,
                layers,
                builder.storage,
                step.keyword,
                &builder.narrator,
            )?;
            copier::copy(&source, &request, &workspace.root())?;
            let parent = state.chain_ids().last().cloned();
            let what = format!("the files of {} {}", step.keyword, request.destination);
            let layer = workspace.commit(parent, what, &builder.narrator);
            drop(downloads); // the temporary files, now copied
            layer
        })
    }
    // ANCHOR_END: copy

    /// Downloads a URL source into the store's temporary directory.
    fn fetch_url(
        &self,
        url: &str,
        destination: &str,
        checksum: Option<&str>,
    ) -> Result<(Download, url::Fetched)> {
        let path = self.store.temp_path("add-url");
        Ok(url::fetch(url, &path, destination, checksum)?)
    }

    /// The instruction's words expanded with the stage's variables.
    fn expand_copy(
        &self,
        state: &StageState,
        step: &CopyStep<'_>,
    ) -> std::result::Result<CopyInstruction, InstructionError> {
        let lexer = self.lexer();
        let env = state.expansion_env();
        let word = |text: &str| lexer.process_word(text, &env);
        let sources = step
            .sources
            .paths
            .iter()
            .map(|path| word(path))
            .collect::<Result<Vec<_>, _>>()?;
        let body_lexer = Lexer {
            ignore_quotes: true,
            ..lexer
        };
        let inline = step
            .sources
            .inline
            .iter()
            .map(|file| {
                let content = if file.expand {
                    body_lexer.process_word(&file.content, &env)?
                } else {
                    file.content.clone()
                };
                Ok((file.name.clone(), content.into_bytes()))
            })
            .collect::<Result<Vec<_>, InstructionError>>()?;
        let chmod = match step.chmod {
            None => None,
            Some(chmod) => Some(chmod.resolve(word, Chmod::parse)?),
        };
        Ok(CopyInstruction {
            sources,
            inline,
            destination: word(&step.sources.destination)?,
            workdir: state
                .run_config_ref()
                .working_dir
                .filter(|dir| !dir.is_empty())
                .unwrap_or_else(|| "/".to_owned()),
            chown: step.chown.map(word).transpose()?,
            chmod,
            add: step.add,
            fetched: Vec::new(),
        })
    }
}

/// The `created_by` form of the sources: docker writes a lone URL's digest bare (no `file:`,
/// unlike a local file's), and `multi:` for a URL among other sources.
fn url_summary(
    local: &CopyInstruction,
    digest: &SourceDigest,
    urls: &[(String, String)],
) -> String {
    let hex = |digest: &str| digest.trim_start_matches("sha256:").to_owned();
    match urls {
        [] => digest.summary.clone(),
        [(_, only)] if local.sources.is_empty() && local.inline.is_empty() => hex(only),
        _ => {
            let mut all = digest.files.clone();
            all.extend(urls.iter().cloned());
            format!("multi:{}", hex(&hash::hash_list(&all)))
        }
    }
}
