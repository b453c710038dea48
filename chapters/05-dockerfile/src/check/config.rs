//! `# check=…`: which rules run, and whether a finding fails the build.
//!
//! The directive at the top of the file configures the whole file:
//!
//! ```dockerfile
//! # check=skip=JSONArgsRecommended,StageNameCasing;error=true
//! ```
//!
//! - `skip=Rule1,Rule2` (or `skip=all`) turns rules off;
//! - `error=true` makes a build with findings fail (`lint violation found for rules: …`);
//! - `experimental=Rule` (or `all`) turns on rules still experimental (none here).
//!
//! The same `# check=skip=…` in a comment just above an instruction skips rules for that
//! instruction only. An option BuildKit does not know is an error in the directive (and
//! ignored in such a comment).

use crate::parser::text;

/// The checks' configuration.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CheckConfig {
    /// `skip=all`.
    pub skip_all: bool,
    /// `skip=A,B`: the rules' names as written.
    pub skip: Vec<String>,
    /// `error=true`.
    pub error: bool,
    /// `experimental=all`.
    pub experimental_all: bool,
    /// `experimental=A,B`.
    pub experimental: Vec<String>,
}

impl CheckConfig {
    /// Reads a `check` directive's value, as BuildKit's `ParseLintOptions` does: up to
    /// three `;`-separated options (the third keeps any further `;`).
    pub fn parse(value: &str) -> Result<CheckConfig, String> {
        let mut config = CheckConfig::default();
        let value = value.trim();
        if value.is_empty() {
            return Ok(config);
        }
        for option in value.splitn(3, ';') {
            let Some((key, value)) = option.split_once('=') else {
                return Err(format!(
                    "invalid check option {}",
                    crate::parser::go_quote(option)
                ));
            };
            let value = value.trim();
            let names = || {
                value
                    .split(',')
                    .map(|name| name.trim().to_owned())
                    .collect()
            };
            match key.trim() {
                "skip" if value == "all" => config.skip_all = true,
                "skip" => config.skip = names(),
                "experimental" if value == "all" => config.experimental_all = true,
                "experimental" => config.experimental = names(),
                "error" => {
                    config.error = crate::instructions::mount::go_bool(value).ok_or_else(|| {
                        format!(
                            "failed to parse check option {}: strconv.ParseBool: parsing {}: \
                             invalid syntax",
                            crate::parser::go_quote(option),
                            crate::parser::go_quote(value)
                        )
                    })?;
                }
                key => {
                    return Err(format!(
                        "invalid check option {}",
                        crate::parser::go_quote(key)
                    ));
                }
            }
        }
        Ok(config)
    }

    /// Whether the rule called `name` runs.
    pub fn runs(&self, name: &str) -> bool {
        !self.skip_all && !self.skip.iter().any(|skipped| skipped == name)
    }

    /// This configuration with the skips of the first `check=` among an instruction's
    /// comments added (BuildKit's `WithMergedConfigFromComments`).
    pub fn for_comments(&self, comments: &[String]) -> CheckConfig {
        let mut merged = self.clone();
        let Some(value) = comments.iter().find_map(|comment| check_comment(comment)) else {
            return merged;
        };
        // Only the first word counts, and a value that does not parse changes nothing.
        let value = value.split(' ').next().unwrap_or_default();
        if let Ok(extra) = CheckConfig::parse(value) {
            merged.skip_all |= extra.skip_all;
            merged.skip.extend(extra.skip);
            merged.experimental_all |= extra.experimental_all;
            merged.experimental.extend(extra.experimental);
        }
        merged
    }
}

/// The value of a comment that is a `check=…` directive (the `#` already gone).
fn check_comment(comment: &str) -> Option<&str> {
    let comment = comment.trim_start();
    let name_len = comment
        .find(|c: char| !c.is_ascii_alphanumeric())
        .unwrap_or(comment.len());
    let (name, rest) = comment.split_at(name_len);
    if !name.eq_ignore_ascii_case("check") {
        return None;
    }
    let value = rest
        .trim_start_matches(text::is_regex_space)
        .strip_prefix('=')?
        .trim_matches(text::is_regex_space);
    (!value.is_empty()).then_some(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn options_as_buildkit_reads_them() {
        let config = CheckConfig::parse("skip=JSONArgsRecommended, StageNameCasing;error=true")
            .expect("valid");
        assert_eq!(config.skip, ["JSONArgsRecommended", "StageNameCasing"]);
        assert!(config.error && !config.runs("StageNameCasing") && config.runs("UndefinedVar"));
        assert!(
            !CheckConfig::parse("skip=all")
                .expect("valid")
                .runs("UndefinedVar")
        );
        assert_eq!(CheckConfig::parse(" "), Ok(CheckConfig::default()));
        assert_eq!(
            CheckConfig::parse("skip"),
            Err("invalid check option \"skip\"".to_owned())
        );
        assert_eq!(
            CheckConfig::parse("warn=true"),
            Err("invalid check option \"warn\"".to_owned())
        );
        assert_eq!(
            CheckConfig::parse("error=yes"),
            Err("failed to parse check option \"error=yes\": strconv.ParseBool: parsing \"yes\": invalid syntax".to_owned())
        );
    }

    #[test]
    fn a_comment_adds_skips_for_its_instruction() {
        let config = CheckConfig::default();
        let comments = vec![
            "a comment".to_owned(),
            "check=skip=UndefinedVar more".to_owned(),
        ];
        let merged = config.for_comments(&comments);
        assert!(!merged.runs("UndefinedVar") && merged.runs("StageNameCasing"));
        assert_eq!(config.for_comments(&["check=nonsense".to_owned()]), config);
    }
}
