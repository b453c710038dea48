//! The only words expanded before a build starts: `FROM`'s base and `--platform`.
//!
//! To know which images to pull and in which order to build the stages, a builder must
//! read every `FROM` first, so those lines cannot wait for the stages' own variables. They
//! are expanded with the *global* arguments:
//!
//! 1. the predefined platform arguments, `BUILDPLATFORM`, `TARGETPLATFORM`, `TARGETOS`,
//!    `TARGETARCH`… (the machine building, the machine the image is for), and
//!    `TARGETSTAGE`;
//! 2. then the meta arguments, the `ARG`s before the first `FROM`, in order: a value given
//!    with `--build-arg`, else the default expanded with the arguments before it.
//!
//! A base that expands to an earlier stage's name builds on that stage; `scratch` is the
//! empty image; anything else is an image reference.

use super::Stages;
use crate::error::Result;
use crate::instructions::InstructionError;
use crate::shell::{Env, Lexer};

/// An OS and CPU architecture, as `linux/amd64` or `linux/arm/v7`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Platform {
    /// `linux`.
    pub os: String,
    /// `amd64`, `arm64`, `arm`…
    pub architecture: String,
    /// `v7` for 32-bit ARM; empty when there is none.
    pub variant: String,
}

impl Platform {
    /// The platform this program runs on, in OCI names.
    pub fn host() -> Platform {
        let (architecture, variant) = match std::env::consts::ARCH {
            "x86_64" => ("amd64", ""),
            "x86" => ("386", ""),
            "aarch64" => ("arm64", ""),
            "arm" => ("arm", "v7"),
            "powerpc64" => ("ppc64le", ""),
            other => (other, ""),
        };
        Platform {
            os: std::env::consts::OS.to_owned(),
            architecture: architecture.to_owned(),
            variant: variant.to_owned(),
        }
    }

    /// `os/architecture[/variant]`.
    pub fn format(&self) -> String {
        let mut text = format!("{}/{}", self.os, self.architecture);
        if !self.variant.is_empty() {
            text.push('/');
            text.push_str(&self.variant);
        }
        text
    }
}

/// BuildKit's predefined global arguments for a build on `build` for `target`, building
/// the stage named `target_stage` (`default` when it has no name).
pub fn predefined_args(
    build: &Platform,
    target: &Platform,
    target_stage: &str,
) -> Vec<(String, String)> {
    let stage = if target_stage.is_empty() {
        "default"
    } else {
        target_stage
    };
    [
        ("BUILDPLATFORM", build.format()),
        ("BUILDOS", build.os.clone()),
        ("BUILDOSVERSION", String::new()),
        ("BUILDARCH", build.architecture.clone()),
        ("BUILDVARIANT", build.variant.clone()),
        ("TARGETPLATFORM", target.format()),
        ("TARGETOS", target.os.clone()),
        ("TARGETOSVERSION", String::new()),
        ("TARGETARCH", target.architecture.clone()),
        ("TARGETVARIANT", target.variant.clone()),
        ("TARGETSTAGE", stage.to_owned()),
    ]
    .into_iter()
    .map(|(name, value)| (name.to_owned(), value))
    .collect()
}

/// What a stage's `FROM` builds on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Base {
    /// An earlier stage, by index.
    Stage(usize),
    /// Nothing: `scratch`.
    Scratch,
    /// An image, by reference.
    Image(String),
}

/// A `FROM` line expanded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExpandedFrom {
    /// The base.
    pub base: Base,
    /// `--platform`, expanded.
    pub platform: Option<String>,
    /// The variables the base and platform referred to that were not set.
    pub unset: Vec<String>,
}

impl Stages {
    /// The global arguments: `predefined` (see [`predefined_args`]), those of them
    /// `build_args` overrides, then the meta arguments, each its `--build-arg` value or its
    /// default expanded.
    pub fn global_args(
        &self,
        file: &str,
        predefined: Vec<(String, String)>,
        build_args: &[(String, String)],
    ) -> Result<Vec<(String, String)>> {
        let given = |name: &str| {
            build_args
                .iter()
                .rfind(|(arg, _)| arg == name)
                .map(|(_, value)| value.clone())
        };
        let mut args: Vec<(String, String)> = predefined
            .into_iter()
            .map(|(name, value)| {
                let value = given(&name).unwrap_or(value);
                (name, value)
            })
            .collect();
        let lexer = Lexer::new(self.escape);
        for arg in &self.meta_args {
            for definition in &arg.value.args {
                let value = match (given(&definition.name), &definition.default) {
                    (Some(value), _) => value,
                    (None, Some(default)) => lexer
                        .process_word(default, &env_of(&args))
                        .map_err(|error| arg.error(file, error.into()))?,
                    (None, None) => continue,
                };
                args.retain(|(name, _)| *name != definition.name);
                args.push((definition.name.clone(), value));
            }
        }
        Ok(args)
    }

