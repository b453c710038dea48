//! The image store against bad input and bad luck: layers whose bytes are not what their
//! digests say, archives that name files outside themselves, documents that break the spec,
//! and a `load` killed at any moment. After each, the store must be as it was (or, after a
//! crash, usable, its leftovers swept by the next command). Every test has its own fixture and
//! `--root` in its own temporary directory.

mod common;

use std::fs;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::{
    BIN, Engine, Layout, PATIENCE, REF_NAME, Root, big_layout, break_deflate_stream, copy_dir,
    names_in, redacted, sha256_file, sha256_hex,
};
use dockyard_tests::images::{FIXED_EPOCH, busybox_docker_archive};
use dockyard_tests::{assert_no_mounts_under, require_image_tools, require_root, wait_until};
use serde_json::{Value, json};

/// One member of a tar archive, read whole.
struct Member {
    header: tar::Header,
    path: String,
    data: Vec<u8>,
    /// A link target longer than a header holds.
    long_link: Option<String>,
}

/// Every member of the tar at `path`.
fn read_tar(path: &Path) -> Vec<Member> {
    let mut archive = tar::Archive::new(fs::File::open(path).unwrap());
    archive
        .entries()
        .unwrap()
        .map(|entry| {
            let mut entry = entry.unwrap();
            let path = entry.path().unwrap().to_string_lossy().into_owned();
            let header = entry.header().clone();
            let mut data = Vec::new();
            entry.read_to_end(&mut data).unwrap();
            Member {
                header,
                path,
                data,
                long_link: None,
            }
        })
        .collect()
}

/// A tar of `members`, their headers as they are (names included: a hostile name is written
/// as given), sizes and checksums fixed up; a link target too long for the header goes in a
/// GNU long-link member before it.
fn write_tar(path: &Path, members: &[Member]) {
    let mut bytes = Vec::new();
    for member in members {
        let mut header = member.header.clone();
        if let Some(target) = member.long_link.as_deref() {
            let mut long = tar::Header::new_gnu();
            long.as_old_mut().name[..13].copy_from_slice(b"././@LongLink");
            long.set_entry_type(tar::EntryType::GNULongLink);
            long.set_mode(0o644);
            long.set_size(target.len() as u64 + 1);
            long.set_cksum();
            bytes.extend_from_slice(long.as_bytes());
            bytes.extend_from_slice(target.as_bytes());
            bytes.push(0);
            bytes.resize(bytes.len().div_ceil(512) * 512, 0);
        }
        header.set_size(member.data.len() as u64);
        header.set_cksum();
        bytes.extend_from_slice(header.as_bytes());
        bytes.extend_from_slice(&member.data);
        bytes.resize(bytes.len().div_ceil(512) * 512, 0);
    }
    bytes.extend([0u8; 1024]);
    fs::write(path, bytes).unwrap();
}

/// A header for a member named `name` (any bytes, unchecked), of `kind`, linking to `link`.
fn raw_header(name: &str, kind: tar::EntryType, link: &str) -> tar::Header {
    let mut header = tar::Header::new_gnu();
    {
        let old = header.as_old_mut();
        old.name[..name.len()].copy_from_slice(name.as_bytes());
        if link.len() <= old.linkname.len() {
            old.linkname[..link.len()].copy_from_slice(link.as_bytes());
        }
    }
    header.set_entry_type(kind);
    header.set_mode(0o644);
    header.set_uid(0);
    header.set_gid(0);
    header.set_mtime(FIXED_EPOCH as u64);
    header
}

/// The fixture's docker archive, its members in memory to be rebuilt with changes.
struct DockerArchive {
    members: Vec<Member>,
}

impl DockerArchive {
    fn read(path: &Path) -> DockerArchive {
        DockerArchive {
            members: read_tar(path),
        }
    }

    fn member(&mut self, path: &str) -> &mut Member {
        self.members
            .iter_mut()
            .find(|m| m.path == path)
            .unwrap_or_else(|| panic!("no {path} in the archive"))
    }

    fn manifest(&mut self) -> Value {
        serde_json::from_slice(&self.member("manifest.json").data).unwrap()
    }

