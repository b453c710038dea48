//! A list of patterns, and the verdict on a path: excluded from the context, or kept.

use super::error::PatternError;
use super::path::{clean, dir, prefixes};
use super::pattern::Pattern;

/// The patterns of an ignore file, compiled, in order.
///
/// Build one with [`PatternMatcher::new`], then ask about each path of the context: once with
/// [`matches_or_parent_matches`](Self::matches_or_parent_matches), or, walking the context
/// tree, with [`matches_using_parent_results`](Self::matches_using_parent_results) and
/// [`can_skip_excluded_dir`](Self::can_skip_excluded_dir). Unlike moby's, which compiles each
/// pattern on first use, this matcher is compiled whole when it is made, so it can be shared
/// between threads.
#[derive(Debug, Clone)]
pub struct PatternMatcher {
    patterns: Vec<Pattern>,
    /// Whether any pattern is an exception (`!`).
    has_exceptions: bool,
    /// Whether every exception is a plain path once a trailing `/**` or `/*` is removed, which
    /// is what lets a walker tell where one could reach.
    literal_exceptions: bool,
}

/// What a directory's patterns hit, handed to its children by
/// [`PatternMatcher::matches_using_parent_results`]: one flag per pattern. The default value
/// carries no information (a path at the top of the context, or a caller that has none).
///
/// A walker of the context keeps one for each directory it walks into:
///
/// ```
/// use ch05_dockerfile::dockerignore::{MatchInfo, PatternError, PatternMatcher};
///
/// /// A directory entry: its name and, for a directory, what it holds.
/// struct Entry(&'static str, Vec<Entry>);
///
/// /// Collects what the matcher keeps of `entries`, which are in the directory `dir`.
/// fn walk(
///     matcher: &PatternMatcher,
///     dir: &str,
///     entries: &[Entry],
///     parent: &MatchInfo,
///     kept: &mut Vec<String>,
/// ) -> Result<(), PatternError> {
///     for Entry(name, children) in entries {
///         let path = if dir.is_empty() { name.to_string() } else { format!("{dir}/{name}") };
///         let (excluded, info) = matcher.matches_using_parent_results(&path, parent)?;
///         if !excluded {
///             kept.push(path.clone());
///         }
///         let skip = excluded && matcher.can_skip_excluded_dir(&path);
///         if !children.is_empty() && !skip {
///             walk(matcher, &path, children, &info, kept)?;
///         }
///     }
///     Ok(())
/// }
///
/// let context = vec![
///     Entry("Dockerfile", vec![]),
///     Entry("docs", vec![Entry("README.md", vec![]), Entry("guide.md", vec![])]),
///     Entry("node_modules", vec![Entry("left-pad", vec![Entry("index.js", vec![])])]),
/// ];
/// let matcher = PatternMatcher::new(["node_modules", "docs", "!docs/README.md"])?;
/// let mut kept = Vec::new();
/// walk(&matcher, "", &context, &MatchInfo::default(), &mut kept)?;
/// assert_eq!(kept, ["Dockerfile", "docs/README.md"]);
/// # Ok::<(), PatternError>(())
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MatchInfo {
    parent_matched: Vec<bool>,
}

/// The characters that make an exception more than a plain path, to BuildKit's context walker
/// (`\` is one on Unix, where it escapes).
const WILDCARDS: &[char] = &['*', '[', ']', '?', '^', '\\'];

