//! `build [OPTIONS] CONTEXT`: `docker build`, with the classic builder's output.
//!
//! ```text
//! Step 2/3 : RUN echo hello > /greeting
//!  ---> Running in 4f2a9c1d7e3b
//! Removing intermediate container 4f2a9c1d7e3b
//!  ---> 9b1c…
//! Successfully built 1e2f3a4b5c6d
//! Successfully tagged app:latest
//! ```
//!
//! The flags become a [`BuildOptions`]; the library sends [`BuildEvent`]s, printed here as
//! docker prints them. `--explain` adds, after each step's cache decision, why.

use std::io::Read;
use std::os::fd::{AsFd, AsRawFd, OwnedFd};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use ch01_namespaces::resolve_env;
use ch04_images::Reference;
use ch04_images::cli::Globals;
use ch04_images::cli::progress::Display;
use ch04_images::store::ImageStore;
use clap::Args;
use dockyard_support::FromIo;

use super::out;
use crate::build::{BuildEvent, BuildOptions, Network, NetworkPlug, build};
use crate::context::Context;
use crate::error::{Error, Result};

/// `build`'s arguments.
#[derive(Debug, Args)]
pub struct BuildArgs {
    /// The Dockerfile (default: CONTEXT/Dockerfile); `-` reads standard input
    #[arg(short = 'f', long = "file", value_name = "FILE")]
    file: Option<PathBuf>,
    /// Name the image NAME[:TAG] (repeatable)
    #[arg(short = 't', long = "tag", value_name = "NAME[:TAG]")]
    tags: Vec<String>,
    /// Set a build argument (NAME alone takes the value from the environment)
    #[arg(long = "build-arg", value_name = "NAME[=VALUE]")]
    build_args: Vec<String>,
    /// Build up to this stage
    #[arg(long, value_name = "STAGE")]
    target: Option<String>,
    /// Do not use the cache
    #[arg(long)]
    no_cache: bool,
    /// Add a label to the image (repeatable)
    #[arg(long = "label", value_name = "KEY=VALUE")]
    labels: Vec<String>,
    /// Print only the image id
    #[arg(short, long)]
    quiet: bool,
    /// Write the image id to this file
    #[arg(long, value_name = "FILE")]
    iidfile: Option<PathBuf>,
    /// The network RUN steps see: default (here the host's, from chapter 06 the bridge), host,
    /// none, or bridge where a later chapter has one
    #[arg(long, value_name = "default|host|none", value_parser = ["default", "host", "none", "bridge"])]
    network: Option<String>,
    /// A secret file for RUN --mount=type=secret: id=ID,src=PATH (repeatable)
    #[arg(long = "secret", value_name = "id=ID,src=PATH")]
    secrets: Vec<String>,
    /// Always pull the base images, even those the store has
    #[arg(long)]
    pull: bool,
    /// The build context: a directory, or `-` for a tar on standard input
    context: PathBuf,
}

impl BuildArgs {
    // ANCHOR: execute
    /// Builds, printing docker's lines; the exit status. `bridge` is the network docker's
    /// `default` means, if the calling chapter has one (chapter 06's); without it, the host's.
    pub fn execute(
        &self,
        globals: &Globals,
        bridge: Option<Arc<dyn NetworkPlug>>,
    ) -> Result<ExitCode> {
        let store = ImageStore::open(&globals.storage.root)?;
        let context = self.context(&store)?;
        let (name, dockerfile) = self.dockerfile(&context)?;
        let options = self.options(name, globals, bridge)?;
        // `-q`: the steps' output goes nowhere, and only the id to stdout.
        let silenced = if self.quiet { Some(silence()?) } else { None };
        let explain = globals.explain;
        let pulls = Display::new();
        let print = |event: BuildEvent| print_event(event, explain, &pulls);
        let storage = globals
            .storage
            .options()
            .map_err(ch04_images::Error::from)?;
        let built = build(&store, &context, &dockerfile, &options, &storage, &print);
        drop(silenced);
        let built = built?;
        if let Some(iidfile) = &self.iidfile {
            std::fs::write(iidfile, built.id.to_string()).map_err(Error::io("write", iidfile))?;
        }
        if self.quiet {
            out(format!("{}\n", built.id))?;
        } else {
            out(format!(
                "Successfully built {}\n",
                &built.id.encoded()[..12]
            ))?;
            for tag in &built.tags {
                out(format!("Successfully tagged {}\n", tag.familiar()))?;
            }
        }
        Ok(ExitCode::SUCCESS)
    }
    // ANCHOR_END: execute

