//! Where a copy lands: docker's rules, the same in both directions.
//!
//! The source is a file or a directory; the destination exists as a directory, exists as
//! something else, or does not exist (its parent must). Moby's `PrepareArchiveCopy`
//! (`pkg/archive/copy.go`, now the `go-archive` module) decides from those two facts which
//! directory the copy is unpacked into and under which name; so does [`place`]:
//!
//! | source | destination | the copy |
//! |---|---|---|
//! | file or directory | an existing directory | goes inside it, under its own name (`SRC/.`: its contents do) |
//! | directory | an existing file | refused: `cannot copy directory` |
//! | file | an existing file | replaces it |
//! | directory | missing | becomes it (a new directory with the source's contents) |
//! | file | missing, ending with `/` | refused: `no such directory` |
//! | file | missing | becomes it (a new file) |

use super::error::Error;

/// What is copied.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Source {
    /// Whether it is a directory.
    pub is_dir: bool,
    /// Whether its contents are copied rather than itself (`SRC/.`, or the root).
    pub contents: bool,
    /// The name its copy takes inside a destination directory.
    pub name: String,
}

/// What is at the destination.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Destination {
    /// Its elements from the root (of the container, or of this machine).
    pub parts: Vec<String>,
    /// Whether something is there.
    pub exists: bool,
    /// Whether that is a directory.
    pub is_dir: bool,
    /// Whether the path ends with `/` or `/.`.
    pub asserts_dir: bool,
}

/// Where the copy goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Placement {
    /// The directory it goes into, from the root; it must exist.
    pub dir: Vec<String>,
    /// What it becomes there.
    pub name: Name,
}

/// What a copy becomes in the directory it goes into.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Name {
    /// An entry of this name (the source itself, renamed or not).
    Entry(String),
    /// Nothing of its own: the source directory's contents go into the directory.
    Contents,
}

/// Where a copy of `source` to `dest` goes, as `docker cp` decides it.
pub fn place(source: &Source, dest: &Destination) -> Result<Placement, Error> {
    let into_parent = |dest: &Destination| {
        let (base, parent) = dest
            .parts
            .split_last()
            .expect("a missing path is not the root");
        Placement {
            dir: parent.to_vec(),
            name: Name::Entry(base.clone()),
        }
    };
    if dest.exists && dest.is_dir {
        let name = if source.contents {
            Name::Contents
        } else {
            Name::Entry(source.name.clone())
        };
        return Ok(Placement {
            dir: dest.parts.clone(),
            name,
        });
    }
    if dest.exists && source.is_dir {
        return Err(Error::CannotCopyDirectory);
    }
    if !dest.exists && !source.is_dir && dest.asserts_dir {
        return Err(Error::NoSuchDirectory);
    }
    // A file replacing a file, or a new file or directory: it takes the destination's name.
    Ok(into_parent(dest))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn source(is_dir: bool, contents: bool) -> Source {
        Source {
            is_dir,
            contents,
            name: "src".into(),
        }
    }

    fn dest(exists: bool, is_dir: bool, asserts_dir: bool) -> Destination {
        Destination {
            parts: vec!["srv".into(), "dst".into()],
            exists,
            is_dir,
            asserts_dir,
        }
    }

    fn placed(dir: &[&str], name: Name) -> Placement {
        Placement {
            dir: dir.iter().map(|s| s.to_string()).collect(),
            name,
        }
    }

    fn entry(name: &str) -> Name {
        Name::Entry(name.into())
    }

    #[test]
    fn into_an_existing_directory_a_copy_keeps_its_name_or_spills_its_contents() {
        let into = dest(true, true, false);
        for is_dir in [false, true] {
            assert_eq!(
                place(&source(is_dir, false), &into).unwrap(),
                placed(&["srv", "dst"], entry("src"))
            );
        }
        assert_eq!(
            place(&source(true, true), &into).unwrap(),
            placed(&["srv", "dst"], Name::Contents)
        );
    }

    #[test]
    fn onto_an_existing_file_only_a_file_goes_and_takes_its_name() {
        let file = dest(true, false, false);
        assert_eq!(
            place(&source(false, false), &file).unwrap(),
            placed(&["srv"], entry("dst"))
        );
        assert!(matches!(
            place(&source(true, false), &file),
            Err(Error::CannotCopyDirectory)
        ));
        assert!(matches!(
            place(&source(true, true), &file),
            Err(Error::CannotCopyDirectory)
        ));
    }

    #[test]
    fn a_missing_destination_becomes_the_copy_unless_a_file_would_need_a_directory() {
        for (is_dir, contents) in [(true, false), (true, true), (false, false)] {
            assert_eq!(
                place(&source(is_dir, contents), &dest(false, false, false)).unwrap(),
                placed(&["srv"], entry("dst"))
            );
        }
        assert_eq!(
            place(&source(true, false), &dest(false, false, true)).unwrap(),
            placed(&["srv"], entry("dst"))
        );
        assert!(matches!(
            place(&source(false, false), &dest(false, false, true)),
            Err(Error::NoSuchDirectory)
        ));
    }
}