    fn set_manifest(&mut self, manifest: &Value) {
        self.member("manifest.json").data = serde_json::to_vec(manifest).unwrap();
    }

    /// The path (in the archive) of layer `i`, bottom first.
    fn layer_path(&mut self, i: usize) -> String {
        self.manifest()[0]["Layers"][i]
            .as_str()
            .unwrap()
            .to_string()
    }

    /// Names layer `i` by `path` in `manifest.json`.
    fn set_layer_path(&mut self, i: usize, path: &str) {
        let mut manifest = self.manifest();
        manifest[0]["Layers"][i] = json!(path);
        self.set_manifest(&manifest);
    }

    fn write(&self, path: &Path) {
        write_tar(path, &self.members);
    }

    /// The archive unpacked into the directory `dir` (a directory with `manifest.json` loads
    /// as a docker archive too), without its symbolic links.
    fn unpack(&self, dir: &Path) {
        for member in &self.members {
            if member.header.entry_type() == tar::EntryType::Regular {
                let path = dir.join(&member.path);
                fs::create_dir_all(path.parent().unwrap()).unwrap();
                fs::write(path, &member.data).unwrap();
            }
        }
    }
}

/// `root`'s store, made (any command opens it), as a baseline.
fn opened(root: &Root) -> common::StoreState {
    root.stdout(&["images"]);
    root.state()
}

/// Asserts a failed command left the store as `before` and nothing in `tmp/`, looking before
/// any other command would sweep it.
fn assert_unchanged(root: &Root, before: &common::StoreState, case: &str) {
    let tmp = root.tmp();
    let after = root.state();
    let (added_blobs, added_layers) = after.minus(before);
    let (removed_blobs, removed_layers) = before.minus(&after);
    assert!(
        tmp.is_empty() && &after == before,
        "{case}: the store changed: left in tmp/ {tmp:?}; blobs stored {added_blobs:?}, \
         removed {removed_blobs:?}; layers stored {added_layers:?}, removed {removed_layers:?}; \
         images.json changed: {}",
        after.index != before.index
    );
}

#[test]
fn a_layer_whose_bytes_are_not_its_digest_is_refused_and_nothing_is_stored() {
    require_root!();
    require_image_tools!();
    let engine = Engine::busybox();

    // The store already holds an image with the first layer, which the next load skips.
    let one = Layout::copy(engine.layout(), engine.dir().join("one"));
    let entry = one.derive(
        0,
        Some("docker.io/library/one:latest"),
        |config| {
            config["rootfs"]["diff_ids"]
                .as_array_mut()
                .unwrap()
                .truncate(1);
            config["history"].as_array_mut().unwrap().truncate(1);
        },
        |manifest| manifest["layers"].as_array_mut().unwrap().truncate(1),
    );
    one.set_entries(vec![entry]);
    assert_eq!(engine.load(&one.dir), "Loaded image: one:latest\n");
    let before = engine.state();

    // Layer 2's gzip header says another operating system made it: the same tar inside, so
    // only the digest of the blob's bytes can tell.
    let corrupt = Layout::copy(engine.layout(), engine.dir().join("corrupt"));
    corrupt.name_entry(0, "docker.io/library/busybox:latest");
    let layer = corrupt.layer_digests(0)[1].clone();
    let path = corrupt.blob_path(&layer);
    let original = fs::read(&path).unwrap();
    let mut bytes = original.clone();
    assert_eq!(bytes[..2], [0x1f, 0x8b], "a gzip blob");
    bytes[9] = if bytes[9] == 3 { 255 } else { 3 };
    fs::write(&path, &bytes).unwrap();
    let mismatch = |bytes: &[u8]| {
        format!(
            "layer {layer} from {} does not match its digest (got sha256:{})",
            corrupt.dir.display(),
            sha256_hex(bytes)
        )
    };

    let error = engine.load_fails(&corrupt.dir, 125);
    assert!(error.contains(&mismatch(&bytes)), "{error}");
    redacted(engine.dir(), || {
        insta::assert_snapshot!("corrupt_layer", error)
    });
    assert_unchanged(&engine, &before, "a corrupt layer");

    // Its deflate stream broken where it starts: the decompressor gives up on the first
    // block, but the rest of the blob is still read, and its digest is what the error names.
    let mut bytes = original.clone();
    break_deflate_stream(&mut bytes);
    fs::write(&path, &bytes).unwrap();
    let error = engine.load_fails(&corrupt.dir, 125);
    assert!(
        error.contains(&mismatch(&bytes)) && !error.contains("corrupt layer archive"),
        "{error}"
    );
    assert_unchanged(&engine, &before, "a layer whose deflate stream is damaged");

    // The same broken blob under its own digest: it is what the manifest names, so it is the
    // archive itself that is broken, and the error says which layer, from where.
    let broken = Layout::copy(engine.layout(), engine.dir().join("broken"));
    let descriptor = broken.put("application/vnd.oci.image.layer.v1.tar+gzip", &bytes);
    let entry = broken.derive(
        0,
        Some("docker.io/library/broken:latest"),
        |_| {},
        |manifest| manifest["layers"][1] = descriptor.clone(),
    );
    broken.set_entries(vec![entry]);
    let error = engine.load_fails(&broken.dir, 125);
    let named = format!(
        "ch04-images: corrupt layer archive: layer {} from {}: ",
        descriptor["digest"].as_str().unwrap(),
        broken.dir.display()
    );
    assert!(error.starts_with(&named), "{error}");
    redacted(engine.dir(), || {
        insta::assert_snapshot!("broken_layer_archive", error)
    });
    assert_unchanged(&engine, &before, "a broken layer archive");

    // The store is as good as before: the image loads from a good copy and runs.
    engine.load(engine.layout());
    engine
        .cmd(&[
            "run",
            "--rm",
            &corrupt.config_digest(0),
            "/bin/cat",
            "/data/hello.txt",
        ])
        .assert()
        .success()
        .stdout("hello from layer 3\n");
    assert_no_mounts_under(engine.dir());
}