    /// The context: the directory, or the tar on standard input unpacked in the store.
    fn context(&self, store: &ImageStore) -> Result<Context> {
        if self.context.as_os_str() == "-" {
            if self.file.as_deref() == Some(std::path::Path::new("-")) {
                return Err(Error::Build {
                    message:
                        "invalid argument: can't use stdin for both build context and dockerfile"
                            .into(),
                    hint: Some(
                        "give the Dockerfile with -f FILE, or put it in the context tar".into(),
                    ),
                });
            }
            return Context::from_tar(std::io::stdin().lock(), store.temp_path("context"));
        }
        Context::from_dir(&self.context)
    }

    /// The Dockerfile's name for messages, and its bytes: `-f FILE` (from the current
    /// directory), `-f -`, or the context's `Dockerfile`.
    fn dockerfile(&self, context: &Context) -> Result<(String, Vec<u8>)> {
        match &self.file {
            Some(path) if path.as_os_str() == "-" => {
                let mut bytes = Vec::new();
                std::io::stdin()
                    .read_to_end(&mut bytes)
                    .map_err(Error::io_op("read the Dockerfile from standard input"))?;
                Ok(("Dockerfile".into(), bytes))
            }
            Some(path) => {
                let bytes = std::fs::read(path).map_err(Error::io("read the Dockerfile", path))?;
                Ok((path.display().to_string(), bytes))
            }
            None => Ok(("Dockerfile".into(), context.read_file("Dockerfile")?)),
        }
    }

    /// The flags as the library's options.
    fn options(
        &self,
        dockerfile_name: String,
        globals: &Globals,
        bridge: Option<Arc<dyn NetworkPlug>>,
    ) -> Result<BuildOptions> {
        let tags = self
            .tags
            .iter()
            .map(|tag| tag.parse::<Reference>())
            .collect::<std::result::Result<Vec<_>, _>>()?;
        // `--build-arg NAME` takes the value from the environment, or is ignored.
        let build_args = resolve_env(&self.build_args);
        let labels = self
            .labels
            .iter()
            .map(|label| match label.split_once('=') {
                Some((key, value)) => (key.to_owned(), value.to_owned()),
                None => (label.clone(), String::new()),
            })
            .collect();
        let secrets = self
            .secrets
            .iter()
            .map(|secret| parse_secret(secret))
            .collect::<Result<Vec<_>>>()?;
        Ok(BuildOptions {
            dockerfile_name,
            tags,
            build_args,
            target: self.target.clone(),
            no_cache: self.no_cache,
            labels,
            network: network(self.network.as_deref(), bridge)?,
            secrets,
            pull: self.pull,
            insecure_registries: globals.insecure_registries.clone(),
        })
    }
}

/// `--network`: docker's `default` (or `bridge`, its name) is the bridge where the calling
/// chapter has one; without one, `default` is the host's and `bridge` does not exist.
fn network(flag: Option<&str>, bridge: Option<Arc<dyn NetworkPlug>>) -> Result<Network> {
    match (flag, bridge) {
        (Some("none"), _) => Ok(Network::None),
        (Some("host"), _) => Ok(Network::Host),
        (None | Some("default" | "bridge"), Some(bridge)) => Ok(Network::Plugged(bridge)),
        (None | Some("default"), None) => Ok(Network::Host),
        (Some(other), _) => Err(Error::Build {
            message: format!("network {other} not found"),
            hint: Some("give --network default, host or none".into()),
        }),
    }
}

