//! `COPY` and `ADD` for real, into a plain directory standing for the image's root filesystem:
//! docker's rules (checked against docker 20.10's legacy builder), the context's
//! `.dockerignore`, and symbolic links on either side that must not lead a read or a write
//! outside its root. Each test has its own scene: `context/`, `rootfs/`, and beside them
//! `outside/sentinel`, which nothing may touch.

use std::fs;
use std::os::unix::fs::{MetadataExt, PermissionsExt, symlink};
use std::path::{Path, PathBuf};

use ch05_dockerfile::Error;
use ch05_dockerfile::build::copy::{
    CopyError, CopyInstruction, Source, SourceDigest, copy, hash_sources,
};
use ch05_dockerfile::context::Context;
use ch05_dockerfile::instructions::Chmod;
use dockyard_tests::{require_root, tree_listing};

/// A build context, a root filesystem, and a directory beside them nothing may touch.
struct Scene {
    dir: tempfile::TempDir,
}

impl Scene {
    fn new() -> Scene {
        let dir = tempfile::Builder::new()
            .prefix("dockyard-copy-")
            .tempdir()
            .unwrap();
        for sub in ["context", "rootfs", "outside"] {
            fs::create_dir(dir.path().join(sub)).unwrap();
        }
        fs::write(dir.path().join("outside/sentinel"), "untouched\n").unwrap();
        Scene { dir }
    }

    fn context_dir(&self) -> PathBuf {
        self.dir.path().join("context")
    }

    fn rootfs(&self) -> PathBuf {
        self.dir.path().join("rootfs")
    }

    fn outside(&self) -> PathBuf {
        self.dir.path().join("outside")
    }

    /// Writes a context file (parents created), with `mode`.
    fn file(&self, path: &str, content: &str, mode: u32) -> &Scene {
        let path = self.context_dir().join(path);
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(&path, content).unwrap();
        fs::set_permissions(&path, fs::Permissions::from_mode(mode)).unwrap();
        self
    }

    fn context(&self) -> Context {
        Context::from_dir(&self.context_dir()).unwrap()
    }

    /// Runs `COPY` (or `ADD` with `add`) of `sources` to `destination` from the context.
    fn copy(&self, instruction: CopyInstruction) -> Result<(), Error> {
        let context = self.context();
        let before = self.outside_listing();
        let result = copy(&Source::Context(&context), &instruction, &self.rootfs());
        assert_eq!(self.outside_listing(), before, "something outside changed");
        result
    }

    /// Everything outside the root filesystem and the context.
    fn outside_listing(&self) -> String {
        tree_listing(&self.outside(), true)
    }

    /// The listing of the root filesystem, without times.
    fn listing(&self) -> String {
        tree_listing(&self.rootfs(), false)
    }

    fn mtime(&self, path: &str) -> i64 {
        fs::symlink_metadata(self.rootfs().join(path))
            .unwrap()
            .mtime()
    }
}

fn instruction(sources: &[&str], destination: &str) -> CopyInstruction {
    CopyInstruction {
        sources: sources.iter().map(|s| s.to_string()).collect(),
        destination: destination.into(),
        workdir: "/".into(),
        ..CopyInstruction::default()
    }
}

fn set_mtime(path: &Path, seconds: i64) {
    let time = std::time::UNIX_EPOCH + std::time::Duration::from_secs(seconds as u64);
    let file = fs::File::open(path).unwrap();
    file.set_modified(time).unwrap();
}

/// The listing's lines for `paths`, in order.
fn lines_of(listing: &str, paths: &[&str]) -> String {
    paths
        .iter()
        .map(|path| {
            let line = listing
                .lines()
                .find(|line| line.split(' ').next() == Some(path))
                .unwrap_or_else(|| panic!("{path} is not in\n{listing}"));
            format!("{line}\n")
        })
        .collect()
}

