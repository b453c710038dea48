//! Applying layer archives: what a good archive becomes on disk, and that hostile archives
//! cannot reach outside their target. Archives are built here, byte by byte where a shape is
//! one the `tar` crate's builder rightly refuses to write.

use std::fs;
use std::io::Write;
use std::os::unix::fs::{FileTypeExt, MetadataExt};
use std::path::{Path, PathBuf};

use ch01_namespaces::Narrator;
use ch03_union_fs::Error;
use ch03_union_fs::archive::{ApplyOptions, Whiteouts, apply, apply_file, apply_to_end};
use dockyard_tests::{require_root, tree_listing};
use sha2::{Digest, Sha256};
use tar::{EntryType, Header};

/// One raw entry: any name, any link target, written without checks.
fn entry(name: &str, kind: EntryType, link: &str, data: &[u8]) -> Vec<u8> {
    let mut header = Header::new_gnu();
    {
        let old = header.as_old_mut();
        old.name[..name.len()].copy_from_slice(name.as_bytes());
        old.linkname[..link.len()].copy_from_slice(link.as_bytes());
    }
    header.set_entry_type(kind);
    header.set_mode(if kind == EntryType::Directory {
        0o755
    } else {
        0o644
    });
    header.set_uid(0);
    header.set_gid(0);
    header.set_mtime(1_700_000_000);
    header.set_size(data.len() as u64);
    header.set_cksum();
    let mut bytes = header.as_bytes().to_vec();
    bytes.extend_from_slice(data);
    bytes.resize(bytes.len().div_ceil(512) * 512, 0);
    bytes
}

fn file(name: &str, data: &str) -> Vec<u8> {
    entry(name, EntryType::Regular, "", data.as_bytes())
}

fn symlink(name: &str, target: &str) -> Vec<u8> {
    entry(name, EntryType::Symlink, target, b"")
}

fn hardlink(name: &str, target: &str) -> Vec<u8> {
    entry(name, EntryType::Link, target, b"")
}

/// A PAX extended header carrying `records` for the entry after it.
fn pax(records: &[(&str, &[u8])]) -> Vec<u8> {
    let mut body = Vec::new();
    for (key, value) in records {
        let rest = key.len() + value.len() + 3;
        let mut len = rest + 1;
        while rest + len.to_string().len() != len {
            len = rest + len.to_string().len();
        }
        body.extend(format!("{len} {key}=").bytes());
        body.extend_from_slice(value);
        body.push(b'\n');
    }
    entry("PaxHeaders/x", EntryType::XHeader, "", &body)
}

fn archive(entries: &[Vec<u8>]) -> Vec<u8> {
    let mut bytes: Vec<u8> = entries.concat();
    bytes.extend([0u8; 1024]);
    bytes
}

/// A temporary directory holding `target/` and, beside it, `outside/sentinel`.
struct Scene {
    dir: tempfile::TempDir,
}

impl Scene {
    fn new() -> Scene {
        let dir = tempfile::Builder::new()
            .prefix("dockyard-archive-")
            .tempdir()
            .unwrap();
        fs::create_dir(dir.path().join("target")).unwrap();
        fs::create_dir(dir.path().join("outside")).unwrap();
        fs::write(dir.path().join("outside/sentinel"), "untouched\n").unwrap();
        Scene { dir }
    }

    fn target(&self) -> PathBuf {
        self.dir.path().join("target")
    }

    fn outside(&self) -> PathBuf {
        self.dir.path().join("outside")
    }

    /// Everything in the scene except the target.
    fn outside_listing(&self) -> String {
        tree_listing(self.dir.path(), true)
            .lines()
            .filter(|l| !l.starts_with("/target"))
            .map(|l| format!("{l}\n"))
            .collect()
    }

    fn apply(&self, bytes: Vec<u8>, options: &ApplyOptions) -> Result<(), Error> {
        apply(
            std::io::Cursor::new(bytes),
            &self.target(),
            options,
            &Narrator::silent(),
        )
        .map(|_| ())
    }

