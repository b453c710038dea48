//! How one stage names another.
//!
//! `COPY --from=X` copies from a stage when `X` is a stage's index (`0`) or name (any
//! case), and from an image otherwise (`--from=nginx:1.25`). The stage must come *before*
//! the one copying: BuildKit builds stages in file order, and refuses a copy from a stage
//! it has not built yet. `FROM X` is stricter: `X` (once expanded) must be exactly the name
//! of an earlier stage; anything else is an image (see [`super::expand`]).

use super::Stages;

/// Where `COPY --from` takes its files.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// A stage of this Dockerfile, by index.
    Stage(usize),
    /// An image, by reference.
    Image(String),
}

impl Stages {
    /// What `COPY --from=from` in stage `current` copies from, or BuildKit's message for
    /// why it cannot.
    pub fn copy_source(&self, current: usize, from: &str) -> Result<Source, String> {
        let index = match from.parse::<i64>() {
            Ok(index) => usize::try_from(index)
                .ok()
                .filter(|index| *index < self.stages.len())
                .ok_or_else(|| format!("invalid stage index {index}"))?,
            Err(_) => match self.find(from) {
                Some(index) => index,
                None => return Ok(Source::Image(from.to_owned())),
            },
        };
        if index >= current {
            return Err(format!(
                "cannot copy from stage {}, it needs to be defined before current stage {}",
                crate::parser::go_quote(from),
                crate::parser::go_quote(&self.display_name(current))
            ));
        }
        Ok(Source::Stage(index))
    }

    /// The earlier stage a `FROM` in stage `current` builds on, given its expanded base:
    /// one whose name is exactly `base`.
    pub fn base_stage(&self, current: usize, base: &str) -> Option<usize> {
        self.stages[..current.min(self.stages.len())]
            .iter()
            .rposition(|stage| stage.name.as_deref() == Some(base))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parser::parse;

    fn stages(source: &str) -> Stages {
        let dockerfile = parse("Dockerfile", source.as_bytes()).expect("parses");
        Stages::new("Dockerfile", &dockerfile).expect("stages")
    }

    #[test]
    fn copy_sources_by_index_name_or_image() {
        let stages = stages("FROM a AS one\nFROM b\nFROM c AS three\n");
        assert_eq!(stages.copy_source(2, "0"), Ok(Source::Stage(0)));
        assert_eq!(stages.copy_source(2, "ONE"), Ok(Source::Stage(0)));
        assert_eq!(stages.copy_source(2, "1"), Ok(Source::Stage(1)));
        assert_eq!(stages.copy_source(0, "x"), Ok(Source::Image("x".into())));
        assert_eq!(
            stages.copy_source(0, "7"),
            Err("invalid stage index 7".into())
        );
        assert_eq!(
            stages.copy_source(0, "-1"),
            Err("invalid stage index -1".into())
        );
        assert_eq!(
            stages.copy_source(1, "three"),
            Err(
                "cannot copy from stage \"three\", it needs to be defined before current stage \"stage-1\""
                    .into()
            )
        );
    }

    #[test]
    fn from_names_an_earlier_stage_exactly() {
        let stages = stages("FROM a AS base\nFROM base\nFROM BASE\n");
        assert_eq!(stages.base_stage(1, "base"), Some(0));
        assert_eq!(stages.base_stage(2, "BASE"), None);
        assert_eq!(stages.base_stage(0, "base"), None);
    }
}
