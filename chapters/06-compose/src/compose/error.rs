//! # Why a project cannot be loaded
//!
//! Every step of the loader has its own error (the YAML, an interpolation, the schema, the
//! dependency graph…); [`ComposeError`] gathers them with the file and the path they are about,
//! and says of each what kind of failure it is. A module of its own, so that every step can
//! return it without depending on the pipeline that calls the steps ([`super::project`]).

use std::path::PathBuf;

use dockyard_support::{EngineError, ErrorKind};

use super::depends_on::DependencyError;
use super::dotenv::DotenvError;
use super::interpolate::InterpolationError;
use super::schema::SchemaError;
use super::yaml::YamlError;

/// Why a project cannot be loaded. One line, naming the file and the path in it.
#[derive(Debug, thiserror::Error)]
pub enum ComposeError {
    /// No `-f`, and none of the default names in the directory.
    #[error("no configuration file provided: not found in {}", dir.display())]
    NoComposeFile {
        /// The directory searched.
        dir: PathBuf,
    },
    /// A compose file that cannot be read.
    #[error("cannot read {}: {source}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// A file that is not YAML compose can read.
    #[error(transparent)]
    Yaml(#[from] YamlError),
    /// A `.env` file that cannot be read.
    #[error(transparent)]
    Dotenv(#[from] DotenvError),
    /// A `${...}` that cannot be expanded; the error names the path in the file.
    #[error("{}: {source}", file.display())]
    Interpolation {
        /// The file.
        file: PathBuf,
        /// What went wrong, and where in the file.
        source: InterpolationError,
    },
    /// A file that breaks the specification's schema.
    #[error("validating {}: {source}", file.display())]
    Schema {
        /// The file.
        file: PathBuf,
        /// The rule broken, and where.
        source: SchemaError,
    },
    /// An `extends` that cannot be followed: no such service, an unreadable file, a cycle.
    #[error("{}: {path}: {message}", file.display())]
    Extends {
        /// The file of the extending service.
        file: PathBuf,
        /// Where: `services.web.extends`.
        path: String,
        /// What is wrong: `circular reference: web -> base -> web`.
        message: String,
    },
    /// An `include` entry that cannot be loaded: malformed, or a cycle.
    #[error("{}: {path}: {message}", file.display())]
    Include {
        /// The including file.
        file: PathBuf,
        /// Where: `include[0]`.
        path: String,
        /// What is wrong.
        message: String,
    },
    /// A `-p`, `COMPOSE_PROJECT_NAME` or `name:` that is not a valid project name.
    #[error(
        "invalid project name {0:?}: must consist only of lowercase alphanumeric characters, hyphens, and underscores as well as start with a letter or number"
    )]
    InvalidProjectName(String),
    /// No name anywhere, and a directory name with no usable character.
    #[error("project name must not be empty")]
    EmptyProjectName,
    /// A `depends_on` that cannot be walked.
    #[error("{0}")]
    Dependencies(#[from] DependencyError),
    /// A value that cannot be brought to its canonical form (a port, a mount, a duration…).
    #[error("{path}: {message}")]
    Normalize {
        /// Where: `services.web.ports[1]`.
        path: String,
        /// What is wrong: `invalid port "80:x"`.
        message: String,
    },
    /// An `env_file` (unless `required: false`) or `label_file` that is not there.
    #[error("{path}: {what} {} not found", file.display())]
    FileNotFound {
        /// Where it is named: `services.web.env_file[0]`.
        path: String,
        /// `env file` or `label file`.
        what: &'static str,
        /// The file, absolute.
        file: PathBuf,
    },
}

impl EngineError for ComposeError {
    fn kind(&self) -> ErrorKind {
        match self {
            ComposeError::NoComposeFile { .. } | ComposeError::FileNotFound { .. } => {
                ErrorKind::NotFound
            }
            ComposeError::Read { source, .. } if source.kind() == std::io::ErrorKind::NotFound => {
                ErrorKind::NotFound
            }
            ComposeError::Read { source, .. } => ErrorKind::of_io(source),
            _ => ErrorKind::InvalidInput,
        }
    }

    fn hint(&self) -> Option<String> {
        match self {
            ComposeError::NoComposeFile { .. } => {
                Some("name one with -f, or run in the directory of compose.yaml".into())
            }
            ComposeError::InvalidProjectName(_) => Some("for example: -p my_app".into()),
            ComposeError::Dependencies(DependencyError::Disabled {
                dependency,
                profiles,
                ..
            }) => Some(format!(
                "{dependency} is only enabled by profile {}: add --profile {}",
                profiles.join(", "),
                profiles.first().map_or("", String::as_str)
            )),
            ComposeError::Dependencies(DependencyError::Cycle(_)) => {
                Some("remove one of the depends_on entries that close the cycle".into())
            }
            ComposeError::Dependencies(DependencyError::Undefined { .. }) => Some(
                "define the service, or make the dependency optional with required: false".into(),
            ),
            ComposeError::Interpolation { .. } => Some(
                "set the variable in the shell or in .env, or give it a default: ${NAME:-value}"
                    .into(),
            ),
            ComposeError::Schema { .. } => {
                Some("check the key against the Compose Specification (compose-spec.io)".into())
            }
            ComposeError::Normalize { .. } => {
                Some("see the Compose Specification for the attribute's forms".into())
            }
            ComposeError::Extends { .. } | ComposeError::Include { .. } => {
                Some("check the service and file it names".into())
            }
            _ => None,
        }
    }
}
impl From<ComposeError> for crate::error::Error {
    /// The engine's error keeps the loader's, with its kind and hint.
    fn from(error: ComposeError) -> Self {
        crate::error::Error::Model(Box::new(error))
    }
}