    /// Applies a hostile archive and checks nothing outside the target changed; returns the
    /// result for the case to check.
    fn hostile(&self, entries: &[Vec<u8>]) -> Result<(), Error> {
        let before = self.outside_listing();
        let result = self.apply(
            archive(entries),
            &ApplyOptions::for_this_process(Whiteouts::Overlay),
        );
        assert_eq!(
            self.outside_listing(),
            before,
            "something outside the target changed"
        );
        assert_eq!(
            fs::read_to_string(self.outside().join("sentinel")).unwrap(),
            "untouched\n"
        );
        result
    }
}

fn refused(result: Result<(), Error>, reason: &str) {
    match result {
        Err(Error::UnsafeEntry { reason: r, .. }) => assert!(r.contains(reason), "{r}"),
        other => panic!("expected a refusal ({reason}), got {other:?}"),
    }
}

#[test]
fn parent_directory_names_are_refused() {
    let scene = Scene::new();
    refused(scene.hostile(&[file("../outside/pwned", "x")]), "'..'");
    refused(scene.hostile(&[file("a/../../outside/pwned", "x")]), "'..'");
    refused(scene.hostile(&[file("./../pwned", "x")]), "'..'");
}

#[test]
fn absolute_names_land_inside_the_target() {
    let scene = Scene::new();
    let abs = scene.outside().join("pwned");
    scene.hostile(&[file(abs.to_str().unwrap(), "x")]).unwrap();
    assert!(!abs.exists());
    let inside = scene.target().join(abs.strip_prefix("/").unwrap());
    assert_eq!(fs::read_to_string(inside).unwrap(), "x");
}

#[test]
fn writing_through_a_planted_symlink_stays_inside() {
    require_root!();
    let scene = Scene::new();
    let outside = scene.outside().display().to_string();
    // A link to the real outside directory, then an entry writing "through" it: the link is
    // resolved as if the target were /, where that directory does not exist.
    let through = scene.hostile(&[symlink("evil", &outside), file("evil/sentinel", "pwned\n")]);
    assert!(matches!(through, Err(Error::Io { .. })), "{through:?}");
    // Absolute links are normal in images (/bin -> /usr/bin): inside the target they work.
    scene
        .hostile(&[
            entry("data", EntryType::Directory, "", b""),
            symlink("abs", "/data"),
            file("abs/new", "x\n"),
        ])
        .unwrap();
    assert_eq!(
        fs::read_to_string(scene.target().join("data/new")).unwrap(),
        "x\n"
    );
}

#[test]
fn symlinks_climbing_out_resolve_to_the_targets_root() {
    require_root!();
    let scene = Scene::new();
    let marker = format!("dockyard-pwned-{}", std::process::id());
    scene
        .hostile(&[
            symlink("up", "../../../../../../.."),
            symlink("root", "/"),
            file(&format!("up/{marker}"), "x"),
            file(&format!("root/{marker}-2"), "x"),
            entry("up/made-dir", EntryType::Directory, "", b""),
        ])
        .unwrap();
    assert!(!Path::new("/").join(&marker).exists());
    assert!(scene.target().join(&marker).exists());
    assert!(scene.target().join(format!("{marker}-2")).exists());
    assert!(scene.target().join("made-dir").is_dir());
}

#[test]
fn a_file_replaces_a_planted_symlink_instead_of_writing_through_it() {
    require_root!();
    let scene = Scene::new();
    let sentinel = scene.outside().join("sentinel");
    scene
        .hostile(&[
            symlink("f", sentinel.to_str().unwrap()),
            file("f", "pwned\n"),
        ])
        .unwrap();
    let meta = fs::symlink_metadata(scene.target().join("f")).unwrap();
    assert!(meta.is_file(), "the link was replaced by a file");
}

