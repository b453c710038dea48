//! `ch04-images` on the real kernel, with images real tools wrote (umoci, skopeo): loading each
//! archive format, running an image as its config says, the image commands, removing images and
//! exactly what only they used, and digests that do not depend on how an image travelled. Every
//! test has its own fixture image, `--root` and containers, in its own temporary directory.

mod common;

use std::collections::BTreeSet;
use std::fs;

use common::{
    Engine, Layout, layer_entries, normalize_table, redacted, sha256_hex, unstable_cells,
};
use dockyard_tests::images::{
    CMD, ENV, FIXED_TIME, LABEL, LAYERS, USER, WORKING_DIR, busybox_docker_archive,
    busybox_oci_archive, busybox_oci_layout_with,
};
use dockyard_tests::{assert_no_mounts_under, require_image_tools, require_root, tree_listing};
use serde_json::{Value, json};

/// The lines of the probe's report a container's config decides: its hostname, ids, working
/// directory and environment (not mounts, cgroups or interfaces, which are the host's).
fn config_sections(report: &str) -> String {
    let mut out = String::new();
    let mut in_env = false;
    for line in report.lines() {
        let keep = if let Some(rest) = line.strip_prefix("  ") {
            in_env && !rest.starts_with(' ')
        } else {
            in_env = line == "env:";
            [
                "hostname:",
                "pid:",
                "ppid:",
                "uid:",
                "gid:",
                "groups:",
                "cwd:",
                "env:",
            ]
            .iter()
            .any(|key| line.starts_with(key))
        };
        if keep {
            out.push_str(line);
            out.push('\n');
        }
    }
    out
}

/// A copy of the fixture's layout whose one image is named `name` (a whole reference).
fn named_layout(engine: &Engine, dir: &str, name: &str) -> Layout {
    let layout = Layout::copy(engine.layout(), engine.dir().join(dir));
    layout.name_entry(0, name);
    layout
}

#[test]
fn a_docker_archive_loads_under_its_name_runs_and_is_listed() {
    require_root!();
    require_image_tools!();
    let engine = Engine::busybox();
    let archive = busybox_docker_archive(&engine.fixture, "busybox:latest");

    assert_eq!(engine.load(&archive), "Loaded image: busybox:latest\n");
    engine
        .cmd(&["run", "--rm", "busybox:latest", "/bin/echo", "hi"])
        .assert()
        .success()
        .stdout("hi\n");
    // The three layers stacked: layer 2's file, layer 3's file, layer 1's file whited out.
    let script =
        "cat /etc/fixture-layer-2 /data/hello.txt; test ! -e /etc/fixture-deleted && echo gone";
    engine
        .cmd(&["run", "--rm", "busybox", "/bin/sh", "-c", script])
        .assert()
        .success()
        .stdout("added by layer 2\nhello from layer 3\ngone\n");

    let table = normalize_table(&engine.stdout(&["images"]), unstable_cells);
    redacted(engine.dir(), || {
        insta::assert_snapshot!("images_table", table)
    });
    let ids = engine.stdout(&["images", "-q"]);
    assert_eq!(ids.lines().count(), 1, "{ids}");
    assert_no_mounts_under(engine.dir());
}

