//! Volumes: the `volume` commands as docker prints them, creation racing with itself, and
//! docker's copy-up of an image's files into an empty volume.

use std::fs;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use assert_cmd::cargo::cargo_bin_cmd;
use ch01_namespaces::{Mount, Narrator};
use ch06_compose::container::{self, HostConfig, VolumeUse};
use ch06_compose::volume::{self, CreateOptions, Volumes};
use dockyard_tests::{TestDir, busybox_rootfs, require_root, tree_listing, with_redactions};

/// The longest one command of a test may take (a build included).
const PATIENCE: Duration = Duration::from_secs(120);

/// A test's own `--root`.
struct Root {
    dir: tempfile::TempDir,
}

/// The default network a build's `RUN` made lives on the host (its bridge, its rules), not in
/// the test's directory: it goes with the test.
impl Drop for Root {
    fn drop(&mut self) {
        let _ = self.tool(&["network", "rm", "bridge"]).output();
    }
}

impl Root {
    fn new() -> Root {
        Root {
            dir: tempfile::Builder::new()
                .prefix("dockyard-volumes-")
                .tempdir()
                .expect("a temporary directory"),
        }
    }

    fn path(&self) -> PathBuf {
        self.dir.path().join("root")
    }

    /// `ch06-compose --root ROOT ARGS...`
    fn tool(&self, args: &[&str]) -> assert_cmd::Command {
        let mut command = cargo_bin_cmd!("ch06-compose");
        command
            .arg("--root")
            .arg(self.path())
            .args(args)
            .timeout(PATIENCE);
        command
    }

    /// Runs `volume ARGS...` and writes it down as a transcript: the command, what it
    /// printed, and its status when not 0.
    fn volume(&self, transcript: &mut String, args: &[&str], stdin: Option<&str>) {
        let mut command = self.tool(&[&["volume"], args].concat());
        if let Some(input) = stdin {
            command.write_stdin(input);
        }
        let output = command.output().expect("run ch06-compose volume");
        transcript.push_str(&format!("$ volume {}\n", args.join(" ")));
        for printed in [&output.stdout, &output.stderr] {
            let text = String::from_utf8_lossy(printed);
            transcript.push_str(&text);
            // A prompt ends without a newline; the transcript's next line starts on its own.
            if !text.is_empty() && !text.ends_with('\n') {
                transcript.push('\n');
            }
        }
        match output.status.code().expect("an exit status") {
            0 => {}
            code => transcript.push_str(&format!("[status {code}]\n")),
        }
    }

    /// The container store of this root.
    fn containers(&self) -> ch03_union_fs::Store {
        ch03_union_fs::Store::open(self.path()).expect("open the container store")
    }

    /// Records a container that mounts `volumes`, as `create` will: chapter 03's record and
    /// this chapter's `hostconfig.json`.
    fn container_using(&self, volumes: Vec<VolumeUse>) -> String {
        let store = self.containers();
        let id = ch01_namespaces::ContainerId::random().expect("an id");
        let record = ch03_union_fs::Record {
            id: id.as_str().to_owned(),
            name: None,
            created_ns: dockyard_support::clock::now_ns(),
            command: vec!["true".into()],
            layers: Vec::new(),
            image: None,
            config: None,
            driver: ch03_union_fs::Driver::Vfs,
            state: ch03_union_fs::State::Created,
        };
        store.create(&record).expect("create the container");
        let config = HostConfig {
            volumes,
            ..HostConfig::default()
        };
        let paths = container::Paths::new(&store, &record.id);
        container::write_json(&paths.host_config(), &config).expect("write hostconfig.json");
        record.id
    }
}

fn uses(name: &str, target: &str) -> VolumeUse {
    VolumeUse {
        name: name.into(),
        target: target.into(),
        read_only: false,
        anonymous: false,
        no_copy: false,
    }
}