#[test]
fn hard_links_cannot_reach_outside() {
    require_root!();
    let scene = Scene::new();
    let sentinel = scene.outside().join("sentinel");
    refused(
        scene.hostile(&[hardlink("h", "../outside/sentinel")]),
        "'..'",
    );
    // An absolute target is the target's own path of that name, where nothing is.
    let absolute = scene.hostile(&[hardlink("h", sentinel.to_str().unwrap())]);
    assert!(matches!(absolute, Err(Error::Io { .. })), "{absolute:?}");
    // Through a planted link: resolved inside the target, where there is nothing to link to.
    let through = scene.hostile(&[
        symlink("s", scene.outside().to_str().unwrap()),
        hardlink("h", "s/sentinel"),
    ]);
    assert!(matches!(through, Err(Error::Io { .. })), "{through:?}");
    assert_eq!(
        fs::metadata(&sentinel).unwrap().nlink(),
        1,
        "the outside file got a new link"
    );
}

#[test]
fn whiteouts_through_planted_links_delete_nothing_outside() {
    require_root!();
    let scene = Scene::new();
    // Each is either refused or contained; `hostile` checks that nothing outside changed.
    let outside = scene.outside().display().to_string();
    let _ = scene.hostile(&[symlink("w", &outside), file("w/.wh.sentinel", "")]);
    let options = ApplyOptions::for_this_process(Whiteouts::Delete);
    let before = scene.outside_listing();
    let planted = [
        archive(&[symlink("d", "../outside"), file("d/.wh.sentinel", "")]),
        archive(&[symlink("e", "/"), file("e/.wh..wh..opq", "")]),
    ];
    for bytes in planted {
        let _ = scene.apply(bytes, &options);
    }
    assert_eq!(scene.outside_listing(), before);
    refused(scene.hostile(&[file("a/.wh.", "")]), "whiteout");
}

#[test]
fn overlay_attributes_and_devices_are_not_taken_from_an_archive() {
    require_root!();
    let scene = Scene::new();
    scene
        .hostile(&[
            pax(&[
                ("SCHILY.xattr.trusted.overlay.redirect", b"/etc"),
                ("SCHILY.xattr.user.kept", b"yes"),
            ]),
            entry("dir", EntryType::Directory, "", b""),
        ])
        .unwrap();
    let dir = scene.target().join("dir");
    let mut value = [0u8; 16];
    assert!(rustix::fs::lgetxattr(&dir, "trusted.overlay.redirect", &mut value[..]).is_err());
    let n = rustix::fs::lgetxattr(&dir, "user.kept", &mut value[..]).unwrap();
    assert_eq!(&value[..n], b"yes");

    let no_devices = ApplyOptions {
        whiteouts: Whiteouts::Overlay,
        special_files: false,
        same_owner: false,
    };
    let device = {
        let mut bytes = entry("null", EntryType::Char, "", b"");
        let mut header = Header::new_gnu();
        header.as_mut_bytes().copy_from_slice(&bytes[..512]);
        header.set_device_major(1).unwrap();
        header.set_device_minor(3).unwrap();
        header.set_cksum();
        bytes[..512].copy_from_slice(header.as_bytes());
        bytes
    };
    refused(
        scene.apply(archive(std::slice::from_ref(&device)), &no_devices),
        "device",
    );
    assert!(!scene.target().join("null").exists());
}

#[test]
fn corrupt_and_truncated_archives_fail_cleanly() {
    let scene = Scene::new();
    let options = ApplyOptions::for_this_process(Whiteouts::Overlay);
    let good = archive(&[file("a", "hello\n")]);
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(&good).unwrap();
    let gz = gz.finish().unwrap();
    let truncated = gz[..gz.len() / 2].to_vec();
    assert!(matches!(
        scene.apply(truncated, &options),
        Err(Error::CorruptArchive(_))
    ));
    let mut garbage = vec![0x1f, 0x8b];
    garbage.extend(std::iter::repeat_n(0x42, 4000));
    assert!(matches!(
        scene.apply(garbage, &options),
        Err(Error::CorruptArchive(_))
    ));
    let mut short_entry = file("b", &"x".repeat(2000));
    short_entry.truncate(1024);
    assert!(matches!(
        scene.apply(short_entry, &options),
        Err(Error::CorruptArchive(_))
    ));
}