#[test]
fn a_docker_archive_layer_that_is_not_its_diff_id_is_refused() {
    require_root!();
    require_image_tools!();
    let engine = Engine::busybox();
    let mut archive =
        DockerArchive::read(&busybox_docker_archive(&engine.fixture, "busybox:latest"));
    let layer = archive.layer_path(2);
    let data = &mut archive.member(&layer).data;
    let at = data
        .windows(18)
        .position(|w| w == b"hello from layer 3")
        .expect("layer 3 holds /data/hello.txt");
    data[at] = b'j';
    let tampered = engine.dir().join("tampered.tar");
    archive.write(&tampered);

    let before = opened(&engine);
    let error = engine.load_fails(&tampered, 125);
    let diff_id = format!("sha256:{}", layer.trim_end_matches(".tar"));
    assert!(
        error.contains(&format!(
            "layer 3 of busybox:latest ({layer}) (uncompressed)"
        )) && error.contains(&format!("expected {diff_id}")),
        "{error}"
    );
    assert_unchanged(&engine, &before, "a tampered docker layer");
}

#[test]
fn archives_that_name_files_outside_themselves_are_refused() {
    require_root!();
    require_image_tools!();
    let engine = Engine::busybox();
    let source = busybox_docker_archive(&engine.fixture, "busybox:latest");
    let dir = engine.dir();
    let mut pristine = DockerArchive::read(&source);
    let layer = pristine.layer_path(1);
    let config = pristine.manifest()[0]["Config"]
        .as_str()
        .unwrap()
        .to_string();

    // Real files where a careless reader would find them: the layer and the config beside the
    // archives, one directory up from the unpacked ones.
    let outside = dir.join("outside");
    fs::create_dir(&outside).unwrap();
    fs::write(outside.join(&layer), &pristine.member(&layer).data).unwrap();
    fs::write(outside.join(&config), &pristine.member(&config).data).unwrap();

    // Rebuilt untouched, as a tar and as a directory, the archive loads: what is refused
    // below is refused for its paths only.
    let control = engine.other_root("control");
    let rebuilt = dir.join("rebuilt.tar");
    pristine.write(&rebuilt);
    assert_eq!(control.load(&rebuilt), "Loaded image: busybox:latest\n");
    let unpacked = dir.join("unpacked");
    pristine.unpack(&unpacked);
    let control_dir = engine.other_root("control-dir");
    assert_eq!(
        control_dir.load(&unpacked),
        "Loaded image: busybox:latest\n"
    );

    let absolute_layer = outside.join(&layer).to_string_lossy().into_owned();
    let absolute_config = outside.join(&config).to_string_lossy().into_owned();
    let mut cases: Vec<(&str, PathBuf)> = Vec::new();
    let mut tar_case = |name: &'static str, edit: &dyn Fn(&mut DockerArchive)| {
        let mut archive = DockerArchive::read(&source);
        edit(&mut archive);
        let path = dir.join(format!("{name}.tar"));
        archive.write(&path);
        cases.push((name, path));
    };
    tar_case("absolute-layer", &|a| a.set_layer_path(1, &absolute_layer));
    tar_case("absolute-config", &|a| {
        let mut manifest = a.manifest();
        manifest[0]["Config"] = json!(absolute_config);
        a.set_manifest(&manifest);
    });
    // The tar holds a member named `../<layer>`, and the manifest names it.
    tar_case("parent-layer", &|a| {
        let data = a.member(&layer).data.clone();
        let name = format!("../{layer}");
        a.members.push(Member {
            header: raw_header(&name, tar::EntryType::Regular, ""),
            path: name.clone(),
            data,
            long_link: None,
        });
        a.set_layer_path(1, &name);
    });
    // A symbolic link in the tar to the layer outside.
    tar_case("symlink-out", &|a| {
        a.members.push(Member {
            header: raw_header("evil.tar", tar::EntryType::Symlink, &absolute_layer),
            path: "evil.tar".into(),
            data: Vec::new(),
            long_link: Some(absolute_layer.clone()),
        });
        a.set_layer_path(1, "evil.tar");
    });
    // The same as directories: `../outside/<layer>` exists, and so does a link's target.
    let dir_case = |name: &'static str, layer_path: &str| {
        let path = dir.join(name);
        copy_dir(&unpacked, &path);
        let mut manifest: Value =
            serde_json::from_slice(&fs::read(path.join("manifest.json")).unwrap()).unwrap();
        manifest[0]["Layers"][1] = json!(layer_path);
        fs::write(path.join("manifest.json"), manifest.to_string()).unwrap();
        path
    };
    cases.push((
        "dir-parent-layer",
        dir_case("dir-parent-layer", &format!("../outside/{layer}")),
    ));
    let linked = dir_case("dir-symlink-out", "evil.tar");
    std::os::unix::fs::symlink(outside.join(&layer), linked.join("evil.tar")).unwrap();
    cases.push(("dir-symlink-out", linked));

    let before = opened(&engine);
    let mut errors = String::new();
    for (name, path) in &cases {
        let error = engine.load_fails(path, 125);
        assert!(error.contains("missing"), "{name}: {error}");
        errors.push_str(&format!("{name}: {error}"));
        assert_unchanged(&engine, &before, name);
    }
    redacted(dir, || insta::assert_snapshot!("outside_paths", errors));
    assert_eq!(
        fs::read(outside.join(&layer)).unwrap(),
        pristine.member(&layer).data,
        "the file outside is untouched"
    );
}