// ANCHOR: print_event
/// One event as the classic `docker build` prints it; a pull's progress as `pull` shows it.
pub fn print_event(event: BuildEvent, explain: bool, pulls: &Display) {
    let line = match &event {
        BuildEvent::Step {
            number,
            total,
            instruction,
        } => format!("Step {number}/{total} : {instruction}"),
        BuildEvent::Triggers { count } => {
            let plural = if *count == 1 { "" } else { "s" };
            format!("# Executing {count} build trigger{plural}")
        }
        BuildEvent::Cached => " ---> Using cache".to_owned(),
        BuildEvent::NotCached(why) if explain => format!(" ---> Not cached: {why}"),
        BuildEvent::NotCached(_) => return,
        BuildEvent::Running { container } => format!(" ---> Running in {container}"),
        BuildEvent::Removed { container } => format!("Removing intermediate container {container}"),
        BuildEvent::Done { id } => format!(" ---> {id}"),
        BuildEvent::Output(bytes) => {
            // A stage built in a worker: what its containers printed, as they printed it.
            let _ = std::io::Write::write_all(&mut std::io::stdout().lock(), bytes);
            return;
        }
        BuildEvent::Pull(progress) => return pulls.show(progress.clone()),
        BuildEvent::Pulled {
            reference,
            digest,
            up_to_date,
        } => {
            let status = if *up_to_date {
                "Image is up to date for"
            } else {
                "Downloaded newer image for"
            };
            format!(
                "Digest: {digest}\nStatus: {status} {}",
                reference.familiar()
            )
        }
    };
    // Best effort, as docker's: a closed stdout does not stop the build.
    let _ = out(format!("{line}\n"));
}
// ANCHOR_END: print_event

/// `id=ID,src=PATH` (or `source=`).
fn parse_secret(text: &str) -> Result<(String, PathBuf)> {
    let mut id = None;
    let mut source = None;
    for field in text.split(',') {
        match field.split_once('=') {
            Some(("id", value)) => id = Some(value.to_owned()),
            Some(("src" | "source", value)) => source = Some(PathBuf::from(value)),
            _ => {}
        }
    }
    match (id, source) {
        (Some(id), Some(source)) => Ok((id, source)),
        _ => Err(Error::Build {
            message: format!("invalid secret {text:?}"),
            hint: Some("write --secret id=ID,src=PATH".into()),
        }),
    }
}

/// Standard output and error pointed at `/dev/null` (the steps' output goes there, as
/// `docker build -q` hides it) until dropped, which puts the real ones back.
struct Silenced {
    saved: [OwnedFd; 2],
}

fn silence() -> Result<Silenced> {
    let save = |fd: std::os::fd::BorrowedFd<'_>| {
        fd.try_clone_to_owned()
            .map_err(Error::io_op("duplicate a standard descriptor"))
    };
    let saved = [
        save(std::io::stdout().as_fd())?,
        save(std::io::stderr().as_fd())?,
    ];
    let null = std::fs::OpenOptions::new()
        .write(true)
        .open("/dev/null")
        .map_err(Error::io("open", "/dev/null"))?;
    for target in [1, 2] {
        // SAFETY: dup2 onto the standard descriptors, which this process owns.
        unsafe { libc::dup2(null.as_raw_fd(), target) };
    }
    Ok(Silenced { saved })
}

impl Drop for Silenced {
    fn drop(&mut self) {
        for (fd, target) in self.saved.iter().zip([1, 2]) {
            // SAFETY: as above, back to the descriptors saved.
            unsafe { libc::dup2(fd.as_raw_fd(), target) };
        }
    }
}