/// Snapshots with the test's directory, ids and creation times made stable.
fn assert_transcript(root: &Root, name: &str, transcript: &str) {
    with_redactions(root.dir.path(), || {
        let mut settings = insta::Settings::clone_current();
        settings.add_filter(r#""CreatedAt": "[^"]+""#, r#""CreatedAt": "[TIME]""#);
        settings.bind(|| insta::assert_snapshot!(name, transcript));
    });
}

#[test]
fn volume_commands_print_as_docker_prints_them() {
    let root = Root::new();
    let mut t = String::new();
    root.volume(
        &mut t,
        &["create", "data", "--label", "tier=db", "--label", "x"],
        None,
    );
    root.volume(&mut t, &["create", "data"], None);
    root.volume(&mut t, &["create", "v10"], None);
    root.volume(&mut t, &["create", "v2"], None);
    root.volume(&mut t, &["ls"], None);
    root.volume(&mut t, &["ls", "-q", "--filter", "name=v"], None);
    root.volume(&mut t, &["ls", "--filter", "label=tier=db"], None);
    root.volume(&mut t, &["inspect", "data"], None);
    root.volume(&mut t, &["inspect", "v2", "nosuch"], None);
    // A random name: listed after this, it could sort anywhere.
    root.volume(&mut t, &["create"], None);
    root.volume(&mut t, &["create", "a"], None);
    root.volume(&mut t, &["create", "-o", "foo=bar", "v1"], None);
    root.volume(&mut t, &["create", "-d", "nfs", "v1"], None);

    // A container that uses `data`, and an anonymous volume no container uses any more.
    let user = root.container_using(vec![uses("data", "/var/lib/db")]);
    let volumes = Volumes::open(&root.containers()).expect("open the volumes");
    let anonymous = CreateOptions {
        anonymous: true,
        ..CreateOptions::default()
    };
    let (leftover, _) = volumes
        .create(None, &anonymous)
        .expect("an anonymous volume");
    fs::write(leftover.mountpoint.join("file"), "12345").expect("write into the volume");

    root.volume(&mut t, &["rm", "data", "v2", "nosuch"], None);
    root.volume(&mut t, &["rm", "-f", "nosuch"], None);
    root.volume(&mut t, &["ls", "--filter", "dangling=false"], None);
    root.volume(&mut t, &["ls", "--filter", "dangling=maybe"], None);
    root.volume(&mut t, &["prune"], Some("n\n"));
    root.volume(&mut t, &["prune", "--force"], None);
    root.volume(&mut t, &["prune", "--all", "--force"], None);
    root.volume(&mut t, &["ls"], None);
    assert!(t.contains(&format!("volume is in use - [{user}]")), "{t}");
    assert_transcript(&root, "volume_commands", &t);
}

#[test]
fn racing_creates_make_one_volume() {
    let root = Root::new();
    fs::create_dir_all(root.path()).expect("create the root");
    let children: Vec<_> = (0..8)
        .map(|_| {
            Command::new(env!("CARGO_BIN_EXE_ch06-compose"))
                .arg("--root")
                .arg(root.path())
                .args(["volume", "create", "shared"])
                .output()
        })
        .collect();
    for child in children {
        let output = child.expect("run volume create");
        assert!(output.status.success(), "{output:?}");
        assert_eq!(output.stdout, b"shared\n");
    }
    let listed = root.tool(&["volume", "ls", "-q"]).output().expect("run ls");
    assert_eq!(listed.stdout, b"shared\n");
    let entries = fs::read_dir(root.path().join("volumes")).expect("list the volumes");
    assert_eq!(entries.count(), 1, "nothing temporary is left");
}

/// A store holding `busybox` and, built from it, `volumes:test`: files under `/data` made in
/// two layers (the second deletes some of the first's and replaces a directory), `/srv` a
/// link to it, and `VOLUME /data`.
fn image_with_a_volume_path(dir: &TestDir, root: &Root) -> Vec<PathBuf> {
    let tar = dir.path().join("busybox.tar");
    let status = Command::new("tar")
        .arg("-C")
        .arg(dir.rootfs())
        .arg("-cf")
        .arg(&tar)
        .arg(".")
        .status()
        .expect("run tar");
    assert!(status.success());
    root.tool(&["import", tar.to_str().unwrap(), "busybox"])
        .assert()
        .success();
    let context = dir.path().join("context");
    fs::create_dir_all(&context).unwrap();
    fs::write(
        context.join("Dockerfile"),
        "FROM busybox\n\
         RUN mkdir -p /data/sub /data/gone /data/swap && echo one > /data/sub/file \
         && echo bye > /data/gone/x && echo drop > /data/drop && echo old > /data/swap/old\n\
         RUN rm -rf /data/gone /data/drop /data/swap && mkdir /data/swap && echo new > /data/swap/new \
         && echo two > /data/two && ln /data/two /data/hard && ln -s sub/file /data/link \
         && chown -R 1000:1000 /data/sub && chmod 750 /data/sub && chown 7:8 /data && chmod 770 /data \
         && ln -s /data /srv\n\
         VOLUME /data\n",
    )
    .unwrap();
    root.tool(&[
        "build",
        "-q",
        "-t",
        "volumes:test",
        context.to_str().unwrap(),
    ])
    .assert()
    .success();
    let images = ch04_images::store::ImageStore::open(root.path()).expect("open the store");
    let image = images.find_image("volumes:test").expect("the image");
    assert!(
        image
            .config
            .config
            .as_ref()
            .is_some_and(|c| c.volumes.contains_key("/data")),
        "the image declares /data"
    );
    image
        .chain_ids()
        .iter()
        .map(|c| images.layer_dir(c))
        .collect()
}

#[test]
fn copy_up_fills_an_empty_volume_with_the_images_files_once() {
    require_root!();
    let dir = busybox_rootfs();
    let root = Root::new();
    let layers = image_with_a_volume_path(&dir, &root);
    let containers = root.containers();
    let host = root.dir.path().join("host/new");
    let mut untouched = uses("untouched", "/data");
    untouched.no_copy = true;
    let volumes = [
        uses("filled", "/data"),
        uses("through-link", "/srv"),
        uses("elsewhere", "/nothing/here"),
    ];
    let bind = Mount::bind(&host, "/data/host", true);
    let mounts = volume::mounts_for(
        &containers,
        &volumes,
        std::slice::from_ref(&bind),
        &layers,
        &Narrator::silent(),
    )
    .expect("resolve the mounts");
    // Parents before what is inside them; the missing bind source was made.
    let targets: Vec<&Path> = mounts.iter().map(|m| m.target.as_path()).collect();
    assert_eq!(
        targets,
        ["/data", "/srv", "/nothing/here", "/data/host"].map(Path::new)
    );
    assert!(host.is_dir());
    let data = |name: &str| containers.root().join("volumes").join(name).join("_data");
    assert_eq!(mounts[0], Mount::bind(data("filled"), "/data", false));

    let listing = tree_listing(&data("filled"), false);
    assert_eq!(listing, tree_listing(&data("through-link"), false));
    with_redactions(root.dir.path(), || {
        insta::assert_snapshot!("copied_from_the_image", listing);
    });
    let meta = |path: PathBuf| fs::symlink_metadata(path).expect("stat");
    let root_dir = meta(data("filled"));
    assert_eq!(
        (root_dir.uid(), root_dir.gid(), root_dir.mode() & 0o7777),
        (7, 8, 0o770),
        "the volume takes the owner and mode of the image's directory"
    );
    assert_eq!(
        meta(data("filled").join("two")).ino(),
        meta(data("filled").join("hard")).ino(),
        "a hard link stays one"
    );
    assert_eq!(fs::read_dir(data("elsewhere")).unwrap().count(), 0);

    // A volume with something in it is left alone; nocopy leaves an empty one empty.
    fs::remove_file(data("filled").join("two")).unwrap();
    let again = [uses("filled", "/data"), untouched];
    volume::mounts_for(&containers, &again, &[], &layers, &Narrator::silent())
        .expect("resolve again");
    assert!(!data("filled").join("two").exists());
    assert_eq!(fs::read_dir(data("untouched")).unwrap().count(), 0);

    // Two starts at once on a new volume copy once, and neither fails.
    std::thread::scope(|scope| {
        let starts: Vec<_> = (0..2)
            .map(|_| {
                scope.spawn(|| {
                    volume::mounts_for(
                        &containers,
                        &[uses("raced", "/data")],
                        &[],
                        &layers,
                        &Narrator::silent(),
                    )
                })
            })
            .collect();
        for start in starts {
            start.join().unwrap().expect("resolve at the same time");
        }
    });
    assert_eq!(tree_listing(&data("raced"), false), listing);

    // The overlay of the layers was never mounted anywhere; nothing temporary is left.
    dockyard_tests::assert_no_mounts_under(root.dir.path());
    let names: Vec<String> = fs::read_dir(containers.root().join("volumes"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with('.'))
        .collect();
    assert!(names.is_empty(), "{names:?}");

    // rm -v: the anonymous volumes go, unless another container uses them.
    let mut anonymous = uses("anonymous-one", "/data");
    anonymous.anonymous = true;
    let mut shared = uses("anonymous-shared", "/data");
    shared.anonymous = true;
    let both = [anonymous, shared.clone(), uses("filled", "/data")];
    volume::mounts_for(&containers, &both, &[], &layers, &Narrator::silent()).unwrap();
    root.container_using(vec![shared]);
    let removed = volume::remove_anonymous(&containers, &both).expect("remove them");
    assert_eq!(removed, ["anonymous-one"]);
    assert!(!data("anonymous-one").exists());
    assert!(data("anonymous-shared").exists() && data("filled").exists());
}
