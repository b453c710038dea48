//! Platforms: which operating system and processor an image is built for, `linux/amd64`.
//! An index (a multi-platform image) lists one manifest per platform; the engine takes the
//! one for the machine it runs on.

use std::fmt;

use crate::oci::{ContainerConfig, Descriptor, ImageConfig, Platform, RootFs};

/// An `os/architecture[/variant]` to choose manifests by.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Wanted {
    /// `linux`.
    pub os: String,
    /// The OCI (Go) name of the processor architecture: `amd64`, `arm64`.
    pub architecture: String,
    /// `v8` for arm64, `v7` for arm, where it matters.
    pub variant: Option<String>,
}

impl Wanted {
    /// The platform of this machine, as OCI names it.
    pub fn host() -> Wanted {
        let architecture = match std::env::consts::ARCH {
            "x86_64" => "amd64",
            "aarch64" => "arm64",
            "x86" => "386",
            "powerpc64" => "ppc64le",
            other => other,
        };
        Wanted {
            os: std::env::consts::OS.to_string(),
            architecture: architecture.to_string(),
            variant: None,
        }
    }

    /// Whether a manifest for `platform` runs here.
    pub fn matches(&self, platform: &Platform) -> bool {
        platform.os == self.os
            && platform.architecture == self.architecture
            && (self.variant.is_none() || platform.variant == self.variant)
    }

    /// The manifest in `manifests` for this platform: the one whose platform matches, or the
    /// only one if none says its platform.
    pub fn choose<'a>(&self, manifests: &'a [Descriptor]) -> Option<&'a Descriptor> {
        manifests
            .iter()
            .find(|d| d.platform.as_ref().is_some_and(|p| self.matches(p)))
            .or_else(|| match manifests {
                [only] if only.platform.is_none() => Some(only),
                _ => None,
            })
    }
}

/// `os/arch[/variant]`, as `--platform` takes it: `linux/amd64`, `linux/arm64/v8`.
impl std::str::FromStr for Wanted {
    type Err = crate::error::Error;

    fn from_str(text: &str) -> Result<Wanted, Self::Err> {
        let parts: Vec<&str> = text.split('/').collect();
        match parts.as_slice() {
            [os, architecture] | [os, architecture, _]
                if !os.is_empty() && !architecture.is_empty() =>
            {
                Ok(Wanted {
                    os: os.to_string(),
                    architecture: architecture.to_string(),
                    variant: parts.get(2).map(|v| v.to_string()),
                })
            }
            _ => Err(crate::error::Error::Invalid(format!(
                "invalid platform {text:?}: expected os/arch[/variant], e.g. linux/arm64"
            ))),
        }
    }
}

impl fmt::Display for Wanted {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.os, self.architecture)?;
        if let Some(variant) = &self.variant {
            write!(f, "/{variant}")?;
        }
        Ok(())
    }
}

/// The platforms an index lists, for a message: `linux/arm64, linux/s390x`.
pub fn listed(manifests: &[Descriptor]) -> String {
    let names: Vec<String> = manifests
        .iter()
        .filter_map(|d| d.platform.as_ref())
        .map(|p| match &p.variant {
            Some(v) => format!("{}/{}/{v}", p.os, p.architecture),
            None => format!("{}/{}", p.os, p.architecture),
        })
        .collect();
    if names.is_empty() {
        "no platforms".into()
    } else {
        names.join(", ")
    }
}

impl Wanted {
    /// An image config for this platform with no layer and no history, running containers
    /// with `config`: what `import` and a build `FROM scratch` start from.
    pub fn empty_config(&self, config: ContainerConfig) -> ImageConfig {
        ImageConfig {
            created: None,
            author: None,
            architecture: self.architecture.clone(),
            os: self.os.clone(),
            os_version: None,
            os_features: Vec::new(),
            variant: self.variant.clone(),
            config: Some(config),
            rootfs: RootFs::layers(Vec::new()),
            history: Vec::new(),
        }
    }
}