#[test]
fn documents_that_break_the_spec_are_refused_with_one_line_naming_them() {
    require_root!();
    require_image_tools!();
    let engine = Engine::busybox();
    let dir = engine.dir();
    let mut cases: Vec<(&str, PathBuf)> = Vec::new();
    let mut case = |name: &'static str, edit: &dyn Fn(&Layout)| {
        let layout = Layout::copy(engine.layout(), dir.join(name));
        edit(&layout);
        cases.push((name, layout.dir));
    };
    case("index-without-schema-version", &|l| {
        let mut index = l.index();
        index.as_object_mut().unwrap().remove("schemaVersion");
        l.set_index(&index);
    });
    case("layout-version", &|l| {
        fs::write(
            l.dir.join("oci-layout"),
            r#"{"imageLayoutVersion":"9.0.0"}"#,
        )
        .unwrap();
    });
    case("manifest-bad-digest", &|l| {
        let entry = l.derive(
            0,
            Some("docker.io/library/bad:latest"),
            |_| {},
            |manifest| manifest["layers"][1]["digest"] = json!("sha256:1234"),
        );
        l.set_entries(vec![entry]);
    });
    case("config-bad-env", &|l| {
        let entry = l.derive(
            0,
            Some("docker.io/library/bad:latest"),
            |config| config["config"]["Env"] = json!(["PATH=/bin", "NO_EQUALS_SIGN"]),
            |_| {},
        );
        l.set_entries(vec![entry]);
    });
    case("manifest-not-its-digest", &|l| {
        // The index names a manifest whose bytes hash to something else.
        let path = l.blob_path(&l.manifest_digest(0));
        let mut manifest: Value = serde_json::from_slice(&fs::read(&path).unwrap()).unwrap();
        manifest["annotations"] = json!({"x": "y"});
        let bytes = serde_json::to_vec(&manifest).unwrap();
        fs::write(&path, &bytes).unwrap();
        let mut index = l.index();
        index["manifests"][0]["size"] = json!(bytes.len());
        index["manifests"][0]["annotations"] = json!({ REF_NAME: "docker.io/library/bad:1" });
        l.set_index(&index);
    });

    let before = opened(&engine);
    let mut errors = String::new();
    for (name, path) in &cases {
        let error = engine.load_fails(path, 125);
        errors.push_str(&format!("{name}: {error}"));
        assert_unchanged(&engine, &before, name);
    }
    for (name, document) in [
        ("index-without-schema-version", "invalid image index: "),
        ("layout-version", "invalid oci-layout file: "),
        (
            "manifest-bad-digest",
            "invalid image manifest: layers[1].digest: ",
        ),
        ("config-bad-env", "invalid image config: config.Env[1]: "),
        ("manifest-not-its-digest", "has digest"),
    ] {
        let line = errors.lines().find(|l| l.starts_with(name)).unwrap();
        assert!(line.contains(document), "{line}");
    }
    assert!(errors.contains("schemaVersion"), "{errors}");
    redacted(dir, || insta::assert_snapshot!("invalid_documents", errors));
}