    // ANCHOR: expand_from
    /// Stage `index`'s `FROM` expanded with the global arguments `global` (see
    /// [`Stages::global_args`]), its base resolved.
    pub fn expand_from(
        &self,
        file: &str,
        index: usize,
        global: &[(String, String)],
    ) -> Result<ExpandedFrom> {
        let stage = &self.stages[index];
        let lexer = Lexer::new(self.escape);
        let env = env_of(global);
        let fail = |error: InstructionError| stage.from.error(file, error);
        let base = lexer
            .expand(&stage.base, &env)
            .map_err(|error| fail(error.into()))?;
        if base.value.is_empty() {
            return Err(fail(
                InstructionError::new(format!("base name ({}) should not be blank", stage.base))
                    .with_hint("give the ARG a default, or pass it with --build-arg"),
            ));
        }
        let mut unset = base.unset;
        let platform = match &stage.platform {
            None => None,
            Some(platform) => {
                let expanded = lexer
                    .expand(platform, &env)
                    .map_err(|error| fail(error.into()))?;
                if expanded.value.is_empty() {
                    return Err(fail(InstructionError::new(format!(
                        "empty platform value from expression {platform}"
                    ))));
                }
                unset.extend(expanded.unset);
                Some(expanded.value)
            }
        };
        let base = match self.base_stage(index, &base.value) {
            Some(stage) => Base::Stage(stage),
            None if base.value == "scratch" => Base::Scratch,
            None => Base::Image(base.value),
        };
        Ok(ExpandedFrom {
            base,
            platform,
            unset,
        })
    }
    // ANCHOR_END: expand_from
}

/// `(name, value)` pairs as an environment, a later pair winning.
pub(crate) fn env_of(pairs: &[(String, String)]) -> Env {
    Env::new(pairs.iter().map(|(name, value)| format!("{name}={value}")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parser::parse;

    fn stages(source: &str) -> Stages {
        let dockerfile = parse("Dockerfile", source.as_bytes()).expect("parses");
        Stages::new("Dockerfile", &dockerfile).expect("stages")
    }

    fn amd64() -> Platform {
        Platform {
            os: "linux".into(),
            architecture: "amd64".into(),
            variant: String::new(),
        }
    }

    #[test]
    fn bases_expand_with_the_meta_arguments() {
        let stages = stages(
            "ARG V=1.36 IMAGE=busybox:$V\nARG UNSET\nFROM $IMAGE AS base\n\
             FROM --platform=$BUILDPLATFORM ${UNSET:-base}\nFROM scratch\n",
        );
        let predefined = predefined_args(&amd64(), &amd64(), "");
        let global = stages
            .global_args("Dockerfile", predefined.clone(), &[])
            .expect("args");
        let first = stages
            .expand_from("Dockerfile", 0, &global)
            .expect("expands");
        assert_eq!(first.base, Base::Image("busybox:1.36".into()));
        let second = stages
            .expand_from("Dockerfile", 1, &global)
            .expect("expands");
        assert_eq!(second.base, Base::Stage(0));
        assert_eq!(second.platform.as_deref(), Some("linux/amd64"));
        assert_eq!(second.unset, ["UNSET"]);
        let third = stages
            .expand_from("Dockerfile", 2, &global)
            .expect("expands");
        assert_eq!(third.base, Base::Scratch);
        let given = [("V".to_owned(), "1.37".to_owned())];
        let global = stages
            .global_args("Dockerfile", predefined, &given)
            .expect("args");
        let first = stages
            .expand_from("Dockerfile", 0, &global)
            .expect("expands");
        assert_eq!(first.base, Base::Image("busybox:1.37".into()));
    }

    #[test]
    fn a_blank_base_is_an_error() {
        let stages = stages("ARG IMAGE\nFROM $IMAGE\n");
        let error = stages.expand_from("Dockerfile", 0, &[]).expect_err("blank");
        assert_eq!(
            error.to_string(),
            "Dockerfile:2: base name ($IMAGE) should not be blank"
        );
    }
}