impl PatternMatcher {
    /// Compiles `patterns` (the entries of an ignore file, as [`super::parse`] returns them):
    /// each is trimmed and cleaned, blank ones are dropped, and one that is not a valid glob
    /// is refused.
    ///
    /// ```
    /// use ch05_dockerfile::dockerignore::{PatternError, PatternMatcher};
    ///
    /// let matcher = PatternMatcher::new(["docs", "!docs/README.md", ""])?;
    /// assert_eq!(matcher.patterns().len(), 2);
    /// assert!(matcher.has_exceptions());
    /// assert_eq!(PatternMatcher::new(["!"]).unwrap_err(), PatternError::LoneExclamation);
    /// # Ok::<(), PatternError>(())
    /// ```
    pub fn new<I>(patterns: I) -> Result<PatternMatcher, PatternError>
    where
        I: IntoIterator,
        I::Item: AsRef<str>,
    {
        let mut compiled = Vec::new();
        for entry in patterns {
            compiled.extend(Pattern::parse(entry.as_ref())?);
        }
        let exceptions = || compiled.iter().filter(|pattern| pattern.is_exclusion());
        Ok(PatternMatcher {
            has_exceptions: exceptions().next().is_some(),
            literal_exceptions: exceptions()
                .all(|exception| !without_trailing_glob(exception).contains(WILDCARDS)),
            patterns: compiled,
        })
    }

    /// The patterns, in order.
    pub fn patterns(&self) -> &[Pattern] {
        &self.patterns
    }

    /// Whether any pattern is an exception (`!`); without one, an excluded directory never
    /// needs walking into.
    pub fn has_exceptions(&self) -> bool {
        self.has_exceptions
    }

    /// Whether `path` (slash-separated, relative to the context root, used as given) is
    /// excluded: by a pattern that matches it or one of the directories above it, with no
    /// later exception taking it back.
    ///
    /// The patterns are read in order with one verdict, at first "kept". An ordinary pattern
    /// is only tried while the path is kept, and an exception only while it is excluded: the
    /// last pattern that hits decides. So `!x` before everything does nothing.
    ///
    /// ```
    /// use ch05_dockerfile::dockerignore::{PatternError, PatternMatcher};
    ///
    /// let matcher = PatternMatcher::new(["docs", "!docs/README.md"])?;
    /// assert!(matcher.matches_or_parent_matches("docs/guide/intro.md")?);
    /// assert!(!matcher.matches_or_parent_matches("docs/README.md")?);
    /// # Ok::<(), PatternError>(())
    /// ```
    pub fn matches_or_parent_matches(&self, path: &str) -> Result<bool, PatternError> {
        let parent = dir(path);
        let mut excluded = false;
        for pattern in &self.patterns {
            if pattern.is_exclusion() != excluded {
                continue; // it could not change the verdict
            }
            if hits_path_or_parent(pattern, path, &parent)? {
                excluded = !pattern.is_exclusion();
            }
        }
        Ok(excluded)
    }

    // ANCHOR: parent_results
    /// The verdict on `path` as [`matches_or_parent_matches`](Self::matches_or_parent_matches)
    /// gives it, computed from its directory's results instead of trying every directory above
    /// it again; with the results to hand to `path`'s own children if it is a directory.
    ///
    /// A pattern that hit the directory hits everything under it, so it counts without being
    /// tried (and even where the verdict would otherwise skip it); the others are tried on
    /// `path` alone. With [`MatchInfo::default()`] for `parent`, the directories above `path`
    /// are tried as [`matches_or_parent_matches`](Self::matches_or_parent_matches) does.
    ///
    /// A walker of the context calls it for every entry, parents before children, and keeps
    /// each directory's [`MatchInfo`] for its children (the top entries get the default). An
    /// excluded entry is not sent; an excluded directory is still walked into, since an
    /// exception may take back something under it, unless
    /// [`can_skip_excluded_dir`](Self::can_skip_excluded_dir) says none can. (A file taken
    /// back inside an excluded directory still needs the directories above it created.)
    /// [`MatchInfo`]'s documentation shows such a walker.
    pub fn matches_using_parent_results(
        &self,
        path: &str,
        parent: &MatchInfo,
    ) -> Result<(bool, MatchInfo), PatternError> {
        let parent_hits = &parent.parent_matched;
        let known = !parent_hits.is_empty();
        if known && parent_hits.len() != self.patterns.len() {
            return Err(PatternError::MatchInfoLength {
                expected: self.patterns.len(),
                given: parent_hits.len(),
            });
        }
        let parent_dir = if known { None } else { Some(dir(path)) };
        let mut excluded = false;
        let mut hits = vec![false; self.patterns.len()];
        for (index, pattern) in self.patterns.iter().enumerate() {
            let hit = if known && parent_hits[index] {
                true
            } else if pattern.is_exclusion() != excluded {
                continue; // it could not change the verdict
            } else if let Some(parent_dir) = &parent_dir {
                hits_path_or_parent(pattern, path, parent_dir)?
            } else {
                pattern.matches(path)?
            };
            hits[index] = hit;
            if hit {
                excluded = !pattern.is_exclusion();
            }
        }
        Ok((
            excluded,
            MatchInfo {
                parent_matched: hits,
            },
        ))
    }
    // ANCHOR_END: parent_results

