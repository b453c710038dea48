//! `ch04-images`: chapter 03's containers, made from images; docker's image commands over a
//! local store.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use ch01_namespaces::Narrator;
use ch01_namespaces::cli::{ProcessOptions, exit_status, narrator, parse_or_exit, report};
use ch02_cgroups::cli::LimitArgs;
use ch03_union_fs::cli::{ContainerArgs, StorageArgs};
use ch03_union_fs::commands::{self as container_commands, Origin, PsArgs};
use ch03_union_fs::run::RunRequest;
use ch04_images::commands::{self, ImagesArgs};
use ch04_images::create;
use ch04_images::credentials::{self, Credentials};
use ch04_images::platform::Wanted;
use ch04_images::reference::DEFAULT_REGISTRY;
use ch04_images::registry::{self, pull::PullOptions, push::PushOptions};
use ch04_images::run::{self, Overrides};
use ch04_images::save::Format;
use ch04_images::{Error, ImageStore, Reference};
use clap::{Args, Parser, Subcommand};

const PROGRAM: &str = "ch04-images";

#[derive(Debug, Parser)]
#[command(name = PROGRAM, version, about = "Dockyard chapter 04: containers from OCI images")]
struct Cli {
    /// Narrate every kernel-visible step on stderr
    #[arg(long, global = true)]
    explain: bool,

    #[command(flatten)]
    storage: StorageArgs,

    /// A registry that may be spoken to over plain HTTP (loopback registries always may)
    #[arg(long = "insecure-registry", global = true, value_name = "HOST[:PORT]")]
    insecure_registries: Vec<String>,

    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run a command in a new container made from an image
    Run(Box<RunArgs>),
    /// Download an image from a registry
    Pull {
        /// The platform to choose from a multi-platform image: os/arch[/variant]
        #[arg(long, value_name = "OS/ARCH")]
        platform: Option<String>,
        /// The image: NAME[:TAG] or NAME@DIGEST
        reference: String,
    },
    /// Upload an image to a registry
    Push {
        /// Upload blobs larger than this many bytes in chunks of that size
        #[arg(long, value_name = "BYTES", default_value_t = registry::push::DEFAULT_CHUNK)]
        chunk_size: u64,
        /// The image: NAME[:TAG], named after the registry (e.g. localhost:5000/app:v1)
        reference: String,
    },
    /// Log in to a registry (Docker Hub by default); credentials go to $DOCKER_CONFIG/config.json
    Login {
        /// User name
        #[arg(short, long)]
        username: Option<String>,
        /// Password (prefer --password-stdin: a command line is visible to other users)
        #[arg(short, long)]
        password: Option<String>,
        /// Read the password from stdin
        #[arg(long)]
        password_stdin: bool,
        /// The registry
        server: Option<String>,
    },
    /// Log out from a registry
    Logout {
        /// The registry
        server: Option<String>,
    },
    /// Load images from a `docker save` archive or an OCI image layout (directory or tar)
    Load {
        /// The archive or layout to read
        #[arg(short, long, value_name = "FILE")]
        input: PathBuf,
    },
    /// Save images to a `docker save` archive (the default) or an OCI image layout tar
    Save {
        /// The archive to write (default: stdout, if it is not a terminal)
        #[arg(short, long, value_name = "FILE")]
        output: Option<PathBuf>,
        /// The archive's format
        #[arg(long, value_enum, default_value_t = Format::Docker)]
        format: Format,
        /// Image names or ids
        #[arg(required = true)]
        images: Vec<String>,
    },
    /// Make a one-layer image from a root filesystem archive (tar, tar.gz or tar.zst)
    Import {
        /// The archive
        file: PathBuf,
        /// The new image's name, NAME[:TAG]
        reference: Option<String>,
    },
    /// List images
    Images(ImagesArgs),
    /// Give an image another name
    Tag {
        /// The image: name or id
        source: String,
        /// The new name, NAME[:TAG]
        target: String,
    },
    /// Remove image names, and images left without one
    Rmi {
        /// Remove even if containers use the image
        #[arg(short, long)]
        force: bool,
        /// Image names or ids
        #[arg(required = true)]
        images: Vec<String>,
    },
    /// Show images' details as JSON
    Inspect {
        /// Image names or ids
        #[arg(required = true)]
        images: Vec<String>,
    },
    /// Show the steps an image was made in
    History {
        /// Don't truncate output
        #[arg(long)]
        no_trunc: bool,
        /// Image name or id
        image: String,
    },
    /// List containers
    Ps(PsArgs),
    /// Show the files a container added (A), changed (C) and deleted (D)
    Diff {
        /// Container name or id
        container: String,
    },
    /// Make a new image from a container's changes (or, with -o, write them as a layer archive)
    Commit {
        /// Container name or id
        container: String,
        /// The new image's name, NAME[:TAG]
        #[arg(conflicts_with = "output")]
        reference: Option<String>,
        /// Write just the layer, as an OCI layer archive, to this file ("-" for stdout)
        #[arg(short, long, value_name = "FILE")]
        output: Option<PathBuf>,
    },
    /// Remove containers and their writable layers
    Rm {
        /// Container names or ids
        #[arg(required = true)]
        containers: Vec<String>,
    },
}