#[test]
fn a_document_that_is_not_json_blames_no_field() {
    require_root!();
    require_image_tools!();
    let engine = Engine::busybox();
    let layout = Layout::copy(engine.layout(), engine.dir().join("truncated"));
    fs::write(layout.dir.join("index.json"), "{\"schemaVersion\": 2, ").unwrap();
    let before = opened(&engine);
    let error = engine.load_fails(&layout.dir, 125);
    assert_unchanged(&engine, &before, "index.json cut short");
    // `InvalidDocument::field` is `None` "when the document as a whole is wrong (for
    // example, it is not JSON)": no `?` where a field would be.
    assert_eq!(
        error,
        "ch04-images: invalid image index: EOF while parsing a value at line 1 column 21\n"
    );
}

/// When the test kills a `load`.
#[derive(Debug, Clone, Copy)]
enum KillPoint {
    /// As soon as it has put something in `tmp/`.
    FirstTemporaryFile,
    /// After this long.
    After(Duration),
    /// When a blob being written in `tmp/` has this many bytes.
    BlobBytes(u64),
    /// When a layer directory appears under its name.
    LayersCommitting,
}

impl KillPoint {
    fn reached(self, root: &Root, started: Instant) -> bool {
        match self {
            KillPoint::FirstTemporaryFile => !root.tmp().is_empty(),
            KillPoint::After(delay) => started.elapsed() >= delay,
            KillPoint::BlobBytes(bytes) => root.tmp().iter().any(|name| {
                name.ends_with("-blob")
                    && fs::metadata(root.path.join("tmp").join(name))
                        .is_ok_and(|m| m.len() >= bytes)
            }),
            KillPoint::LayersCommitting => !names_in(&root.path.join("layers")).is_empty(),
        }
    }
}

/// Every blob is whole and what its name says; every layer directory has its size file.
fn assert_store_consistent(root: &Root, when: &str) {
    let blobs = root.path.join("blobs/sha256");
    for name in names_in(&blobs) {
        assert_eq!(sha256_file(&blobs.join(&name)), name, "{when}: blob {name}");
    }
    let layers = names_in(&root.path.join("layers"));
    for name in layers.iter().filter(|n| !n.ends_with(".size")) {
        assert!(
            layers.contains(&format!("{name}.size")),
            "{when}: layer {name} without its size"
        );
    }
}