#[test]
fn an_archive_that_fails_part_way_is_still_hashed_to_its_end() {
    let options = ApplyOptions::for_this_process(Whiteouts::Overlay);
    let sha256 = |bytes: &[u8]| format!("sha256:{:x}", Sha256::digest(bytes));
    let big = "x".repeat(3 << 20);
    let good = archive(&[file("a", &big), file("b", &big)]);
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(&good).unwrap();
    let gz = gz.finish().unwrap();

    // A deflate stream whose second half is overwritten, with megabytes more after it: the
    // archive fails part-way, the rest of the input is still read, and the digest is that of
    // all of it.
    let mut broken = gz.clone();
    let middle = broken.len() / 2;
    broken[middle..].fill(0xff);
    broken.extend(std::iter::repeat_n(0x42, 8 << 20));
    let scene = Scene::new();
    let failure = apply_to_end(
        std::io::Cursor::new(broken.clone()),
        &scene.target(),
        &options,
        &Narrator::silent(),
    )
    .expect_err("a broken deflate stream");
    assert!(
        matches!(failure.error, Error::CorruptArchive(_)),
        "{:?}",
        failure.error
    );
    assert_eq!(failure.digest, Some(sha256(&broken)));

    // The tar reader refuses an entry (the decompressor had nothing against it): the same.
    let hostile = archive(&[
        file("a", &big),
        file("../outside/pwned", "x"),
        file("b", &big),
    ]);
    let scene = Scene::new();
    let outside = scene.outside_listing();
    let failure = apply_to_end(
        std::io::Cursor::new(hostile.clone()),
        &scene.target(),
        &options,
        &Narrator::silent(),
    )
    .expect_err("a hostile entry");
    assert!(
        matches!(failure.error, Error::UnsafeEntry { .. }),
        "{:?}",
        failure.error
    );
    assert_eq!(failure.digest, Some(sha256(&hostile)));
    assert_eq!(scene.outside_listing(), outside);

    // A good archive: the same digests as apply's.
    let scene = Scene::new();
    let applied = apply_to_end(
        std::io::Cursor::new(gz.clone()),
        &scene.target(),
        &options,
        &Narrator::silent(),
    )
    .expect("a good archive");
    assert_eq!(applied.digest, sha256(&gz));
    assert_eq!(applied.diff_id, sha256(&good));
    assert_eq!(applied.compressed_size, gz.len() as u64);
}

