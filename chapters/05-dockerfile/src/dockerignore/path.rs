//! Paths as Go's `path/filepath` reads them on Unix.
//!
//! Docker cleans every ignore pattern with Go's `filepath.Clean`, and finds the directories above
//! a path with `filepath.Dir`; a matcher that is to agree with Docker's must clean the same way.
//! Both are purely lexical: they never look at the disk, so `a/../b` is `b` even where `a` is a
//! symbolic link. Paths here are relative to the build context and separated by `/`.

use std::borrow::Cow;

/// The shortest path equivalent to `path` by lexical processing alone, as Go's
/// `filepath.Clean`: repeated slashes become one, `.` elements go, each `..` removes the element
/// before it (and `..` right after the root is dropped: `/..` is `/`), a trailing slash goes,
/// and what is left of an emptied path is `.`.
///
/// ```
/// use ch05_dockerfile::dockerignore::path::clean;
///
/// assert_eq!(clean("./a//b/../c/"), "a/c");
/// assert_eq!(clean("../x"), "../x");
/// assert_eq!(clean("/../x"), "/x");
/// assert_eq!(clean(""), ".");
/// ```
pub fn clean(path: &str) -> Cow<'_, str> {
    if is_clean(path) {
        // The common case (a walker's paths, most patterns): nothing to allocate.
        return Cow::Borrowed(path);
    }
    let rooted = path.starts_with('/');
    let mut kept: Vec<&str> = Vec::new();
    for element in path.split('/') {
        match element {
            "" | "." => {}
            ".." => match kept.last() {
                Some(&last) if last != ".." => {
                    kept.pop();
                }
                // Nothing is above the root, so `/..` is `/`; a relative path keeps its
                // leading `..` elements.
                _ if rooted => {}
                _ => kept.push(".."),
            },
            name => kept.push(name),
        }
    }
    let joined = kept.join("/");
    Cow::Owned(match (rooted, joined.is_empty()) {
        (true, _) => format!("/{joined}"),
        (false, true) => ".".to_string(),
        (false, false) => joined,
    })
}

/// Whether [`clean`] would give `path` back unchanged: no empty, `.` or `..` element and no
/// trailing slash. (A path with `..` may be clean too, `../x`; [`clean`] then rebuilds it equal.)
fn is_clean(path: &str) -> bool {
    if path == "/" {
        return true;
    }
    let relative = path.strip_prefix('/').unwrap_or(path);
    !relative.is_empty()
        && relative
            .split('/')
            .all(|element| !matches!(element, "" | "." | ".."))
}

/// All of `path` but its last element, cleaned, as Go's `filepath.Dir`: `a/b/c` gives `a/b`,
/// `a/b/` gives `a/b` (the last element is the empty one), `c` gives `.`, `/c` gives `/`.
///
/// ```
/// use ch05_dockerfile::dockerignore::path::dir;
///
/// assert_eq!(dir("docs/api/index.md"), "docs/api");
/// assert_eq!(dir("file/"), "file");
/// assert_eq!(dir("file"), ".");
/// ```
pub fn dir(path: &str) -> Cow<'_, str> {
    match path.rfind('/') {
        None => Cow::Borrowed("."),
        Some(0) => Cow::Borrowed("/"),
        // Cleaning `a/b/` and `a/b` gives the same; cutting the slash off spares an allocation.
        Some(last) => clean(&path[..last]),
    }
}

/// The directories from the top down to `dir` itself, as moby lists a path's parents to try
/// each against a pattern: `a/b/c` gives `a`, `a/b`, `a/b/c`. A rooted `dir` starts with the
/// empty path: `/a` gives `` and `/a`.
///
/// ```
/// use ch05_dockerfile::dockerignore::path::prefixes;
///
/// assert_eq!(prefixes("a/b/c").collect::<Vec<_>>(), ["a", "a/b", "a/b/c"]);
/// ```
pub fn prefixes(dir: &str) -> impl Iterator<Item = &str> {
    dir.match_indices('/')
        .map(move |(end, _)| &dir[..end])
        .chain(std::iter::once(dir))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clean_agrees_with_go_on_its_own_examples() {
        let cases = [
            ("", "."),
            ("abc", "abc"),
            ("abc/def", "abc/def"),
            (".", "."),
            ("..", ".."),
            ("../..", "../.."),
            ("../../abc", "../../abc"),
            ("/abc", "/abc"),
            ("/", "/"),
            ("abc/", "abc"),
            ("abc/def/", "abc/def"),
            ("/abc/", "/abc"),
            ("abc//def//ghi", "abc/def/ghi"),
            ("//abc", "/abc"),
            ("///abc", "/abc"),
            ("//abc//", "/abc"),
            ("abc/./def", "abc/def"),
            ("/./abc/def", "/abc/def"),
            ("abc/.", "abc"),
            ("abc/def/ghi/../jkl", "abc/def/jkl"),
            ("abc/def/../ghi/../jkl", "abc/jkl"),
            ("abc/def/..", "abc"),
            ("abc/def/../..", "."),
            ("/abc/def/../..", "/"),
            ("abc/def/../../..", ".."),
            ("/abc/def/../../..", "/"),
            ("abc/def/../../../ghi/jkl/../../../mno", "../../mno"),
            ("/../abc", "/abc"),
            ("abc/./../def", "def"),
            ("abc//./../def", "def"),
            ("abc/../../././../def", "../../def"),
            // `!` is an ordinary character to Clean: `!.` is a name, not `.`.
            ("!./foo", "!./foo"),
            ("!/a/../b", "!/b"),
        ];
        for (path, cleaned) in cases {
            assert_eq!(clean(path), cleaned, "clean({path:?})");
        }
    }

    #[test]
    fn a_clean_path_is_borrowed_not_copied() {
        assert!(matches!(clean("a/b/c"), Cow::Borrowed(_)));
        assert!(matches!(clean("/a"), Cow::Borrowed(_)));
        assert!(matches!(clean("a/b/"), Cow::Owned(_)));
    }

    #[test]
    fn dir_cleans_what_is_left_of_the_path() {
        let cases = [
            ("", "."),
            ("a", "."),
            ("a/b", "a"),
            ("a/b/", "a/b"),
            ("a//b", "a"),
            ("a/./b", "a"),
            ("./a", "."),
            ("a/../b/c", "b"),
            ("/", "/"),
            ("/a", "/"),
            ("//a", "/"),
            ("/a/b", "/a"),
            ("../x", ".."),
        ];
        for (path, parent) in cases {
            assert_eq!(dir(path), parent, "dir({path:?})");
        }
    }

    #[test]
    fn prefixes_of_a_rooted_dir_start_with_the_empty_path() {
        assert_eq!(prefixes("/").collect::<Vec<_>>(), ["", "/"]);
        assert_eq!(prefixes("/a").collect::<Vec<_>>(), ["", "/a"]);
        assert_eq!(prefixes("..").collect::<Vec<_>>(), [".."]);
    }
}