#[test]
fn oci_layouts_and_archives_load_by_id_and_run_by_id_prefix() {
    require_root!();
    require_image_tools!();
    let engine = Engine::busybox();
    let zstd = busybox_oci_layout_with("latest", "zstd");
    let layout = Layout {
        dir: engine.layout().to_path_buf(),
    };
    let config = layout.config_digest(0);
    let zstd_layout = Layout {
        dir: zstd.layout.clone(),
    };
    let zstd_types: BTreeSet<String> = zstd_layout.manifest(0)["layers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["mediaType"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(
        zstd_types,
        BTreeSet::from(["application/vnd.oci.image.layer.v1.tar+zstd".to_string()]),
        "the zstd fixture's layers"
    );

    let sources = [
        ("layout", engine.layout().to_path_buf(), &layout),
        ("oci-archive", busybox_oci_archive(&engine.fixture), &layout),
        ("zstd", zstd.layout.clone(), &zstd_layout),
    ];
    for (name, source, its_layout) in sources {
        // The fixtures' index entries name the image by a bare tag, `latest`: no repository,
        // so the image loads by id, as docker loads it.
        let root = engine.other_root(&format!("root-{name}"));
        let id = root.load_id(&source);
        assert_eq!(id, config, "{name}: the image id is the config's digest");
        let short = &id[7..19];
        root.cmd(&["run", "--rm", short, "/bin/cat", "/data/hello.txt"])
            .assert()
            .success()
            .stdout("hello from layer 3\n");
        let listed = normalize_table(&root.stdout(&["images"]), unstable_cells);
        assert!(
            listed.contains(&format!("<none> | <none> | {short} |")),
            "{name}: {listed}"
        );
        // The store keeps the layout's manifest and layer blobs as they were.
        let stored = root.inspect(short);
        assert_eq!(
            stored["Manifest"]["Digest"],
            json!(its_layout.manifest_digest(0)),
            "{name}"
        );
        let blobs = root.state().blobs;
        for layer in its_layout.layer_digests(0) {
            assert!(blobs.contains(&layer[7..]), "{name}: no blob {layer}");
        }
    }

    // Named in the index, by `ref.name` or by containerd's annotation, it loads by name.
    let named = Layout::copy(engine.layout(), engine.dir().join("named"));
    let mut index = named.index();
    let entry = index["manifests"][0].clone();
    let mut second = entry.clone();
    second["annotations"] = json!({
        "org.opencontainers.image.ref.name": "2",
        "io.containerd.image.name": "example.com/team/busybox:2",
    });
    index["manifests"] = json!([entry, second]);
    index["manifests"][0]["annotations"] =
        json!({"org.opencontainers.image.ref.name": "docker.io/library/busybox:oci"});
    named.set_index(&index);
    assert_eq!(
        engine.load(&named.dir),
        "Loaded image: busybox:oci\nLoaded image: example.com/team/busybox:2\n"
    );
    engine
        .cmd(&[
            "run",
            "--rm",
            "example.com/team/busybox:2",
            "/bin/echo",
            "two",
        ])
        .assert()
        .success()
        .stdout("two\n");
    let names = engine.stdout(&["images", "--format", "{{.Repository}}:{{.Tag}} {{.ID}}"]);
    let short = &config[7..19];
    assert_eq!(
        names,
        format!("busybox:oci {short}\nexample.com/team/busybox:2 {short}\n")
    );
    assert_no_mounts_under(engine.dir());
}

