//! The rules, with BuildKit's names, descriptions and documentation pages.

/// A check `parse --check` (and BuildKit's `docker build --check`) runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Rule {
    /// `FROM x AS Build`: stage names should be lowercase.
    StageNameCasing,
    /// `FROM x as y`: `AS` should be cased as `FROM` is.
    FromAsCasing,
    /// An empty line inside a continued instruction.
    NoEmptyContinuation,
    /// `run` among `RUN`s: keywords should be cased alike.
    ConsistentInstructionCasing,
    /// Two stages with one name.
    DuplicateStageName,
    /// A stage named `scratch` or `context`.
    ReservedStageName,
    /// `CMD`/`ENTRYPOINT` in shell form, which does not pass signals on.
    JSONArgsRecommended,
    /// `MAINTAINER`, deprecated for a label.
    MaintainerDeprecated,
    /// A `FROM` using an argument no `ARG` before the first `FROM` declares.
    UndefinedArgInFrom,
    /// The first `WORKDIR` of a stage is relative: it depends on the base image's.
    WorkdirRelativePath,
    /// A variable used before anything defines it.
    UndefinedVar,
    /// Two `CMD`s (`ENTRYPOINT`s, `HEALTHCHECK`s) in a stage: the first does nothing.
    MultipleInstructionsDisallowed,
    /// `ENV name value` instead of `ENV name=value`.
    LegacyKeyValueFormat,
    /// `FROM --platform=$TARGETPLATFORM`, which is what happens anyway.
    RedundantTargetPlatform,
    /// An `ARG` or `ENV` whose name says it holds a secret.
    SecretsUsedInArgOrEnv,
}

impl Rule {
    /// Every rule.
    pub const ALL: [Rule; 15] = [
        Rule::StageNameCasing,
        Rule::FromAsCasing,
        Rule::NoEmptyContinuation,
        Rule::ConsistentInstructionCasing,
        Rule::DuplicateStageName,
        Rule::ReservedStageName,
        Rule::JSONArgsRecommended,
        Rule::MaintainerDeprecated,
        Rule::UndefinedArgInFrom,
        Rule::WorkdirRelativePath,
        Rule::UndefinedVar,
        Rule::MultipleInstructionsDisallowed,
        Rule::LegacyKeyValueFormat,
        Rule::RedundantTargetPlatform,
        Rule::SecretsUsedInArgOrEnv,
    ];

    /// Its name, as `# check=skip=` names it.
    pub fn name(self) -> &'static str {
        match self {
            Rule::StageNameCasing => "StageNameCasing",
            Rule::FromAsCasing => "FromAsCasing",
            Rule::NoEmptyContinuation => "NoEmptyContinuation",
            Rule::ConsistentInstructionCasing => "ConsistentInstructionCasing",
            Rule::DuplicateStageName => "DuplicateStageName",
            Rule::ReservedStageName => "ReservedStageName",
            Rule::JSONArgsRecommended => "JSONArgsRecommended",
            Rule::MaintainerDeprecated => "MaintainerDeprecated",
            Rule::UndefinedArgInFrom => "UndefinedArgInFrom",
            Rule::WorkdirRelativePath => "WorkdirRelativePath",
            Rule::UndefinedVar => "UndefinedVar",
            Rule::MultipleInstructionsDisallowed => "MultipleInstructionsDisallowed",
            Rule::LegacyKeyValueFormat => "LegacyKeyValueFormat",
            Rule::RedundantTargetPlatform => "RedundantTargetPlatform",
            Rule::SecretsUsedInArgOrEnv => "SecretsUsedInArgOrEnv",
        }
    }

    /// Why it matters, in BuildKit's words.
    pub fn description(self) -> &'static str {
        match self {
            Rule::StageNameCasing => "Stage names should be lowercase",
            Rule::FromAsCasing => "The 'as' keyword should match the case of the 'from' keyword",
            Rule::NoEmptyContinuation => {
                "Empty continuation lines will become errors in a future release"
            }
            Rule::ConsistentInstructionCasing => {
                "All commands within the Dockerfile should use the same casing (either upper or \
                 lower)"
            }
            Rule::DuplicateStageName => "Stage names should be unique",
            Rule::ReservedStageName => "Reserved words should not be used as stage names",
            Rule::JSONArgsRecommended => {
                "JSON arguments recommended for ENTRYPOINT/CMD to prevent unintended behavior \
                 related to OS signals"
            }
            Rule::MaintainerDeprecated => {
                "The MAINTAINER instruction is deprecated, use a label instead to define an image \
                 author"
            }
            Rule::UndefinedArgInFrom => "FROM command must use declared ARGs",
            Rule::WorkdirRelativePath => {
                "Relative workdir without an absolute workdir declared within the build can have \
                 unexpected results if the base image changes"
            }
            Rule::UndefinedVar => "Variables should be defined before their use",
            Rule::MultipleInstructionsDisallowed => {
                "Multiple instructions of the same type should not be used in the same stage"
            }
            Rule::LegacyKeyValueFormat => {
                "Legacy key/value format with whitespace separator should not be used"
            }
            Rule::RedundantTargetPlatform => {
                "Setting platform to predefined $TARGETPLATFORM in FROM is redundant as this is \
                 the default behavior"
            }
            Rule::SecretsUsedInArgOrEnv => {
                "Sensitive data should not be used in the ARG or ENV commands"
            }
        }
    }

    /// Its documentation page.
    pub fn url(self) -> String {
        let mut slug = String::new();
        for (i, c) in self.name().char_indices() {
            // `JSONArgs…` is `json-args-…`: a capital starts a word unless it follows one
            // that is not the last of its run.
            let next_is_lower = self.name()[i + c.len_utf8()..]
                .chars()
                .next()
                .is_some_and(|next| next.is_ascii_lowercase());
            let previous_is_lower = i > 0 && self.name().as_bytes()[i - 1].is_ascii_lowercase();
            if c.is_ascii_uppercase() && i > 0 && (previous_is_lower || next_is_lower) {
                slug.push('-');
            }
            slug.push(c.to_ascii_lowercase());
        }
        format!("https://docs.docker.com/go/dockerfile/rule/{slug}/")
    }

    /// The rule `name` names, exactly as BuildKit spells it.
    pub fn from_name(name: &str) -> Option<Rule> {
        Rule::ALL.into_iter().find(|rule| rule.name() == name)
    }
}

impl std::fmt::Display for Rule {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_are_buildkits() {
        assert_eq!(
            Rule::JSONArgsRecommended.url(),
            "https://docs.docker.com/go/dockerfile/rule/json-args-recommended/"
        );
        assert_eq!(
            Rule::FromAsCasing.url(),
            "https://docs.docker.com/go/dockerfile/rule/from-as-casing/"
        );
        assert_eq!(
            Rule::SecretsUsedInArgOrEnv.url(),
            "https://docs.docker.com/go/dockerfile/rule/secrets-used-in-arg-or-env/"
        );
        assert_eq!(Rule::from_name("UndefinedVar"), Some(Rule::UndefinedVar));
    }
}