#[test]
fn files_keep_mode_and_time_and_belong_to_root() {
    require_root!();
    let scene = Scene::new();
    scene
        .file("a.txt", "a\n", 0o640)
        .file("b.txt", "bb\n", 0o755);
    set_mtime(&scene.context_dir().join("a.txt"), 1_000_000_000);
    std::os::unix::fs::chown(scene.context_dir().join("b.txt"), Some(1000), Some(1000)).unwrap();
    scene.copy(instruction(&["a.txt"], "/one")).unwrap();
    scene
        .copy(instruction(&["a.txt", "b.txt"], "/two/"))
        .unwrap();
    // A leading `/` in a source means the context root.
    scene.copy(instruction(&["/a.txt"], "/seven")).unwrap();
    let relative = CopyInstruction {
        workdir: "/w".into(),
        ..instruction(&["a.txt"], "rel/")
    };
    scene.copy(relative).unwrap();
    // An existing directory receives the file under its own name.
    fs::create_dir(scene.rootfs().join("existing")).unwrap();
    scene.copy(instruction(&["a.txt"], "/existing")).unwrap();
    let listing = scene.listing();
    insta::assert_snapshot!(lines_of(&listing, &["/one", "/two", "/two/a.txt", "/two/b.txt", "/seven", "/w", "/w/rel", "/w/rel/a.txt", "/existing/a.txt"]), @r"
    /one f 640 0:0 2 87428fc522803d31
    /two d 755 0:0 
    /two/a.txt f 640 0:0 2 87428fc522803d31
    /two/b.txt f 755 0:0 3 a81c31ac62620b92
    /seven f 640 0:0 2 87428fc522803d31
    /w d 755 0:0 
    /w/rel d 755 0:0 
    /w/rel/a.txt f 640 0:0 2 87428fc522803d31
    /existing/a.txt f 640 0:0 2 87428fc522803d31
    ");
    assert_eq!(scene.mtime("one"), 1_000_000_000);
    assert_eq!(scene.mtime("two/a.txt"), 1_000_000_000);
}

#[test]
fn a_directory_copies_its_contents_and_links_stay_links() {
    require_root!();
    let scene = Scene::new();
    scene
        .file("dir/x", "x\n", 0o644)
        .file("dir/sub/y", "y\n", 0o600);
    let dir = scene.context_dir().join("dir");
    fs::set_permissions(dir.join("sub"), fs::Permissions::from_mode(0o700)).unwrap();
    fs::set_permissions(&dir, fs::Permissions::from_mode(0o751)).unwrap();
    symlink("/etc/passwd", dir.join("abs-link")).unwrap();
    symlink("../../outside/sentinel", dir.join("rel-link")).unwrap();
    set_mtime(&dir.join("sub"), 1_500_000_000);
    scene.copy(instruction(&["dir"], "/three")).unwrap();
    insta::assert_snapshot!(scene.listing(), @r"
    /three d 755 0:0 
    /three/abs-link l 777 0:0 -> /etc/passwd
    /three/rel-link l 777 0:0 -> ../../outside/sentinel
    /three/sub d 700 0:0 
    /three/sub/y f 600 0:0 2 3bb2abb69ebb27fb
    /three/x f 644 0:0 2 73cb3858a687a849
    ");
    // Subdirectories keep their time; the destination itself is new.
    assert_eq!(scene.mtime("three/sub"), 1_500_000_000);
}

#[test]
fn chown_names_come_from_the_image_and_new_parents_follow_docker() {
    require_root!();
    let scene = Scene::new();
    scene
        .file("a.txt", "a\n", 0o644)
        .file("dir/x", "x\n", 0o644);
    let etc = scene.rootfs().join("etc");
    fs::create_dir(&etc).unwrap();
    // The image's passwd is a link, absolute: it must be read inside the image.
    fs::write(
        etc.join("passwd.real"),
        "root:x:0:0::/root:/bin/sh\napp:x:1234:99::/:/bin/sh\n",
    )
    .unwrap();
    symlink("/etc/passwd.real", etc.join("passwd")).unwrap();
    fs::write(etc.join("group"), "root:x:0:\ngrp:x:4321:\n").unwrap();
    let chown = |spec: &str, sources: &[&str], destination: &str| CopyInstruction {
        chown: Some(spec.into()),
        ..instruction(sources, destination)
    };
    scene.copy(chown("app:grp", &["a.txt"], "/owned")).unwrap();
    scene.copy(chown("app", &["a.txt"], "/primary")).unwrap();
    scene.copy(chown("1234", &["a.txt"], "/numeric")).unwrap();
    // A file: the directories created for it get the owner too.
    scene
        .copy(chown("123:456", &["a.txt"], "/five/deep/er/"))
        .unwrap();
    // A directory: only the destination does.
    scene
        .copy(chown("123:456", &["dir"], "/six/deep/"))
        .unwrap();
    let listing = scene.listing();
    insta::assert_snapshot!(lines_of(&listing, &["/owned", "/primary", "/numeric", "/five", "/five/deep", "/five/deep/er", "/five/deep/er/a.txt", "/six", "/six/deep", "/six/deep/x"]), @r"
    /owned f 644 1234:4321 2 87428fc522803d31
    /primary f 644 1234:99 2 87428fc522803d31
    /numeric f 644 1234:1234 2 87428fc522803d31
    /five d 755 123:456 
    /five/deep d 755 123:456 
    /five/deep/er d 755 123:456 
    /five/deep/er/a.txt f 644 123:456 2 87428fc522803d31
    /six d 755 0:0 
    /six/deep d 755 123:456 
    /six/deep/x f 644 123:456 2 73cb3858a687a849
    ");
    let error = scene.copy(chown("nobody", &["a.txt"], "/x")).unwrap_err();
    assert_eq!(
        error.to_string(),
        "unable to convert uid/gid chown string to host mapping: can't find uid for user nobody: no such user: nobody"
    );
    let error = scene
        .copy(chown("app:nogroup", &["a.txt"], "/x"))
        .unwrap_err();
    assert_eq!(
        error.to_string(),
        "unable to convert uid/gid chown string to host mapping: can't find gid for group nogroup: no such group: nogroup"
    );
}

#[test]
fn chmod_sets_or_changes_modes() {
    require_root!();
    let scene = Scene::new();
    scene
        .file("a.txt", "a\n", 0o640)
        .file("dir/x", "x\n", 0o600);
    fs::create_dir(scene.context_dir().join("dir/sub")).unwrap();
    let chmod = |mode: Chmod, sources: &[&str], destination: &str| CopyInstruction {
        chmod: Some(mode),
        ..instruction(sources, destination)
    };
    scene
        .copy(chmod(Chmod::Octal(0o4755), &["a.txt"], "/octal"))
        .unwrap();
    scene
        .copy(chmod(
            Chmod::Symbolic("go+rX".into()),
            &["dir"],
            "/symbolic/",
        ))
        .unwrap();
    let listing = scene.listing();
    insta::assert_snapshot!(lines_of(&listing, &["/octal", "/symbolic/x", "/symbolic/sub"]), @r"
    /octal f 4755 0:0 2 87428fc522803d31
    /symbolic/x f 644 0:0 2 73cb3858a687a849
    /symbolic/sub d 755 0:0 
    ");
}

#[test]
fn docker_s_errors() {
    require_root!();
    let scene = Scene::new();
    scene
        .file("a.txt", "a\n", 0o644)
        .file("dir/x", "x\n", 0o644);
    fs::write(scene.dir.path().join("secret"), "s").unwrap();
    let message = |sources: &[&str], destination: &str| {
        scene
            .copy(instruction(sources, destination))
            .unwrap_err()
            .to_string()
    };
    assert_eq!(
        message(&["../secret"], "/"),
        "COPY failed: forbidden path outside the build context: ../secret ()"
    );
    assert_eq!(
        message(&["dir/../../secret"], "/"),
        "COPY failed: forbidden path outside the build context: dir/../../secret ()"
    );
    assert_eq!(
        message(&["/../secret"], "/"),
        "COPY failed: forbidden path outside the build context: /../secret ()"
    );
    assert_eq!(
        message(&["missing"], "/"),
        "COPY failed: file not found in build context or excluded by .dockerignore: stat missing: file does not exist"
    );
    assert_eq!(
        message(&["nomatch*"], "/"),
        "COPY failed: no source files were specified"
    );
    assert_eq!(
        message(&["a.tx[t"], "/"),
        "COPY failed: no source files were specified"
    );
    assert_eq!(
        message(&["a.txt", "dir"], "/d"),
        "When using COPY with more than one source file, the destination must be a directory and end with a /"
    );
    // A wildcard matching one file needs no `/`: it is the count that matters.
    scene.copy(instruction(&["*.txt"], "/single")).unwrap();
    assert!(scene.rootfs().join("single").is_file());
    let add_url = CopyInstruction {
        add: true,
        ..instruction(&["https://example.com/x"], "/")
    };
    let error = scene.copy(add_url).unwrap_err();
    assert!(
        matches!(error, Error::Copy(CopyError::RemoteSource { .. })),
        "{error}"
    );
}

#[test]
fn wildcards_match_one_path_element_at_a_time() {
    require_root!();
    let scene = Scene::new();
    scene
        .file("a.txt", "a\n", 0o644)
        .file("b.txt", "b\n", 0o644)
        .file("c.md", "c\n", 0o644)
        .file("*.txt", "star\n", 0o644)
        .file("dir/x.txt", "x\n", 0o644)
        .file("dir/sub/y.txt", "y\n", 0o644);
    scene.copy(instruction(&["*.txt"], "/all/")).unwrap();
    scene.copy(instruction(&["[ab].txt"], "/class/")).unwrap();
    // Escaped in a wildcard pattern, `\*` is a star; a path without wildcards is taken as
    // written, backslash and all (docker's legacy builder), so it names no file here.
    scene
        .copy(instruction(&[r"[*].tx\t"], "/escaped/"))
        .unwrap();
    let error = scene.copy(instruction(&[r"\*.txt"], "/x")).unwrap_err();
    assert!(
        matches!(error, Error::Copy(CopyError::NotFound { .. })),
        "{error}"
    );
    scene.copy(instruction(&["d?r/*"], "/nested/")).unwrap();
    let listing = scene.listing();
    let names = |dir: &str| -> Vec<String> {
        let mut names: Vec<String> = fs::read_dir(scene.rootfs().join(dir))
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    };
    assert_eq!(names("all"), ["*.txt", "a.txt", "b.txt"], "{listing}");
    assert_eq!(names("class"), ["a.txt", "b.txt"]);
    assert_eq!(names("escaped"), ["*.txt"]);
    // `dir/*` matched the file and the directory `sub`, whose contents were copied.
    assert_eq!(names("nested"), ["x.txt", "y.txt"]);
}

#[test]
fn source_links_are_followed_inside_the_context_only() {
    require_root!();
    let scene = Scene::new();
    scene
        .file("a.txt", "a\n", 0o644)
        .file("etc/passwd", "the context's own\n", 0o644)
        .file("dir/x", "x\n", 0o644);
    let context = scene.context_dir();
    symlink("a.txt", context.join("link-file")).unwrap();
    symlink("/etc/passwd", context.join("abs-out")).unwrap();
    symlink("../../../../../etc/passwd", context.join("rel-out")).unwrap();
    symlink("dir", context.join("linkdir")).unwrap();
    symlink("/etc/shadow", context.join("dangling")).unwrap();
    scene.copy(instruction(&["link-file"], "/l1")).unwrap();
    scene
        .copy(instruction(&["abs-out", "rel-out"], "/out/"))
        .unwrap();
    scene.copy(instruction(&["linkdir/x"], "/through")).unwrap();
    scene.copy(instruction(&["linkdir"], "/contents")).unwrap();
    let read = |path: &str| fs::read_to_string(scene.rootfs().join(path)).unwrap();
    assert_eq!(read("l1"), "a\n");
    assert_eq!(read("out/abs-out"), "the context's own\n");
    assert_eq!(read("out/rel-out"), "the context's own\n");
    assert_eq!(read("through"), "x\n");
    assert_eq!(read("contents/x"), "x\n");
    // The host's /etc/shadow is not the context's: there is none.
    let error = scene.copy(instruction(&["dangling"], "/d")).unwrap_err();
    assert!(
        matches!(error, Error::Copy(CopyError::NotFound { .. })),
        "{error}"
    );
}

#[test]
fn ignored_files_are_invisible() {
    require_root!();
    let scene = Scene::new();
    scene
        .file("a.txt", "a\n", 0o644)
        .file("hidden.txt", "h\n", 0o644)
        .file("docs/README.md", "r\n", 0o644)
        .file("docs/guide.md", "g\n", 0o644)
        .file("Dockerfile", "FROM scratch\n", 0o644)
        .file(
            ".dockerignore",
            "hidden.txt\ndocs\n!docs/README.md\nDockerfile\n",
            0o644,
        );
    symlink("hidden.txt", scene.context_dir().join("to-hidden")).unwrap();
    let context = scene.context();
    assert_eq!(context.read_file("Dockerfile").unwrap(), b"FROM scratch\n");
    assert!(context.is_ignored(Path::new("Dockerfile")));
    for source in ["hidden.txt", "docs/guide.md", "to-hidden", "Dockerfile"] {
        let error = scene.copy(instruction(&[source], "/x")).unwrap_err();
        assert_eq!(
            error.to_string(),
            format!(
                "COPY failed: file not found in build context or excluded by .dockerignore: stat {source}: file does not exist"
            )
        );
    }
    scene.copy(instruction(&["."], "/all/")).unwrap();
    scene.copy(instruction(&["*"], "/star/")).unwrap();
    let mut all: Vec<String> = tree_listing(&scene.rootfs().join("all"), false)
        .lines()
        .map(|line| line.split(' ').next().unwrap().to_owned())
        .collect();
    all.sort();
    assert_eq!(
        all,
        [
            "/.dockerignore",
            "/a.txt",
            "/docs",
            "/docs/README.md",
            "/to-hidden"
        ]
    );
    assert!(!scene.rootfs().join("star/hidden.txt").exists());
    assert!(scene.rootfs().join("star/README.md").exists());
}

#[test]
fn ignored_directories_appear_only_to_hold_what_exceptions_take_back() {
    require_root!();
    let scene = Scene::new();
    // As the `dockerignore` case recorded with docker: an excluded directory's own entry is
    // never sent; with exceptions the client still walks into it and sends what they take
    // back, and the daemon creates the directories above that (`0755`, root's).
    scene
        .file("a.txt", "a\n", 0o644)
        .file("secret/key", "k\n", 0o600)
        .file("build/out", "o\n", 0o644)
        .file("build/tmp/x", "x\n", 0o644)
        .file("hidden/keep", "keep\n", 0o640)
        .file("hidden/inner/keep", "keep\n", 0o644)
        .file("hidden/drop", "drop\n", 0o644)
        .file(
            ".dockerignore",
            "secret\n**/tmp\nhidden\n!hidden/keep\n!hidden/**/keep\n",
            0o644,
        );
    let context_dir = scene.context_dir();
    for (dir, mode) in [
        ("hidden", 0o700),
        ("hidden/inner", 0o750),
        ("secret", 0o711),
    ] {
        fs::set_permissions(context_dir.join(dir), fs::Permissions::from_mode(mode)).unwrap();
    }
    std::os::unix::fs::chown(context_dir.join("hidden"), Some(1000), Some(1000)).unwrap();
    scene.copy(instruction(&["."], "/ctx/")).unwrap();
    scene.copy(instruction(&["hidden"], "/h/")).unwrap();
    let owned = CopyInstruction {
        chown: Some("7:8".into()),
        ..instruction(&["."], "/owned/")
    };
    scene.copy(owned).unwrap();
    let listing = scene.listing();
    insta::assert_snapshot!(lines_of(&listing, &["/ctx/build", "/ctx/build/out", "/ctx/hidden", "/ctx/hidden/inner", "/ctx/hidden/inner/keep", "/ctx/hidden/keep", "/h/inner", "/h/keep", "/owned/hidden", "/owned/hidden/inner"]), @r"
    /ctx/build d 755 0:0 
    /ctx/build/out f 644 0:0 2 7427d152005f9ed0
    /ctx/hidden d 755 0:0 
    /ctx/hidden/inner d 755 0:0 
    /ctx/hidden/inner/keep f 644 0:0 5 f660a7996deacfbc
    /ctx/hidden/keep f 640 0:0 5 f660a7996deacfbc
    /h/inner d 755 0:0 
    /h/keep f 640 0:0 5 f660a7996deacfbc
    /owned/hidden d 755 7:8 
    /owned/hidden/inner d 755 7:8 
    ");
    // Nothing taken back inside: not there at all, not even empty.
    for absent in [
        "ctx/secret",
        "ctx/build/tmp",
        "ctx/hidden/drop",
        "owned/secret",
    ] {
        assert!(!scene.rootfs().join(absent).exists(), "{absent}");
    }
    let error = scene.copy(instruction(&["secret"], "/x/")).unwrap_err();
    assert!(
        error
            .to_string()
            .contains("stat secret: file does not exist"),
        "{error}"
    );

    // The digest sees what is sent: the implied directory's own metadata is not.
    let before = digest(&scene, &["."]);
    assert!(
        !before
            .files
            .iter()
            .any(|(path, _)| path == "secret" || path == "build/tmp"),
        "{:?}",
        before.files
    );
    fs::set_permissions(
        context_dir.join("hidden"),
        fs::Permissions::from_mode(0o755),
    )
    .unwrap();
    fs::write(context_dir.join("secret/key"), "changed\n").unwrap();
    assert_eq!(digest(&scene, &["."]), before);
    fs::write(context_dir.join("hidden/keep"), "changed\n").unwrap();
    assert_ne!(digest(&scene, &["."]).digest, before.digest);
}

#[test]
fn the_legacy_builder_s_copies_lose_set_uid() {
    require_root!();
    let scene = Scene::new();
    // Recorded with docker 20.10 (`modes-chown`, and by hand for the rest): a copied file
    // loses set-user-id, and set-group-id when group-executable, because the builder
    // `chown`s it after writing its mode; directories and sticky bits keep theirs.
    scene
        .file("suid", "u\n", 0o4755)
        .file("sgid", "g\n", 0o2755)
        .file("sgid-no-x", "g\n", 0o2745)
        .file("both", "b\n", 0o6755)
        .file("sticky", "t\n", 0o1755)
        .file("dir/sub/suid", "u\n", 0o4711);
    let context_dir = scene.context_dir();
    fs::set_permissions(
        context_dir.join("dir/sub"),
        fs::Permissions::from_mode(0o2755),
    )
    .unwrap();
    fs::set_permissions(context_dir.join("dir"), fs::Permissions::from_mode(0o3777)).unwrap();
    let tar = tar_of(&[entry_with(
        "t-suid",
        tar::EntryType::Regular,
        "",
        b"t\n",
        (0o4755, 0, 0),
    )]);
    fs::write(context_dir.join("suid.tar"), tar).unwrap();
    scene
        .copy(instruction(
            &["suid", "sgid", "sgid-no-x", "both", "sticky"],
            "/m/",
        ))
        .unwrap();
    scene.copy(instruction(&["."], "/all/")).unwrap();
    let add = |sources: &[&str], destination: &str| CopyInstruction {
        add: true,
        ..instruction(sources, destination)
    };
    scene.copy(add(&["suid"], "/added")).unwrap();
    // A tar's entries are not re-owned: they keep the bits.
    scene.copy(add(&["suid.tar"], "/t/")).unwrap();
    let owned = CopyInstruction {
        chown: Some("1000:1000".into()),
        ..instruction(&["suid"], "/owned")
    };
    scene.copy(owned).unwrap();
    // `--chmod` is BuildKit's, which keeps them.
    let chmod = CopyInstruction {
        chmod: Some(Chmod::Symbolic("o-r".into())),
        ..instruction(&["suid"], "/chmod")
    };
    scene.copy(chmod).unwrap();
    let listing = scene.listing();
    insta::assert_snapshot!(lines_of(&listing, &["/m/suid", "/m/sgid", "/m/sgid-no-x", "/m/both", "/m/sticky", "/all/dir", "/all/dir/sub", "/all/dir/sub/suid", "/added", "/t/t-suid", "/owned", "/chmod"]), @r"
    /m/suid f 755 0:0 2 ea46748e171abd2d
    /m/sgid f 755 0:0 2 768c71d785bf6bbb
    /m/sgid-no-x f 2745 0:0 2 768c71d785bf6bbb
    /m/both f 755 0:0 2 0263829989b6fd95
    /m/sticky f 1755 0:0 2 fe8edeeb98cc6d3b
    /all/dir d 3777 0:0 
    /all/dir/sub d 2755 0:0 
    /all/dir/sub/suid f 711 0:0 2 ea46748e171abd2d
    /added f 755 0:0 2 ea46748e171abd2d
    /t/t-suid f 4755 0:0 2 fe8edeeb98cc6d3b
    /owned f 755 1000:1000 2 ea46748e171abd2d
    /chmod f 4751 0:0 2 ea46748e171abd2d
    ");

    // `COPY --from` without `--chown` is not re-owned by docker: the bits stay; with it, they go.
    let stage = scene.dir.path().join("stage");
    fs::create_dir(&stage).unwrap();
    fs::write(stage.join("tool"), "#!/bin/sh\n").unwrap();
    fs::set_permissions(stage.join("tool"), fs::Permissions::from_mode(0o4755)).unwrap();
    let from = |chown: Option<&str>, destination: &str| {
        let instruction = CopyInstruction {
            chown: chown.map(str::to_owned),
            ..instruction(&["/tool"], destination)
        };
        copy(&Source::Root(&stage), &instruction, &scene.rootfs()).unwrap();
    };
    from(None, "/from");
    from(Some("0:0"), "/from-owned");
    let listing = scene.listing();
    insta::assert_snapshot!(lines_of(&listing, &["/from", "/from-owned"]), @r"
    /from f 4755 0:0 10 a8076d3d28d21e02
    /from-owned f 755 0:0 10 a8076d3d28d21e02
    ");
}

#[test]
fn writes_never_leave_the_root_filesystem() {
    require_root!();
    let scene = Scene::new();
    scene
        .file("a.txt", "a\n", 0o644)
        .file("dir/sub/x", "x\n", 0o644);
    let rootfs = scene.rootfs();
    let outside = scene.outside();
    // The image's links: absolute ones to the host's path of `outside`, relative ones that
    // climb far above the root filesystem.
    symlink(&outside, rootfs.join("app")).unwrap();
    symlink("../../../../../../..", rootfs.join("up")).unwrap();
    symlink(outside.join("sentinel"), rootfs.join("file-link")).unwrap();
    fs::create_dir(rootfs.join("d")).unwrap();
    symlink(&outside, rootfs.join("d/sub")).unwrap();
    scene.copy(instruction(&["a.txt"], "/app/")).unwrap();
    scene
        .copy(instruction(&["a.txt"], "/app/new/deeper"))
        .unwrap();
    scene.copy(instruction(&["a.txt"], "/up/a-up")).unwrap();
    scene.copy(instruction(&["dir"], "/up/tree/")).unwrap();
    scene.copy(instruction(&["a.txt"], "/file-link")).unwrap();
    scene.copy(instruction(&["dir"], "/d")).unwrap();
    // `/app` is the host path of `outside`, inside the image.
    let inside_app = rootfs.join(outside.strip_prefix("/").unwrap());
    assert_eq!(fs::read_to_string(inside_app.join("a.txt")).unwrap(), "a\n");
    assert!(inside_app.join("new/deeper").is_file());
    assert!(rootfs.join("a-up").is_file());
    assert!(rootfs.join("tree/sub/x").is_file());
    // The link at the destination was replaced, not written through.
    assert!(
        fs::symlink_metadata(rootfs.join("file-link"))
            .unwrap()
            .is_file()
    );
    assert!(fs::symlink_metadata(rootfs.join("d/sub")).unwrap().is_dir());
    assert!(rootfs.join("d/sub/x").is_file());
    assert_eq!(
        fs::read_to_string(outside.join("sentinel")).unwrap(),
        "untouched\n"
    );
}

/// A raw tar entry: any name, any link target, written without the `tar` crate's checks.
fn raw_entry(name: &str, kind: tar::EntryType, link: &str, data: &[u8]) -> Vec<u8> {
    let mode = if kind == tar::EntryType::Directory {
        0o700
    } else {
        0o600
    };
    entry_with(name, kind, link, data, (mode, 7, 8))
}

/// A tar entry with the mode and owner `(mode, uid, gid)`.
fn entry_with(
    name: &str,
    kind: tar::EntryType,
    link: &str,
    data: &[u8],
    (mode, uid, gid): (u32, u64, u64),
) -> Vec<u8> {
    let mut header = tar::Header::new_gnu();
    {
        let old = header.as_old_mut();
        old.name[..name.len()].copy_from_slice(name.as_bytes());
        old.linkname[..link.len()].copy_from_slice(link.as_bytes());
    }
    header.set_entry_type(kind);
    header.set_mode(mode);
    header.set_uid(uid);
    header.set_gid(gid);
    header.set_mtime(1_100_000_000);
    header.set_size(data.len() as u64);
    header.set_cksum();
    let mut bytes = header.as_bytes().to_vec();
    bytes.extend_from_slice(data);
    bytes.resize(bytes.len().div_ceil(512) * 512, 0);
    bytes
}

fn tar_of(entries: &[Vec<u8>]) -> Vec<u8> {
    let mut bytes = entries.concat();
    bytes.extend([0u8; 1024]);
    bytes
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    use std::io::Write;
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    encoder.write_all(bytes).unwrap();
    encoder.finish().unwrap()
}

#[test]
fn add_unpacks_local_tars_keeping_their_owners() {
    require_root!();
    let scene = Scene::new();
    let good = tar_of(&[
        raw_entry("top/", tar::EntryType::Directory, "", b""),
        raw_entry("top/f", tar::EntryType::Regular, "", b"hello\n"),
        raw_entry(
            "top/.wh.f2",
            tar::EntryType::Regular,
            "",
            b"not a whiteout\n",
        ),
        raw_entry("top/l", tar::EntryType::Symlink, "/etc/shadow", b""),
    ]);
    fs::write(scene.context_dir().join("good.tar"), &good).unwrap();
    fs::write(scene.context_dir().join("good.tar.gz"), gzip(&good)).unwrap();
    fs::write(
        scene.context_dir().join("good.tar.zst"),
        zstd::encode_all(&good[..], 1).unwrap(),
    )
    .unwrap();
    scene.file("fake.tar", "not a tar\n", 0o644);
    let add = |sources: &[&str], destination: &str| CopyInstruction {
        add: true,
        chown: Some("1:2".into()),
        ..instruction(sources, destination)
    };
    scene.copy(add(&["good.tar"], "/t1")).unwrap();
    scene
        .copy(add(&["good.tar.gz", "good.tar.zst"], "/t2/"))
        .unwrap();
    scene.copy(add(&["fake.tar"], "/t5")).unwrap();
    insta::assert_snapshot!(scene.listing(), @r"
    /t1 d 755 0:0 
    /t1/top d 700 7:8 
    /t1/top/.wh.f2 f 600 7:8 15 d3061e9a3a569969
    /t1/top/f f 600 7:8 6 5891b5b522d5df08
    /t1/top/l l 777 7:8 -> /etc/shadow
    /t2 d 755 0:0 
    /t2/top d 700 7:8 
    /t2/top/.wh.f2 f 600 7:8 15 d3061e9a3a569969
    /t2/top/f f 600 7:8 6 5891b5b522d5df08
    /t2/top/l l 777 7:8 -> /etc/shadow
    /t5 f 644 1:2 10 550d140646e934d7
    ");
    assert_eq!(scene.mtime("t1/top/f"), 1_100_000_000);
    // COPY copies a tar as it is.
    scene.copy(instruction(&["good.tar"], "/t9")).unwrap();
    assert_eq!(fs::read(scene.rootfs().join("t9")).unwrap(), good);
}

#[test]
fn a_hard_link_s_header_has_the_last_word_on_the_shared_file() {
    require_root!();
    let scene = Scene::new();
    // As the `add-tar` case recorded with docker: `top/file` says `0640 1000:100`, the
    // later `top/hard` linked to it says `0644 0:0`, and both names end up with the link's.
    let tar = tar_of(&[
        entry_with(
            "top/file",
            tar::EntryType::Regular,
            "",
            b"shared\n",
            (0o640, 1000, 100),
        ),
        entry_with(
            "top/hard",
            tar::EntryType::Link,
            "top/file",
            b"",
            (0o644, 0, 0),
        ),
        entry_with(
            "top/setuid",
            tar::EntryType::Regular,
            "",
            b"s\n",
            (0o755, 5, 5),
        ),
        entry_with(
            "top/hard-s",
            tar::EntryType::Link,
            "top/setuid",
            b"",
            (0o4750, 6, 7),
        ),
        entry_with(
            "top/link",
            tar::EntryType::Symlink,
            "file",
            b"",
            (0o777, 3, 3),
        ),
        entry_with(
            "top/hard-l",
            tar::EntryType::Link,
            "top/link",
            b"",
            (0o600, 4, 4),
        ),
    ]);
    fs::write(scene.context_dir().join("links.tar"), tar).unwrap();
    let add = CopyInstruction {
        add: true,
        ..instruction(&["links.tar"], "/x/")
    };
    scene.copy(add).unwrap();
    insta::assert_snapshot!(scene.listing(), @r"
    /x d 755 0:0 
    /x/top d 755 0:0 
    /x/top/file f 644 0:0 7 cf99975aa7995fad
    /x/top/hard f 644 0:0 7 cf99975aa7995fad
    /x/top/hard-l l 777 4:4 -> file
    /x/top/hard-s f 4750 6:7 2 cbc80bb5c0c0f894
    /x/top/link l 777 4:4 -> file
    /x/top/setuid f 4750 6:7 2 cbc80bb5c0c0f894
    ");
    let inode = |path: &str| fs::metadata(scene.rootfs().join(path)).unwrap().ino();
    assert_eq!(inode("x/top/file"), inode("x/top/hard"));
}

#[test]
fn a_hostile_tar_through_add_stays_inside() {
    require_root!();
    let scene = Scene::new();
    let outside = scene.outside();
    let outside_text = outside.to_str().unwrap();
    let climbing = tar_of(&[raw_entry("../escape", tar::EntryType::Regular, "", b"x\n")]);
    let planted = tar_of(&[
        raw_entry("evil", tar::EntryType::Symlink, "/", b""),
        raw_entry("evil/escaped", tar::EntryType::Regular, "", b"x\n"),
        raw_entry("up", tar::EntryType::Symlink, "../../../../../../..", b""),
        raw_entry("up/up-escaped", tar::EntryType::Regular, "", b"x\n"),
    ]);
    // A link to the host's path of `outside`: inside the destination, that path does not
    // exist, and chapter 03 refuses to go through it.
    let outward = tar_of(&[
        raw_entry("out", tar::EntryType::Symlink, outside_text, b""),
        raw_entry("out/sentinel", tar::EntryType::Regular, "", b"x\n"),
    ]);
    fs::write(scene.context_dir().join("climbing.tar"), climbing).unwrap();
    fs::write(scene.context_dir().join("planted.tar"), planted).unwrap();
    fs::write(scene.context_dir().join("outward.tar"), outward).unwrap();
    // The image's own link leads the destination towards the host, too.
    symlink(&outside, scene.rootfs().join("app")).unwrap();
    let add = |source: &str, destination: &str| CopyInstruction {
        add: true,
        ..instruction(&[source], destination)
    };
    let error = scene.copy(add("climbing.tar", "/t")).unwrap_err();
    assert!(
        error.to_string().contains("'..' would climb out"),
        "{error}"
    );
    scene.copy(add("outward.tar", "/t")).unwrap_err();
    scene.copy(add("planted.tar", "/t")).unwrap();
    scene.copy(add("planted.tar", "/app/")).unwrap();
    for dest in [
        scene.rootfs().join("t"),
        scene.rootfs().join(outside.strip_prefix("/").unwrap()),
    ] {
        assert!(dest.join("escaped").is_file(), "{}", dest.display());
        assert!(dest.join("up-escaped").is_file(), "{}", dest.display());
    }
    assert_eq!(
        fs::read_to_string(outside.join("sentinel")).unwrap(),
        "untouched\n"
    );
    assert!(!outside.join("escaped").exists());
}

#[test]
fn a_context_from_a_tar_is_unpacked_safely_and_removed() {
    require_root!();
    let scene = Scene::new();
    let scratch = scene.dir.path().join("scratch");
    let good = tar_of(&[
        raw_entry("Dockerfile", tar::EntryType::Regular, "", b"FROM scratch\n"),
        raw_entry(".dockerignore", tar::EntryType::Regular, "", b"secret\n"),
        raw_entry("secret", tar::EntryType::Regular, "", b"s\n"),
        raw_entry("a.txt", tar::EntryType::Regular, "", b"a\n"),
    ]);
    let context = Context::from_tar(&gzip(&good)[..], scratch.clone()).unwrap();
    assert_eq!(context.root(), scratch);
    assert_eq!(context.read_file("Dockerfile").unwrap(), b"FROM scratch\n");
    assert!(context.is_ignored(Path::new("secret")));
    let error = copy(
        &Source::Context(&context),
        &instruction(&["secret"], "/"),
        &scene.rootfs(),
    )
    .unwrap_err();
    assert!(
        matches!(error, Error::Copy(CopyError::NotFound { .. })),
        "{error}"
    );
    copy(
        &Source::Context(&context),
        &instruction(&["a.txt"], "/"),
        &scene.rootfs(),
    )
    .unwrap();
    drop(context);
    assert!(
        !scratch.exists(),
        "the context's directory is removed with it"
    );

    let hostile = tar_of(&[raw_entry(
        "../../escape",
        tar::EntryType::Regular,
        "",
        b"x\n",
    )]);
    let error = Context::from_tar(&hostile[..], scene.dir.path().join("scratch2")).unwrap_err();
    assert!(
        error.to_string().contains("'..' would climb out"),
        "{error}"
    );
    assert!(!scene.dir.path().join("scratch2").exists());
    assert!(!scene.dir.path().join("escape").exists());
    let device = tar_of(&[raw_entry("null", tar::EntryType::Char, "", b"")]);
    let error = Context::from_tar(&device[..], scene.dir.path().join("scratch3")).unwrap_err();
    assert!(error.to_string().contains("device nodes"), "{error}");
}

#[test]
fn inline_files_and_root_filesystems_as_sources() {
    require_root!();
    let scene = Scene::new();
    let heredoc = CopyInstruction {
        inline: vec![("EOF".into(), b"hello\n".to_vec())],
        ..instruction(&[], "/etc/motd")
    };
    scene.copy(heredoc).unwrap();
    let stage = scene.dir.path().join("stage");
    fs::create_dir_all(stage.join("usr/bin")).unwrap();
    fs::write(stage.join("usr/bin/tool"), "#!/bin/sh\n").unwrap();
    fs::set_permissions(
        stage.join("usr/bin/tool"),
        fs::Permissions::from_mode(0o755),
    )
    .unwrap();
    // A `.dockerignore` means nothing in a stage's root.
    fs::write(stage.join(".dockerignore"), "usr\n").unwrap();
    copy(
        &Source::Root(&stage),
        &instruction(&["/usr/bin/tool"], "/usr/local/bin/"),
        &scene.rootfs(),
    )
    .unwrap();
    let listing = scene.listing();
    insta::assert_snapshot!(lines_of(&listing, &["/etc/motd", "/usr/local/bin/tool"]), @r"
    /etc/motd f 644 0:0 6 5891b5b522d5df08
    /usr/local/bin/tool f 755 0:0 10 a8076d3d28d21e02
    ");
}

fn digest(scene: &Scene, sources: &[&str]) -> SourceDigest {
    let context = scene.context();
    hash_sources(&Source::Context(&context), &instruction(sources, "/d/")).unwrap()
}

#[test]
fn source_digests_follow_content_and_metadata_not_times() {
    require_root!();
    let scene = Scene::new();
    scene
        .file("a.txt", "a\n", 0o644)
        .file("dir/x", "x\n", 0o644)
        .file("dir/hidden", "h\n", 0o644)
        .file(".dockerignore", "dir/hidden\n", 0o644);
    symlink("x", scene.context_dir().join("dir/link")).unwrap();
    let one = digest(&scene, &["a.txt"]);
    assert!(one.summary.starts_with("file:"), "{}", one.summary);
    assert_eq!(
        one.summary,
        format!("file:{}", one.files[0].1.trim_start_matches("sha256:"))
    );
    let dir = digest(&scene, &["dir"]);
    assert!(dir.summary.starts_with("dir:"));
    let paths: Vec<&str> = dir.files.iter().map(|(path, _)| path.as_str()).collect();
    assert_eq!(
        paths,
        ["dir", "dir/link", "dir/x"],
        "ignored files are not hashed"
    );
    let multi = digest(&scene, &["a.txt", "dir"]);
    assert!(multi.summary.starts_with("multi:"));

    // Times change nothing; content, mode and link targets do.
    set_mtime(&scene.context_dir().join("dir/x"), 42);
    assert_eq!(digest(&scene, &["dir"]), dir);
    fs::write(scene.context_dir().join("dir/hidden"), "changed").unwrap();
    assert_eq!(digest(&scene, &["dir"]), dir);
    fs::write(scene.context_dir().join("dir/x"), "y\n").unwrap();
    let changed = digest(&scene, &["dir"]);
    assert_ne!(changed.digest, dir.digest);
    fs::set_permissions(
        scene.context_dir().join("dir/x"),
        fs::Permissions::from_mode(0o600),
    )
    .unwrap();
    assert_ne!(digest(&scene, &["dir"]).digest, changed.digest);
    let before_link = digest(&scene, &["dir"]);
    fs::remove_file(scene.context_dir().join("dir/link")).unwrap();
    symlink("elsewhere", scene.context_dir().join("dir/link")).unwrap();
    assert_ne!(digest(&scene, &["dir"]).digest, before_link.digest);
    // The same sources twice give the same digest.
    assert_eq!(
        digest(&scene, &["a.txt", "dir"]),
        digest(&scene, &["a.txt", "dir"])
    );
}