#[test]
fn run_applies_the_image_config_and_the_command_line_overrides_it() {
    require_root!();
    require_image_tools!();
    let engine = Engine::busybox();
    let layout = named_layout(&engine, "named", "docker.io/library/busybox:latest");
    // Two more images: one with no command at all, one whose user is a name in its passwd.
    let no_command = layout.derive(
        0,
        Some("docker.io/library/nocmd:latest"),
        |config| {
            config["config"].as_object_mut().unwrap().remove("Cmd");
        },
        |_| {},
    );
    let by_name = layout.derive(
        0,
        Some("docker.io/library/nobody:latest"),
        |config| config["config"]["User"] = json!("nobody"),
        |_| {},
    );
    let mut entries = layout.index()["manifests"].as_array().unwrap().clone();
    entries.extend([no_command, by_name]);
    layout.set_entries(entries);
    assert_eq!(
        engine.load(&layout.dir),
        "Loaded image: busybox:latest\nLoaded image: nocmd:latest\nLoaded image: nobody:latest\n"
    );

    // The image's Cmd, Env, WorkingDir and User.
    assert_eq!(CMD, ["/probe"]);
    assert_eq!((WORKING_DIR, USER), ("/data", "0:0"));
    let report = config_sections(&engine.stdout(&["run", "--rm", "busybox"]));
    for expected in ENV.iter().map(|e| format!("  {e}\n")).chain([
        "cwd: /data\n".into(),
        "uid: 0\n".into(),
        "gid: 0\n".into(),
    ]) {
        assert!(report.contains(&expected), "{expected:?} in:\n{report}");
    }
    redacted(engine.dir(), || {
        insta::assert_snapshot!("config_applied", report)
    });

    // -e overrides one variable and adds another; -w and -u replace WorkingDir and User.
    let args = [
        "run",
        "--rm",
        "-e",
        "FIXTURE=2",
        "-e",
        "EXTRA=yes",
        "-w",
        "/tmp",
        "-u",
        "65534:65534",
        "busybox",
        "/probe",
        "report",
        "ids",
        "cwd",
        "env",
    ];
    let report = engine.stdout(&args);
    assert!(
        report.contains("  FIXTURE=2\n") && !report.contains("FIXTURE=1"),
        "{report}"
    );
    redacted(engine.dir(), || {
        insta::assert_snapshot!("config_overridden", report)
    });

    // --entrypoint replaces the entrypoint and drops the image's Cmd.
    engine
        .cmd(&[
            "run",
            "--rm",
            "--entrypoint",
            "/bin/echo",
            "busybox",
            "a",
            "b",
        ])
        .assert()
        .success()
        .stdout("a b\n");
    engine
        .cmd(&["run", "--rm", "--entrypoint", "/bin/echo", "busybox"])
        .assert()
        .success()
        .stdout("\n");

    // A User by name comes from the image's own /etc/passwd.
    let ids = engine.stdout(&["run", "--rm", "nobody", "/probe", "report", "ids"]);
    assert!(ids.contains("uid: 65534\ngid: 65534\n"), "{ids}");

    // Nothing to run: the image has no command and none was given (or --entrypoint "").
    let error = engine.fails(&["run", "--rm", "nocmd"], 125);
    assert!(error.contains("no command specified"), "{error}");
    let error = engine.fails(&["run", "--rm", "--entrypoint", "", "busybox"], 125);
    assert!(error.contains("no command specified"), "{error}");
    engine
        .cmd(&["run", "--rm", "nocmd", "/bin/echo", "given"])
        .assert()
        .success()
        .stdout("given\n");
    assert_eq!(engine.stdout(&["ps", "-a", "-q"]), "");
    assert_no_mounts_under(engine.dir());
}

#[test]
fn inspect_and_history_describe_the_image() {
    require_root!();
    require_image_tools!();
    let engine = Engine::busybox();
    let layout = Layout {
        dir: engine.layout().to_path_buf(),
    };
    let archive = busybox_docker_archive(&engine.fixture, "busybox:latest");
    engine.load(&archive);

    let mut document = engine.inspect("busybox");
    let config = layout.config(0);
    assert_eq!(document["Id"], json!(layout.config_digest(0)));
    assert_eq!(document["RepoTags"], json!(["busybox:latest"]));
    assert_eq!(document["Created"], json!(FIXED_TIME));
    assert_eq!(document["RootFS"]["Layers"], config["rootfs"]["diff_ids"]);
    assert_eq!(document["Config"]["Labels"][LABEL.0], json!(LABEL.1));
    assert_eq!(document["Config"]["Env"], json!(ENV));
    let size = document["Size"].as_u64().expect("a size");
    assert!(size > 1_000_000, "{size}");
    document["Size"] = json!("[SIZE]");
    let text = serde_json::to_string_pretty(&document).unwrap();
    redacted(engine.dir(), || insta::assert_snapshot!("inspect", text));

    let history = normalize_table(&engine.stdout(&["history", "busybox"]), unstable_cells);
    let full = normalize_table(
        &engine.stdout(&["history", "--no-trunc", "busybox:latest"]),
        unstable_cells,
    );
    assert_eq!(history.lines().count(), 1 + LAYERS + 1, "{history}");
    redacted(engine.dir(), || {
        insta::assert_snapshot!("history", history);
        insta::assert_snapshot!("history_no_trunc", full);
    });

    let error = engine.fails(&["inspect", "busybox", "nosuch"], 1);
    assert!(error.contains("no such image: nosuch"), "{error}");
}