    // ANCHOR: skip_excluded_dir
    /// Whether a walker may leave out the whole of `dir`, a directory it found excluded,
    /// without looking inside: BuildKit's rule. Always when there is no exception; never when
    /// an exception has a wildcard (other than a trailing `/**` or `/*`), since it might reach
    /// anywhere; otherwise when no exception names a path under `dir`.
    ///
    /// ```
    /// use ch05_dockerfile::dockerignore::{PatternError, PatternMatcher};
    ///
    /// let matcher = PatternMatcher::new(["*", "!src/main.rs"])?;
    /// assert!(matcher.can_skip_excluded_dir("target"));
    /// assert!(!matcher.can_skip_excluded_dir("src"));
    /// # Ok::<(), PatternError>(())
    /// ```
    pub fn can_skip_excluded_dir(&self, dir: &str) -> bool {
        if !self.has_exceptions {
            return true;
        }
        if !self.literal_exceptions {
            return false;
        }
        let dir_slash = format!("{dir}/");
        !self
            .patterns
            .iter()
            .filter(|pattern| pattern.is_exclusion())
            .any(|exception| {
                format!("{}/", without_trailing_glob(exception)).starts_with(&dir_slash)
            })
    }
    // ANCHOR_END: skip_excluded_dir
}

/// Whether `pattern` matches `path`, or else one of the directories above it (`parent` is
/// `path`'s directory, `.` for none), shortest first: `docs` matches `docs/a/b` through `docs`.
fn hits_path_or_parent(pattern: &Pattern, path: &str, parent: &str) -> Result<bool, PatternError> {
    if pattern.matches(path)? {
        return Ok(true);
    }
    if parent == "." {
        return Ok(false);
    }
    // A pattern that can fail, fails on `path` already: moby ignores errors here.
    Ok(prefixes(parent).any(|ancestor| pattern.matches(ancestor).unwrap_or(false)))
}

/// An exception's pattern without a trailing `/**`, then without a trailing `/*`: the
/// directory it reaches into.
fn without_trailing_glob(pattern: &Pattern) -> &str {
    let text = pattern.as_str();
    let text = text.strip_suffix("/**").unwrap_or(text);
    text.strip_suffix("/*").unwrap_or(text)
}