#[derive(Debug, Args)]
struct RunArgs {
    #[command(flatten)]
    container: ContainerArgs,

    /// Overwrite the image's entrypoint ("" clears it)
    #[arg(long, value_name = "COMMAND")]
    entrypoint: Option<String>,

    #[command(flatten)]
    limits: LimitArgs,

    #[command(flatten)]
    process: ProcessOptions,

    /// The image: name or id
    image: String,

    /// The command and its arguments, instead of the image's Cmd
    #[arg(
        trailing_var_arg = true,
        allow_hyphen_values = true,
        value_name = "CMD"
    )]
    command: Vec<String>,
}

fn main() -> ExitCode {
    let cli: Cli = parse_or_exit();
    let result = (|| {
        let n = narrator(cli.explain)?;
        let store = ImageStore::open(&cli.storage.root)?;
        let containers = store.containers();
        match &cli.command {
            Command::Run(args) => run(&store, &cli.storage, args, &n),
            Command::Load { input } => commands::load(&store, input, &n),
            Command::Pull {
                platform,
                reference,
            } => pull(
                &store,
                reference,
                platform.as_deref(),
                &cli.insecure_registries,
                &n,
            ),
            Command::Push {
                chunk_size,
                reference,
            } => {
                let options = PushOptions {
                    insecure: cli.insecure_registries.clone(),
                    chunk: *chunk_size,
                };
                registry::push::push(&store, &reference.parse()?, &options, &n)?;
                Ok(0)
            }
            Command::Login {
                username,
                password,
                password_stdin,
                server,
            } => login(
                server.as_deref(),
                username.clone(),
                password.clone(),
                *password_stdin,
                &cli.insecure_registries,
                &n,
            ),
            Command::Logout { server } => {
                let server = server.as_deref().unwrap_or(DEFAULT_REGISTRY);
                if credentials::remove(server)? {
                    println!("Removing login credentials for {server}");
                } else {
                    println!("Not logged in to {server}");
                }
                Ok(0)
            }
            Command::Images(args) => commands::images(&store, args),
            Command::Tag { source, target } => commands::tag(&store, source, target),
            Command::Rmi { force, images } => commands::rmi(PROGRAM, &store, images, *force),
            Command::Inspect { images } => commands::inspect(&store, images),
            Command::History { no_trunc, image } => commands::history(&store, image, *no_trunc),
            Command::Ps(args) => Ok(container_commands::ps(containers, args, Origin::Image)?),
            Command::Diff { container } => Ok(container_commands::diff(containers, container)?),
            Command::Save {
                output,
                format,
                images,
            } => save(&store, images, *format, output.as_deref()),
            Command::Import { file, reference } => {
                let name = reference.as_deref().map(str::parse).transpose()?;
                let id = create::import(&store, file, name.as_ref(), &n)?;
                println!("{id}");
                Ok(0)
            }
            Command::Commit {
                container,
                reference,
                output,
            } => match output {
                Some(output) => {
                    container_commands::commit_layer(containers, container, output)?;
                    Ok(0)
                }
                None => {
                    let name = reference.as_deref().map(str::parse).transpose()?;
                    let id = create::commit(&store, container, name.as_ref(), &n)?;
                    println!("{id}");
                    Ok(0)
                }
            },
            Command::Rm { containers: names } => {
                let status = container_commands::rm(PROGRAM, containers, names)?;
                // The layers of an image deleted while the container stood on them go now.
                commands::collect_garbage(&store)?;
                Ok(status)
            }
        }
    })();
    match result {
        Ok(code) => exit_status(code),
        Err(error) => report(PROGRAM, &error),
    }
}