#[test]
fn rmi_untags_while_another_name_remains_and_the_last_name_deletes_everything() {
    require_root!();
    require_image_tools!();
    let engine = Engine::busybox();
    let archive = busybox_docker_archive(&engine.fixture, "busybox:latest");
    let empty = {
        engine.stdout(&["images"]);
        engine.state()
    };
    engine.load(&archive);
    let loaded = engine.state();
    let id = Layout {
        dir: engine.layout().to_path_buf(),
    }
    .config_digest(0);

    engine.stdout(&["tag", "busybox:latest", "mine:v1"]);
    engine.stdout(&["tag", &id[7..19], "example.com/team/tool:2"]);
    let names = engine.stdout(&["images", "--format", "{{.Repository}}:{{.Tag}}"]);
    assert_eq!(names, "busybox:latest\nexample.com/team/tool:2\nmine:v1\n");
    let tagged = engine.state();
    assert_eq!(
        (&tagged.blobs, &tagged.layers),
        (&loaded.blobs, &loaded.layers),
        "tag stores nothing"
    );

    // By id, an image with several names stays unless forced, as docker's.
    let error = engine.fails(&["rmi", &id[7..19]], 1);
    assert!(
        error.contains("must be forced): the image has 3 names"),
        "{error}"
    );
    assert_eq!(engine.state(), tagged);

    assert_eq!(engine.stdout(&["rmi", "mine:v1"]), "Untagged: mine:v1\n");
    assert_eq!(
        engine.stdout(&["rmi", "example.com/team/tool:2"]),
        "Untagged: example.com/team/tool:2\n"
    );
    let untagged = engine.state();
    assert_eq!(
        (&untagged.blobs, &untagged.layers),
        (&loaded.blobs, &loaded.layers)
    );
    engine
        .cmd(&["run", "--rm", "busybox", "/bin/true"])
        .assert()
        .success();

    assert_eq!(
        engine.stdout(&["rmi", "busybox:latest"]),
        format!("Untagged: busybox:latest\nDeleted: {id}\n")
    );
    let gone = engine.state();
    assert_eq!(
        (&gone.blobs, &gone.layers),
        (&empty.blobs, &empty.layers),
        "the last name took the image's blobs and layers with it"
    );
    assert!(gone.blobs.is_empty() && gone.layers.is_empty(), "{gone:?}");
    assert_eq!(engine.stdout(&["images", "-q"]), "");

    let error = engine.fails(&["rmi", "busybox:latest"], 1);
    assert!(error.contains("no such image: busybox:latest"), "{error}");
    let error = engine.fails(&["rmi", "never/loaded:1"], 1);
    assert!(error.contains("no such image"), "{error}");
    assert_no_mounts_under(engine.dir());
}