/// Whether `path` is excluded by `patterns`, in one call, as moby's package-level
/// `MatchesOrParentMatches`: the patterns are compiled, the path is cleaned, and the context
/// root itself (`.`) is never excluded. The question a client asks of the Dockerfile and of
/// `.dockerignore` itself, which docker/cli's classic builder sends even when the ignore file
/// excludes them (it appends `!Dockerfile` to the patterns).
///
/// ```
/// use ch05_dockerfile::dockerignore::{PatternError, is_excluded};
///
/// assert!(is_excluded("./docs/../docs/a.md", ["docs"])?);
/// assert!(!is_excluded(".", ["*"])?);
/// # Ok::<(), PatternError>(())
/// ```
pub fn is_excluded<I>(path: &str, patterns: I) -> Result<bool, PatternError>
where
    I: IntoIterator,
    I::Item: AsRef<str>,
{
    let matcher = PatternMatcher::new(patterns)?;
    let path = clean(path);
    if path == "." {
        return Ok(false);
    }
    matcher.matches_or_parent_matches(&path)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn matcher(patterns: &[&str]) -> PatternMatcher {
        PatternMatcher::new(patterns).unwrap()
    }

    /// A context tree, as the paths of every entry: directories are those that hold others.
    const CONTEXT: &[&str] = &[
        ".dockerignore",
        "Dockerfile",
        "bar",
        "bay",
        "baz",
        "foo",
        "a/b/c.txt",
        "a/b/d.md",
        "a/e.txt",
        "docs/README.md",
        "docs/guide/intro.md",
        "node_modules/left-pad/index.js",
        "util/docker/web/foo",
        "util/docker/web/bar/x",
        "util/other",
    ];

    /// Every path of [`CONTEXT`], directories included, parents first.
    fn all_paths() -> Vec<String> {
        let mut paths: Vec<String> = CONTEXT
            .iter()
            .flat_map(|file| {
                let parts: Vec<&str> = file.split('/').collect();
                (1..=parts.len()).map(move |n| parts[..n].join("/"))
            })
            .collect();
        paths.sort();
        paths.dedup();
        paths
    }

    /// What a walker keeps: each entry asked with its directory's results, parents first,
    /// excluded directories skipped when `skip` allows it and the matcher agrees.
    fn walk(matcher: &PatternMatcher, skip: bool) -> Vec<String> {
        let paths = all_paths();
        let mut infos: Vec<(String, MatchInfo)> = Vec::new();
        let mut skipped: Vec<String> = Vec::new();
        let mut kept = Vec::new();
        for path in &paths {
            if skipped
                .iter()
                .any(|dir| path.starts_with(&format!("{dir}/")))
            {
                continue;
            }
            let parent = dir(path);
            let parent_info = infos
                .iter()
                .find(|(dir, _)| *dir == parent)
                .map(|(_, info)| info.clone())
                .unwrap_or_default();
            let (excluded, info) = matcher
                .matches_using_parent_results(path, &parent_info)
                .unwrap();
            let is_dir = paths
                .iter()
                .any(|other| other.starts_with(&format!("{path}/")));
            if !excluded {
                kept.push(path.clone());
            }
            if is_dir {
                if skip && excluded && matcher.can_skip_excluded_dir(path) {
                    skipped.push(path.clone());
                }
                infos.push((path.clone(), info));
            }
        }
        kept
    }

    fn one_by_one(matcher: &PatternMatcher) -> Vec<String> {
        all_paths()
            .into_iter()
            .filter(|path| !matcher.matches_or_parent_matches(path).unwrap())
            .collect()
    }

    const PATTERN_SETS: &[&[&str]] = &[
        &[],
        &["ba*", "Dockerfile", "!bay", ".dockerignore"],
        &["docs", "!docs/README.md"],
        &["docs/", "!docs/README.md"],
        &["docs/*", "!docs/README.md"],
        &["**", "!util/docker/web"],
        &["**", "!util/docker/web", "util/docker/web/foo"],
        &["*", "!a/b/**"],
        &["**/*.md", "!docs/**"],
        &["a", "!a/b/c.txt"],
        &["a", "!a/*/c.txt"],
        &["node_modules", "a/b", "!a/b/d.md"],
        &["!foo", "*"],
        &["*/tmp/*", "util/docker"],
    ];

    #[test]
    fn buildkit_s_dockerignore_test_keeps_foo_and_bay() {
        let matcher = matcher(&["ba*", "Dockerfile", "!bay", ".dockerignore"]);
        let top: Vec<String> = walk(&matcher, true)
            .into_iter()
            .filter(|path| {
                ["bar", "bay", "baz", "foo", "Dockerfile", ".dockerignore"].contains(&path.as_str())
            })
            .collect();
        assert_eq!(top, ["bay", "foo"]);
    }

    #[test]
    fn skipping_excluded_directories_loses_nothing() {
        // `a/b` then `!a`: where the walker and the one-shot question disagree (below).
        let disagreeing: &[&str] = &["a/b", "!a"];
        for patterns in PATTERN_SETS.iter().chain([&disagreeing]) {
            let matcher = matcher(patterns);
            assert_eq!(walk(&matcher, true), walk(&matcher, false), "{patterns:?}");
        }
    }

    #[test]
    fn the_walker_agrees_with_the_one_shot_question_in_the_usual_cases() {
        for patterns in PATTERN_SETS {
            let matcher = matcher(patterns);
            assert_eq!(walk(&matcher, false), one_by_one(&matcher), "{patterns:?}");
        }
    }

    #[test]
    fn the_walker_and_the_one_shot_question_disagree_when_an_exception_names_a_parent() {
        let matcher = matcher(&["a/b", "!a"]);
        assert!(!matcher.matches_or_parent_matches("a/b").unwrap());
        assert!(walk(&matcher, false).iter().all(|path| path != "a/b"));
        let (_, at_a) = matcher
            .matches_using_parent_results("a", &MatchInfo::default())
            .unwrap();
        assert!(
            matcher
                .matches_using_parent_results("a/b", &at_a)
                .unwrap()
                .0
        );
    }

    #[test]
    fn an_excluded_directory_is_skipped_only_when_no_exception_reaches_under_it() {
        let plain = matcher(&["docs", "node_modules"]);
        assert!(plain.can_skip_excluded_dir("docs"));
        let literal = matcher(&["*", "!docs/README.md", "!src/**"]);
        assert!(literal.can_skip_excluded_dir("target"));
        assert!(!literal.can_skip_excluded_dir("docs"));
        assert!(!literal.can_skip_excluded_dir("src"));
        // `docs` is not under `doc`: the comparison is on whole elements.
        assert!(literal.can_skip_excluded_dir("doc"));
        let wild = matcher(&["*", "!**/keep"]);
        assert!(!wild.can_skip_excluded_dir("target"));
    }

    #[test]
    fn the_parent_rule_uses_the_path_as_given() {
        let foo = matcher(&["foo"]);
        assert!(foo.matches_or_parent_matches("foo/").unwrap());
        assert!(
            matcher(&["*/tmp/*"])
                .matches_or_parent_matches("a/tmp/b/c")
                .unwrap()
        );
        assert!(
            !matcher(&["**/dir2"])
                .matches_or_parent_matches("a/b/dir3/file")
                .unwrap()
        );
        assert!(
            matcher(&["**/dir2"])
                .matches_or_parent_matches("a/b/dir2/file")
                .unwrap()
        );
    }

    #[test]
    fn a_matcher_can_be_shared_between_threads() {
        fn shareable<T: Send + Sync>() {}
        shareable::<PatternMatcher>();
    }

    #[test]
    fn match_info_from_another_matcher_is_refused() {
        let two = matcher(&["a", "b"]);
        let (_, info) = matcher(&["a", "b", "c"])
            .matches_using_parent_results("a", &MatchInfo::default())
            .unwrap();
        assert_eq!(
            two.matches_using_parent_results("a/x", &info).unwrap_err(),
            PatternError::MatchInfoLength {
                expected: 2,
                given: 3
            }
        );
    }

    #[test]
    fn errors_reach_the_caller_only_from_a_pattern_that_is_tried() {
        let bad = matcher(&["[Local-Only]/"]);
        assert!(bad.matches_or_parent_matches("x").is_err());
        assert!(
            bad.matches_using_parent_results("x", &MatchInfo::default())
                .is_err()
        );
        // An exception is not tried while nothing is excluded.
        let bad_exception = matcher(&["!a[z-a]", "foo"]);
        assert!(!bad_exception.matches_or_parent_matches("x").unwrap());
    }

    #[test]
    fn is_excluded_cleans_the_path_and_never_excludes_the_root() {
        assert!(is_excluded("a//b/../c", ["a/c"]).unwrap());
        assert!(!is_excluded("", ["**"]).unwrap());
        assert!(!is_excluded("./", ["**"]).unwrap());
        assert_eq!(
            is_excluded("x", ["!"]).unwrap_err(),
            PatternError::LoneExclamation
        );
    }
}