#[test]
fn every_kind_of_entry_keeps_its_metadata_with_any_compression() {
    require_root!();
    let tar_bytes = {
        let mut b = tar::Builder::new(Vec::new());
        let mut add = |path: &str,
                       kind: EntryType,
                       mode: u32,
                       owner: u64,
                       link: Option<&str>,
                       data: &[u8]| {
            let mut h = Header::new_gnu();
            h.set_entry_type(kind);
            h.set_mode(mode);
            h.set_uid(owner);
            h.set_gid(owner);
            h.set_mtime(1_600_000_000);
            h.set_size(data.len() as u64);
            if kind == EntryType::Char {
                h.set_device_major(1).unwrap();
                h.set_device_minor(3).unwrap();
            }
            match link {
                Some(target) => b.append_link(&mut h, path, target).unwrap(),
                None => b.append_data(&mut h, path, data).unwrap(),
            }
        };
        add("dir", EntryType::Directory, 0o750, 1000, None, b"");
        add(
            "dir/suid",
            EntryType::Regular,
            0o4755,
            0,
            None,
            b"#!/bin/sh\n",
        );
        add(
            "dir/owned",
            EntryType::Regular,
            0o640,
            1000,
            None,
            b"mine\n",
        );
        add(
            "dir/hard",
            EntryType::Link,
            0o640,
            1000,
            Some("dir/owned"),
            b"",
        );
        add("dir/soft", EntryType::Symlink, 0o777, 0, Some("owned"), b"");
        add("dir/fifo", EntryType::Fifo, 0o600, 0, None, b"");
        add("dir/null", EntryType::Char, 0o666, 0, None, b"");
        b.into_inner().unwrap()
    };
    let expected_diff_id = format!("sha256:{:x}", Sha256::digest(&tar_bytes));
    let gzip = {
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        e.write_all(&tar_bytes).unwrap();
        e.finish().unwrap()
    };
    let zstd = zstd::encode_all(&tar_bytes[..], 3).unwrap();
    let mut listings = Vec::new();
    for (name, bytes) in [("plain", tar_bytes.clone()), ("gzip", gzip), ("zstd", zstd)] {
        let scene = Scene::new();
        let path = scene.dir.path().join(format!("layer.{name}"));
        fs::write(&path, &bytes).unwrap();
        let options = ApplyOptions::for_this_process(Whiteouts::Overlay);
        let applied = apply_file(&path, &scene.target(), &options, &Narrator::silent()).unwrap();
        assert_eq!(applied.diff_id, expected_diff_id, "{name}");
        assert_eq!(
            applied.digest,
            format!("sha256:{:x}", Sha256::digest(&bytes)),
            "{name}"
        );
        assert_eq!(applied.entries, 7);
        let dir = scene.target().join("dir");
        let owned = fs::metadata(dir.join("owned")).unwrap();
        assert_eq!(
            owned.ino(),
            fs::metadata(dir.join("hard")).unwrap().ino(),
            "hard link"
        );
        assert!(
            fs::symlink_metadata(dir.join("fifo"))
                .unwrap()
                .file_type()
                .is_fifo()
        );
        assert!(
            fs::symlink_metadata(dir.join("null"))
                .unwrap()
                .file_type()
                .is_char_device()
        );
        listings.push(tree_listing(&scene.target(), true));
    }
    assert_eq!(listings[0], listings[1]);
    assert_eq!(listings[0], listings[2]);
    insta::assert_snapshot!("every_kind", listings[0]);
}

#[test]
fn whiteouts_become_overlay_nodes_or_deletions() {
    require_root!();
    let lower = archive(&[
        entry("d", EntryType::Directory, "", b""),
        file("d/old", "old\n"),
        file("gone", "x\n"),
        entry("opaque", EntryType::Directory, "", b""),
        file("opaque/lower", "x\n"),
    ]);
    let upper = archive(&[
        file(".wh.gone", ""),
        entry("opaque", EntryType::Directory, "", b""),
        file("opaque/.wh..wh..opq", ""),
        file("opaque/upper", "new\n"),
        file("d/.wh.old", ""),
    ]);
    let scene = Scene::new();
    let delete = ApplyOptions::for_this_process(Whiteouts::Delete);
    scene.apply(lower.clone(), &delete).unwrap();
    scene.apply(upper.clone(), &delete).unwrap();
    insta::assert_snapshot!("whiteouts_deleted", tree_listing(&scene.target(), false));

    let layer = Scene::new();
    layer
        .apply(upper, &ApplyOptions::for_this_process(Whiteouts::Overlay))
        .unwrap();
    insta::assert_snapshot!("whiteouts_overlay", tree_listing(&layer.target(), false));
    let mut value = [0u8; 4];
    let n = rustix::fs::lgetxattr(
        layer.target().join("opaque"),
        "trusted.overlay.opaque",
        &mut value[..],
    )
    .unwrap();
    assert_eq!(&value[..n], b"y");
}