#[test]
fn rmi_deletes_only_the_blobs_and_layers_no_other_image_shares() {
    require_root!();
    require_image_tools!();
    let engine = Engine::busybox();
    let layout = named_layout(&engine, "two-images", "docker.io/library/three:latest");
    // "two": the first two layers of "three", and its own config and manifest.
    let two = layout.derive(
        0,
        Some("docker.io/library/two:latest"),
        |config| {
            config["rootfs"]["diff_ids"].as_array_mut().unwrap().pop();
            let history = config["history"].as_array_mut().unwrap();
            history.retain(|step| !step["created_by"].as_str().unwrap().starts_with("layer 3"));
            config["config"]["Env"] = json!(["IMAGE=two"]);
        },
        |manifest| {
            manifest["layers"].as_array_mut().unwrap().pop();
        },
    );
    let mut entries = layout.index()["manifests"].as_array().unwrap().clone();
    entries.push(two);
    layout.set_entries(entries);
    assert_eq!(
        engine.load(&layout.dir),
        "Loaded image: three:latest\nLoaded image: two:latest\n"
    );

    let hex = |d: String| d["sha256:".len()..].to_string();
    let three_chains = engine.chain_ids("three");
    let two_chains = engine.chain_ids("two");
    assert_eq!(two_chains[..], three_chains[..2], "shared chain ids");
    let layers: Vec<String> = layout.layer_digests(0).into_iter().map(hex).collect();
    let own = |i: usize| [hex(layout.config_digest(i)), hex(layout.manifest_digest(i))];
    let before = engine.state();
    let expected: BTreeSet<String> = own(0)
        .into_iter()
        .chain(own(1))
        .chain(layers.clone())
        .collect();
    assert_eq!(before.blobs, expected, "the store holds the layout's blobs");
    assert_eq!(before.layers, layer_entries(&three_chains));
    engine
        .cmd(&[
            "run",
            "--rm",
            "two",
            "/bin/sh",
            "-c",
            "echo $IMAGE; test ! -e /data/hello.txt",
        ])
        .assert()
        .success()
        .stdout("two\n");

    assert_eq!(
        engine.stdout(&["rmi", "three"]),
        format!(
            "Untagged: three:latest\nDeleted: {}\n",
            layout.config_digest(0)
        )
    );
    let after = engine.state();
    let (removed_blobs, removed_layers) = before.minus(&after);
    let only_three: BTreeSet<String> = own(0).into_iter().chain([layers[2].clone()]).collect();
    assert_eq!(removed_blobs, only_three, "exactly three's own blobs");
    assert_eq!(removed_layers, layer_entries(&three_chains[2..]));
    assert!(after.minus(&before).0.is_empty() && after.minus(&before).1.is_empty());
    engine
        .cmd(&["run", "--rm", "two", "/bin/cat", "/etc/fixture-layer-2"])
        .assert()
        .success()
        .stdout("added by layer 2\n");

    engine.stdout(&["rmi", "two:latest"]);
    let empty = engine.state();
    assert!(
        empty.blobs.is_empty() && empty.layers.is_empty(),
        "{empty:?}"
    );
    assert_no_mounts_under(engine.dir());
}

#[test]
fn rmi_refuses_an_image_a_container_uses_unless_forced() {
    require_root!();
    require_image_tools!();
    let engine = Engine::busybox();
    let layout = named_layout(&engine, "named", "docker.io/library/busybox:latest");
    engine.load(&layout.dir);
    let chains = engine.chain_ids("busybox");
    engine
        .cmd(&[
            "run",
            "--name",
            "user",
            "busybox",
            "/bin/sh",
            "-c",
            "echo x > /x",
        ])
        .assert()
        .success();
    let container = engine.stdout(&["ps", "-a", "-q"]);
    let before = engine.state();

    let error = engine.fails(&["rmi", "busybox"], 1);
    let short = &layout.config_digest(0)[7..19];
    assert!(
        error.contains(&format!(
            "unable to remove busybox (must force): container {} is using its image {short}",
            container.trim()
        )),
        "{error}"
    );
    assert_eq!(engine.state(), before, "a refused rmi changes nothing");
    let error = engine.fails(&["rmi", short], 1);
    assert!(error.contains("must force"), "{error}");
    assert_eq!(engine.state(), before);

    // Forced: the name goes; the container keeps standing on its layers.
    let out = engine.cmd(&["rmi", "-f", "busybox"]).assert().success();
    let stdout = String::from_utf8_lossy(&out.get_output().stdout).into_owned();
    assert!(stdout.starts_with("Untagged: busybox:latest\n"), "{stdout}");
    // As docker: the image is deleted; what the stopped container stands on stays.
    assert!(stdout.contains("\nDeleted: sha256:"), "{stdout}");
    assert_eq!(engine.stdout(&["images", "-q"]), "");
    let forced = engine.state();
    for layer in layer_entries(&chains) {
        assert!(
            forced.layers.contains(&layer),
            "{layer} went from under the container"
        );
    }
    assert_eq!(engine.stdout(&["diff", "user"]), "A /x\n");

    // With the container gone, nothing keeps the image's layers.
    assert_eq!(engine.stdout(&["rm", "user"]), "user\n");
    let empty = engine.state();
    assert!(
        empty.blobs.is_empty() && empty.layers.is_empty(),
        "{empty:?}"
    );
    assert_no_mounts_under(engine.dir());
}