fn spawn_load(root: &Root, input: &Path) -> Child {
    Command::new(BIN)
        .arg("--root")
        .arg(&root.path)
        .args(["load", "-i"])
        .arg(input)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

#[test]
fn a_load_killed_at_any_moment_leaves_a_store_the_next_command_can_use() {
    require_root!();
    require_image_tools!();
    let engine = Engine::busybox();
    let (layout, sum) = big_layout(&engine, 48);

    let points = [
        KillPoint::FirstTemporaryFile,
        KillPoint::After(Duration::from_millis(150)),
        KillPoint::After(Duration::from_millis(300)),
        KillPoint::BlobBytes(24 << 20),
        KillPoint::LayersCommitting,
    ];
    let mut swept = 0;
    for point in points {
        let started = Instant::now();
        let mut load = spawn_load(&engine, &layout.dir);
        let reached = wait_until(PATIENCE, || {
            point.reached(&engine, started) || load.try_wait().unwrap().is_some()
        });
        assert!(reached, "{point:?}: not reached within {PATIENCE:?}");
        let finished = load.try_wait().unwrap();
        // Our own child, by its handle; it may have just exited.
        let _exited_already = load.kill();
        load.wait().unwrap();
        if let Some(status) = finished {
            assert!(
                status.success(),
                "{point:?}: the load failed by itself: {status}"
            );
        }
        eprintln!("{point:?}: killed after {:?}", started.elapsed());

        // Whatever it left: blobs whole, no layer without its size; the next command works
        // and sweeps tmp/.
        assert_store_consistent(&engine, &format!("{point:?}"));
        if !engine.tmp().is_empty() {
            swept += 1;
        }
        let images = engine.stdout(&["images"]);
        assert_eq!(
            engine.tmp(),
            Vec::<String>::new(),
            "{point:?}: tmp/ after images"
        );
        if images.contains("big ") {
            // Named, so whole.
            engine
                .cmd(&["run", "--rm", "big", "/bin/true"])
                .assert()
                .success();
        }
    }
    assert!(
        swept > 0,
        "no kill left anything in tmp/ for the next command to sweep"
    );

    assert_eq!(engine.load(&layout.dir), "Loaded image: big:latest\n");
    assert_eq!(
        engine.tmp(),
        Vec::<String>::new(),
        "tmp/ after a load that completed"
    );
    assert_store_consistent(&engine, "after the last load");
    engine
        .cmd(&["run", "--rm", "big", "/bin/sha256sum", "/big/random.bin"])
        .assert()
        .success()
        .stdout(format!("{sum}  /big/random.bin\n"));
    engine
        .cmd(&["run", "--rm", "big", "/bin/cat", "/data/hello.txt"])
        .assert()
        .success()
        .stdout("hello from layer 3\n");
    assert_no_mounts_under(engine.dir());
}

#[test]
fn a_layer_is_read_as_its_media_type_says() {
    require_root!();
    require_image_tools!();
    let engine = Engine::new(dockyard_tests::images::busybox_oci_layout_with(
        "latest", "zstd",
    ));
    let layout = Layout::copy(engine.layout(), engine.dir().join("mislabelled"));
    // The zstd layers, declared gzip: the bytes are the ones the digests name, the label lies.
    let entry = layout.derive(
        0,
        Some("docker.io/library/busybox:latest"),
        |_| {},
        |manifest| {
            for layer in manifest["layers"].as_array_mut().unwrap() {
                layer["mediaType"] = json!("application/vnd.oci.image.layer.v1.tar+gzip");
            }
        },
    );
    layout.set_entries(vec![entry]);
    let before = engine.state();
    let error = engine.load_fails(&layout.dir, 125);
    assert!(
        error.contains(
            "is declared \"application/vnd.oci.image.layer.v1.tar+gzip\" but its content is zstd"
        ),
        "{error}"
    );
    assert_eq!(engine.state(), before, "nothing stored");
    assert!(engine.tmp().is_empty(), "{:?}", engine.tmp());
    // Labelled as it is, the same image loads.
    assert_eq!(engine.load_id(engine.layout()).len(), 71);
}