fn pull(
    store: &ImageStore,
    reference: &str,
    platform: Option<&str>,
    insecure: &[String],
    n: &Narrator,
) -> Result<i32, Error> {
    let reference: Reference = reference.parse()?;
    let options = PullOptions {
        platform: match platform {
            Some(text) => text.parse()?,
            None => Wanted::host(),
        },
        insecure: insecure.to_vec(),
    };
    let pulled = registry::pull::pull(store, &reference, &options, n)?;
    println!("Digest: {}", pulled.digest);
    let status = if pulled.up_to_date {
        "Image is up to date for"
    } else {
        "Downloaded newer image for"
    };
    println!("Status: {status} {}", reference.familiar());
    Ok(0)
}

fn login(
    server: Option<&str>,
    username: Option<String>,
    password: Option<String>,
    password_stdin: bool,
    insecure: &[String],
    n: &Narrator,
) -> Result<i32, Error> {
    let server = server.unwrap_or(DEFAULT_REGISTRY);
    let user = username.ok_or_else(|| Error::Invalid("give the user name with -u USER".into()))?;
    let password = match (password, password_stdin) {
        (Some(_), true) => {
            return Err(Error::Invalid(
                "--password and --password-stdin are mutually exclusive".into(),
            ));
        }
        (Some(password), false) => password,
        (None, true) => {
            let mut line = String::new();
            std::io::stdin()
                .read_line(&mut line)
                .map_err(|e| Error::Invalid(format!("read the password from stdin: {e}")))?;
            line.trim_end_matches(['\n', '\r']).to_string()
        }
        (None, false) => {
            return Err(Error::Invalid(
                "give the password with --password-stdin (or -p)".into(),
            ));
        }
    };
    let credentials = Credentials { user, password };
    registry::login(server, credentials, insecure, n)?;
    println!("Login Succeeded");
    Ok(0)
}

fn save(
    store: &ImageStore,
    images: &[String],
    format: Format,
    output: Option<&Path>,
) -> Result<i32, Error> {
    let output = match output {
        Some(path) => path,
        None if std::io::stdout().is_terminal() => {
            return Err(Error::Invalid(
                "refusing to write an archive to a terminal (use -o FILE, or redirect stdout)"
                    .into(),
            ));
        }
        None => Path::new("-"),
    };
    ch04_images::save::save(store, images, format, output)?;
    Ok(0)
}

// ANCHOR: run_cli
fn run(
    store: &ImageStore,
    storage: &StorageArgs,
    args: &RunArgs,
    n: &Narrator,
) -> Result<i32, Error> {
    let image = store.find_image(&args.image)?;
    let layers: Vec<PathBuf> = image
        .chain_ids()
        .iter()
        .map(|c| store.layer_dir(c))
        .collect();
    let overrides = Overrides {
        entrypoint: args.entrypoint.clone(),
        command: args.command.clone(),
    };
    let config = image.config.config.clone().unwrap_or_default();
    let spec = run::spec(&config, &args.process, &overrides, &layers)?;
    let running = run::container_config(&config, &args.process, &overrides, &spec);
    let request = RunRequest {
        spec,
        config: Some(serde_json::to_value(running).expect("a config serializes")),
        layers,
        image: Some(args.image.clone()),
        name: args.container.name.clone(),
        remove: args.container.rm,
        limits: &args.limits,
    };
    Ok(ch03_union_fs::run::run(
        PROGRAM,
        store.containers(),
        storage,
        request,
        n,
    )?)
}
// ANCHOR_END: run_cli