#[test]
fn digests_do_not_depend_on_how_the_image_travelled() {
    require_root!();
    require_image_tools!();
    let engine = Engine::busybox();
    let zstd = busybox_oci_layout_with("latest", "zstd");
    let layout = Layout {
        dir: engine.layout().to_path_buf(),
    };
    let docker = busybox_docker_archive(&engine.fixture, "busybox:latest");
    let oci_archive = busybox_oci_archive(&engine.fixture);

    // The id is the config's digest, computed here from the config's bytes.
    let config_bytes = fs::read(layout.blob_path(&layout.config_digest(0))).unwrap();
    let id = format!("sha256:{}", sha256_hex(&config_bytes));
    assert_eq!(id, layout.config_digest(0));

    /// What a load gave: the image id, the manifest kept, the chain ids, the layers' files.
    #[derive(Debug, PartialEq)]
    struct Loaded {
        id: String,
        manifest: String,
        chains: Vec<String>,
        files: Vec<String>,
    }
    let load = |name: &str, source: &std::path::Path| {
        let root = engine.other_root(name);
        root.load(source);
        let document = root.inspect(&id);
        let chains = root.chain_ids(&id);
        let files = chains
            .iter()
            // Without times: a directory a layer's tar implies but does not list (umoci
            // writes `etc/fixture-layer-2` without `etc/`) is made when the layer is unpacked.
            .map(|c| tree_listing(&root.path.join("layers").join(c), false))
            .collect();
        Loaded {
            id: document["Id"].as_str().unwrap().to_string(),
            manifest: document["Manifest"]["Digest"].as_str().unwrap().to_string(),
            chains,
            files,
        }
    };
    let first = load("layout-1", engine.layout());
    let again = load("layout-2", engine.layout());
    assert_eq!(first, again, "the same layout twice");
    assert_eq!(first.id, id);
    assert_eq!(first.manifest, layout.manifest_digest(0));
    assert_eq!(
        engine.other_root("layout-1").state().blobs,
        engine.other_root("layout-2").state().blobs
    );

    // The chain ids, by the spec's formula from the config's diff ids.
    let config = layout.config(0);
    let diff_ids: Vec<&str> = config["rootfs"]["diff_ids"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d.as_str().unwrap())
        .collect();
    let mut chains = vec![diff_ids[0].to_string()];
    for diff_id in &diff_ids[1..] {
        let below = chains.last().unwrap();
        chains.push(format!(
            "sha256:{}",
            sha256_hex(format!("{below} {diff_id}").as_bytes())
        ));
    }
    let chains: Vec<String> = chains.iter().map(|c| c[7..].to_string()).collect();
    assert_eq!(first.chains, chains);

    // Other formats of the same image: the same id, chain ids and files; docker's archive has
    // no manifest (the store writes one: the same one each time), the others keep theirs.
    let from_docker = load("docker-1", &docker);
    let from_docker_again = load("docker-2", &docker);
    assert_eq!(
        from_docker, from_docker_again,
        "the same docker archive twice"
    );
    let docker_manifest: Value = {
        let mut archive = tar::Archive::new(fs::File::open(&docker).unwrap());
        let mut entry = archive
            .entries()
            .unwrap()
            .map(Result::unwrap)
            .find(|e| e.path().unwrap().to_str() == Some("manifest.json"))
            .expect("manifest.json");
        serde_json::from_reader(&mut entry).unwrap()
    };
    assert_eq!(
        docker_manifest[0]["Config"],
        json!(format!("{}.json", &id[7..])),
        "skopeo wrote the config unchanged"
    );
    let from_oci_archive = load("oci-archive", &oci_archive);
    let from_zstd = load("zstd", &zstd.layout);
    for (name, other) in [
        ("docker archive", &from_docker),
        ("oci archive", &from_oci_archive),
        ("zstd layout", &from_zstd),
    ] {
        assert_eq!(
            (&other.id, &other.chains, &other.files),
            (&first.id, &first.chains, &first.files),
            "{name}"
        );
    }
    assert_eq!(from_oci_archive.manifest, first.manifest);
    assert_ne!(
        from_docker.manifest, first.manifest,
        "docker's manifest is the store's own"
    );
    assert_ne!(
        from_zstd.manifest, first.manifest,
        "zstd layers, another manifest"
    );
}

#[test]
fn save_then_load_into_an_empty_root_gives_the_same_image() {
    require_root!();
    require_image_tools!();
    let engine = Engine::busybox();
    engine.load(&busybox_docker_archive(&engine.fixture, "busybox:latest"));
    let id = engine.stdout(&["images", "-q", "--no-trunc"]);
    let original = engine.inspect("busybox");
    let layers = |doc: &Value| doc["RootFS"]["Layers"].clone();

    for format in ["docker", "oci"] {
        let archive = engine.dir().join(format!("saved-{format}.tar"));
        let archive_arg = archive.to_string_lossy().into_owned();
        engine.stdout(&["save", "--format", format, "-o", &archive_arg, "busybox"]);
        // Saved twice, the same bytes: nothing of this machine or moment is in the archive.
        let again = engine.dir().join(format!("again-{format}.tar"));
        engine.stdout(&[
            "save",
            "--format",
            format,
            "-o",
            &again.to_string_lossy(),
            "busybox",
        ]);
        assert_eq!(
            fs::read(&archive).unwrap(),
            fs::read(&again).unwrap(),
            "{format}"
        );

        let fresh = engine.other_root(&format!("fresh-{format}"));
        assert_eq!(
            fresh.load(&archive),
            "Loaded image: busybox:latest\n",
            "{format}"
        );
        assert_eq!(
            fresh.stdout(&["images", "-q", "--no-trunc"]),
            id,
            "{format}: same image id"
        );
        let loaded = fresh.inspect("busybox");
        assert_eq!(
            layers(&loaded),
            layers(&original),
            "{format}: same diff ids"
        );
        assert_eq!(
            fresh.chain_ids("busybox"),
            engine.chain_ids("busybox"),
            "{format}"
        );
        if format == "oci" {
            // The OCI layout carries the stored manifest and blobs as they are.
            assert_eq!(
                loaded["Manifest"], original["Manifest"],
                "same manifest digest"
            );
            assert_eq!(fresh.state().blobs, engine.state().blobs, "the same blobs");
        }
        let out = fresh.stdout(&["run", "--rm", "busybox", "/bin/echo", "hi"]);
        assert_eq!(out, "hi\n");
        assert_no_mounts_under(engine.dir());
    }
}

#[test]
fn commit_keeps_what_the_container_ran_with() {
    require_root!();
    require_image_tools!();
    let engine = Engine::busybox();
    engine.load(&busybox_docker_archive(&engine.fixture, "busybox:latest"));
    engine
        .cmd(&[
            "run",
            "--name",
            "changed",
            "-e",
            "EXTRA=1",
            "-w",
            "/tmp",
            "-u",
            "0:0",
            "busybox",
            "/bin/sh",
            "-c",
            "echo made > /made",
        ])
        .assert()
        .success();
    let id = engine.stdout(&["commit", "changed", "made:v1"]);
    assert!(id.starts_with("sha256:"), "{id}");
    let config = &engine.inspect("made:v1")["Config"];
    assert_eq!(config["Cmd"], json!(["/bin/sh", "-c", "echo made > /made"]));
    assert_eq!(config["WorkingDir"], json!("/tmp"));
    assert_eq!(config["User"], json!("0:0"));
    let env: Vec<&str> = config["Env"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    assert!(
        env.contains(&"FIXTURE=1") && env.contains(&"EXTRA=1"),
        "{env:?}"
    );
    // What the image had and the command line did not touch stays.
    assert_eq!(config["ExposedPorts"], json!({ "8080/tcp": {} }));
    // Run with no command, the new image does what the container did, on its changes.
    let out = engine.stdout(&["run", "--rm", "made:v1"]);
    assert_eq!(out, "");
    assert_eq!(
        engine.stdout(&["run", "--rm", "made:v1", "/bin/cat", "/made"]),
        "made\n"
    );
    let history = engine.inspect("made:v1");
    assert_eq!(
        history["RootFS"]["Layers"].as_array().unwrap().len(),
        LAYERS + 1
    );
    assert_no_mounts_under(engine.dir());
}
