//! What the image tests share: an engine with a `--root` of its own beside a fixture image,
//! the store as a test sees it from outside (the files under `blobs/sha256`, `layers`, `tmp`),
//! an OCI layout editor for the images the fixtures do not make, and the normalizations that
//! keep snapshots stable.

// Each test file uses its own part of this module.
#![allow(dead_code)]

use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use assert_cmd::cargo::cargo_bin_cmd;
use dockyard_tests::images::ImageFixture;
use serde_json::{Value, json};
use sha2::{Digest as _, Sha256};

/// The engine under test.
pub const BIN: &str = env!("CARGO_BIN_EXE_ch04-images");

/// How long one command may take: a debug build loading a few megabytes takes about a second,
/// but tests run in parallel on small machines.
pub const PATIENCE: Duration = Duration::from_secs(120);

/// A fixture image and an engine whose `--root` is `<fixture dir>/root`: every test has its
/// own store, containers and names, so tests run in parallel. It derefs to that [`Root`].
#[derive(Debug)]
pub struct Engine {
    pub fixture: ImageFixture,
    root: Root,
}

impl Engine {
    pub fn new(fixture: ImageFixture) -> Engine {
        let root = Root {
            path: fixture.dir().join("root"),
        };
        Engine { fixture, root }
    }

    /// The gzip fixture image, tagged `latest` in its layout.
    pub fn busybox() -> Engine {
        Engine::new(dockyard_tests::images::busybox_oci_layout("latest"))
    }

    /// The test's own directory (the fixture's).
    pub fn dir(&self) -> &Path {
        self.fixture.dir()
    }

    /// The fixture's OCI layout.
    pub fn layout(&self) -> &Path {
        &self.fixture.layout
    }

    /// Another `--root` in the test's directory.
    pub fn other_root(&self, name: &str) -> Root {
        Root {
            path: self.dir().join(name),
        }
    }

    /// Another `--root` in the test's directory, which must not exist yet.
    pub fn empty_root(&self, name: &str) -> Root {
        let root = self.other_root(name);
        assert!(
            !root.path.exists(),
            "{} exists already",
            root.path.display()
        );
        root
    }
}

impl std::ops::Deref for Engine {
    type Target = Root;

    fn deref(&self) -> &Root {
        &self.root
    }
}

/// One `--root`: a store of its own.
#[derive(Debug, Clone)]
pub struct Root {
    pub path: PathBuf,
}

impl Root {
    /// `ch04-images --root <root> ARGS...`, with a time limit.
    pub fn cmd(&self, args: &[&str]) -> assert_cmd::Command {
        let mut cmd = cargo_bin_cmd!("ch04-images");
        cmd.arg("--root")
            .arg(&self.path)
            .args(args)
            .timeout(PATIENCE);
        cmd
    }

    /// Runs a command that must succeed, and returns its stdout.
    pub fn stdout(&self, args: &[&str]) -> String {
        let out = self.cmd(args).assert().success();
        String::from_utf8_lossy(&out.get_output().stdout).into_owned()
    }

    /// Runs a command that must exit with `code`, print nothing on stdout and one line on
    /// stderr; returns that line.
    pub fn fails(&self, args: &[&str], code: i32) -> String {
        let out = self.cmd(args).assert().code(code);
        let output = out.get_output();
        let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
        assert_eq!(
            String::from_utf8_lossy(&output.stdout),
            "",
            "{args:?} printed on stdout"
        );
        assert_eq!(stderr.lines().count(), 1, "{args:?}: one line:\n{stderr}");
        stderr
    }

    /// `load -i PATH`, which must fail with `code` and one line on stderr; that line.
    pub fn load_fails(&self, input: &Path, code: i32) -> String {
        self.fails(&["load", "-i", &input.to_string_lossy()], code)
    }

    /// `load -i PATH`, which must succeed quietly; its stdout.
    pub fn load(&self, input: &Path) -> String {
        let out = self
            .cmd(&["load", "-i"])
            .arg(input)
            .assert()
            .success()
            .stderr("");
        String::from_utf8_lossy(&out.get_output().stdout).into_owned()
    }

    /// `load -i PATH` of one image without a name: its id, from `Loaded image ID: ID`.
    pub fn load_id(&self, input: &Path) -> String {
        let out = self.load(input);
        let id = out
            .strip_prefix("Loaded image ID: ")
            .and_then(|rest| rest.strip_suffix('\n'))
            .unwrap_or_else(|| panic!("not one unnamed image: {out:?}"));
        assert!(!id.contains('\n'), "{out}");
        id.to_string()
    }

    /// The store's files, as a test sees them.
    pub fn state(&self) -> StoreState {
        StoreState::of(&self.path)
    }

    /// What is in `<root>/tmp`.
    pub fn tmp(&self) -> Vec<String> {
        names_in(&self.path.join("tmp"))
    }

    /// `inspect REF`'s one document.
    pub fn inspect(&self, reference: &str) -> Value {
        let out = self.stdout(&["inspect", reference]);
        let mut documents: Vec<Value> = serde_json::from_str(&out).expect("inspect prints JSON");
        assert_eq!(documents.len(), 1, "{out}");
        documents.remove(0)
    }

    /// The chain ids (layer directory names) `inspect` lists for an image, bottom first.
    pub fn chain_ids(&self, reference: &str) -> Vec<String> {
        let document = self.inspect(reference);
        let lower = document["GraphDriver"]["Data"]["LowerDirs"]
            .as_str()
            .expect("LowerDirs");
        let layers = self.path.join("layers");
        let mut chains: Vec<String> = lower
            .split(':')
            .map(|dir| {
                let dir = Path::new(dir);
                assert_eq!(dir.parent(), Some(layers.as_path()), "{lower}");
                dir.file_name().unwrap().to_string_lossy().into_owned()
            })
            .collect();
        chains.reverse();
        chains
    }
}

/// The names in a directory, sorted (none if it does not exist).
pub fn names_in(dir: &Path) -> Vec<String> {
    let Ok(entries) = fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut names: Vec<String> = entries
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

/// The image store's content: blob names, layer directories (and their `.size` files), and
/// the text of `images.json`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoreState {
    pub blobs: BTreeSet<String>,
    pub layers: BTreeSet<String>,
    pub index: Option<String>,
}

impl StoreState {
    pub fn of(root: &Path) -> StoreState {
        StoreState {
            blobs: names_in(&root.join("blobs/sha256")).into_iter().collect(),
            layers: names_in(&root.join("layers")).into_iter().collect(),
            index: fs::read_to_string(root.join("images.json")).ok(),
        }
    }

    /// What `self` has that `other` lacks, blobs and layer entries.
    pub fn minus(&self, other: &StoreState) -> (BTreeSet<String>, BTreeSet<String>) {
        (
            self.blobs.difference(&other.blobs).cloned().collect(),
            self.layers.difference(&other.layers).cloned().collect(),
        )
    }
}

/// The layer directories of these chain ids, with their `.size` files, as `layers/` lists
/// them.
pub fn layer_entries<'a>(chains: impl IntoIterator<Item = &'a String>) -> BTreeSet<String> {
    chains
        .into_iter()
        .flat_map(|c| [c.clone(), format!("{c}.size")])
        .collect()
}

/// Lowercase hex of the sha256 of `bytes`.
pub fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Breaks a gzip blob's deflate stream where it starts: its first block gets the reserved
/// type 3 (RFC 1951, 3.2.3). The blob keeps its length, and every decompressor refuses it on
/// its first block, long before its end.
pub fn break_deflate_stream(gzip: &mut [u8]) {
    const FEXTRA: u8 = 4;
    const FNAME: u8 = 8;
    const FCOMMENT: u8 = 16;
    const FHCRC: u8 = 2;
    assert_eq!(gzip[..3], [0x1f, 0x8b, 8], "a gzip blob (deflate)");
    let flags = gzip[3];
    let mut at = 10; // RFC 1952, 2.3: the fixed part of the header
    if flags & FEXTRA != 0 {
        at += 2 + u16::from_le_bytes([gzip[at], gzip[at + 1]]) as usize;
    }
    for field in [FNAME, FCOMMENT] {
        if flags & field != 0 {
            at += gzip[at..].iter().position(|&b| b == 0).unwrap() + 1;
        }
    }
    if flags & FHCRC != 0 {
        at += 2;
    }
    // Bit 0 is BFINAL, bits 1 and 2 the block's type.
    gzip[at] |= 0b110;
}

/// The sha256 of a (large) file, by coreutils: the test binary's own hash is unoptimized.
pub fn sha256_file(path: &Path) -> String {
    let out = Command::new("sha256sum").arg(path).output().unwrap();
    assert!(out.status.success(), "sha256sum {}", path.display());
    String::from_utf8_lossy(&out.stdout)
        .split_whitespace()
        .next()
        .unwrap()
        .to_string()
}

/// Copies a directory tree of regular files.
pub fn copy_dir(from: &Path, to: &Path) {
    fs::create_dir_all(to).unwrap();
    for entry in fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            fs::copy(entry.path(), &target).unwrap();
        }
    }
}

/// An OCI image layout the test edits: images derived from the fixture's, documents broken on
/// purpose.
#[derive(Debug)]
pub struct Layout {
    pub dir: PathBuf,
}

/// The annotation that names an image in a layout.
pub const REF_NAME: &str = "org.opencontainers.image.ref.name";

impl Layout {
    /// A copy of the layout at `from`, at `to`.
    pub fn copy(from: &Path, to: PathBuf) -> Layout {
        copy_dir(from, &to);
        Layout { dir: to }
    }

    pub fn index(&self) -> Value {
        serde_json::from_slice(&fs::read(self.dir.join("index.json")).unwrap()).unwrap()
    }

    pub fn set_index(&self, index: &Value) {
        fs::write(
            self.dir.join("index.json"),
            serde_json::to_vec(index).unwrap(),
        )
        .unwrap();
    }

    /// The path of the blob `sha256:<hex>`.
    pub fn blob_path(&self, digest: &str) -> PathBuf {
        let hex = digest.strip_prefix("sha256:").expect("a sha256 digest");
        self.dir.join("blobs/sha256").join(hex)
    }

    pub fn json(&self, digest: &str) -> Value {
        serde_json::from_slice(&fs::read(self.blob_path(digest)).unwrap()).unwrap()
    }

    /// Stores `bytes` as a blob; its descriptor, with `media_type`.
    pub fn put(&self, media_type: &str, bytes: &[u8]) -> Value {
        let digest = format!("sha256:{}", sha256_hex(bytes));
        fs::write(self.blob_path(&digest), bytes).unwrap();
        json!({"mediaType": media_type, "digest": digest, "size": bytes.len()})
    }

    /// The digest of the manifest of index entry `i`.
    pub fn manifest_digest(&self, i: usize) -> String {
        self.index()["manifests"][i]["digest"]
            .as_str()
            .unwrap()
            .to_string()
    }

    pub fn manifest(&self, i: usize) -> Value {
        self.json(&self.manifest_digest(i))
    }

    /// The digest of the config of index entry `i`: the image id.
    pub fn config_digest(&self, i: usize) -> String {
        self.manifest(i)["config"]["digest"]
            .as_str()
            .unwrap()
            .to_string()
    }

    pub fn config(&self, i: usize) -> Value {
        self.json(&self.config_digest(i))
    }

    /// The digests of the layer blobs of index entry `i`, bottom first.
    pub fn layer_digests(&self, i: usize) -> Vec<String> {
        self.manifest(i)["layers"]
            .as_array()
            .unwrap()
            .iter()
            .map(|l| l["digest"].as_str().unwrap().to_string())
            .collect()
    }

    /// An image made from index entry `base`'s: its config and manifest edited, stored as new
    /// blobs. Returns the index entry (a descriptor) for it, named `name` if given; the caller
    /// puts it in the index.
    pub fn derive(
        &self,
        base: usize,
        name: Option<&str>,
        edit_config: impl FnOnce(&mut Value),
        edit_manifest: impl FnOnce(&mut Value),
    ) -> Value {
        let mut config = self.config(base);
        edit_config(&mut config);
        let config = self.put(
            "application/vnd.oci.image.config.v1+json",
            &serde_json::to_vec(&config).unwrap(),
        );
        let mut manifest = self.manifest(base);
        manifest["config"] = config;
        edit_manifest(&mut manifest);
        let mut entry = self.put(
            "application/vnd.oci.image.manifest.v1+json",
            &serde_json::to_vec(&manifest).unwrap(),
        );
        if let Some(name) = name {
            entry["annotations"] = json!({ REF_NAME: name });
        }
        entry
    }

    /// Replaces the index's entries by `entries`.
    pub fn set_entries(&self, entries: Vec<Value>) {
        let mut index = self.index();
        index["manifests"] = Value::Array(entries);
        self.set_index(&index);
    }

    /// Gives index entry `i` the name `name` (its `ref.name` annotation).
    pub fn name_entry(&self, i: usize, name: &str) {
        let mut index = self.index();
        index["manifests"][i]["annotations"] = json!({ REF_NAME: name });
        self.set_index(&index);
    }
}

/// A table as the engine prints it, cut into cells at the header's columns (headers may hold
/// one space, `IMAGE ID`; cells are separated by at least three), and printed back with
/// ` | ` between trimmed cells, so that redacting a cell does not shift the others.
/// `redact` maps a column's header and a cell to what the snapshot shows.
pub fn normalize_table(text: &str, redact: impl Fn(&str, &str) -> String) -> String {
    let mut lines = text.lines();
    let header = lines.next().expect("a header line");
    let columns = regex::Regex::new(r"\S+( \S+)*").unwrap();
    let starts: Vec<(usize, &str)> = columns
        .find_iter(header)
        .map(|m| (header[..m.start()].chars().count(), m.as_str()))
        .collect();
    let mut out = String::new();
    for line in std::iter::once(header).chain(lines) {
        let chars: Vec<char> = line.chars().collect();
        let cells: Vec<String> = starts
            .iter()
            .enumerate()
            .map(|(i, (start, name))| {
                let end = starts.get(i + 1).map_or(chars.len(), |(next, _)| *next);
                let cell: String = chars[(*start).min(chars.len())..end.min(chars.len())]
                    .iter()
                    .collect();
                let cell = cell.trim();
                if line == header {
                    cell.to_string()
                } else {
                    redact(name, cell)
                }
            })
            .collect();
        out.push_str(cells.join(" | ").trim_end());
        out.push('\n');
    }
    out
}

/// Redacts what changes with the host's clock and with the busybox and probe binaries in the
/// fixture: `CREATED` (the fixture is dated 2024-01-01: "N years ago"), sizes other than `0B`,
/// ids (by the insta filters).
pub fn unstable_cells(column: &str, cell: &str) -> String {
    match column {
        "CREATED" if cell.ends_with(" ago") => "[CREATED]".into(),
        "SIZE" if cell != "0B" => "[SIZE]".into(),
        _ => cell.to_string(),
    }
}

/// Runs `body` with insta filters for the test's directory, ids and pids
/// (`dockyard_tests::redactions`), the snapshot names prefixed with the test file's name.
pub fn redacted<R>(dir: &Path, body: impl FnOnce() -> R) -> R {
    let mut settings = insta::Settings::clone_current();
    for (pattern, replacement) in dockyard_tests::redactions(dir) {
        settings.add_filter(&pattern, replacement);
    }
    settings.bind(body)
}

/// The fixture image with a fourth layer: `/big/random.bin`, `mib` MiB from /dev/urandom
/// (gzip cannot shrink it), tarred and gzipped by the system's tools; named `big:latest` in
/// a layout at `<dir>/big`. Returns the layout and the sha256 of the file. The crash test of
/// `store.rs` and the registry tests use it.
pub fn big_layout(engine: &Engine, mib: u64) -> (Layout, String) {
    use dockyard_tests::images::{FIXED_EPOCH, FIXED_TIME};
    use std::io::Read as _;

    let work = engine.dir().join("big-work");
    fs::create_dir_all(work.join("content/big")).unwrap();
    let file = work.join("content/big/random.bin");
    let mut random = fs::File::open("/dev/urandom").unwrap().take(mib << 20);
    std::io::copy(&mut random, &mut fs::File::create(&file).unwrap()).unwrap();
    let tar = work.join("layer.tar");
    let status = Command::new("tar")
        .args(["--sort=name", "--owner=0", "--group=0", "--numeric-owner"])
        .arg(format!("--mtime=@{FIXED_EPOCH}"))
        .arg("-C")
        .arg(work.join("content"))
        .arg("-cf")
        .arg(&tar)
        .arg("big")
        .status()
        .unwrap();
    assert!(status.success(), "tar the big layer");
    let gzip = work.join("layer.tar.gz");
    let status = Command::new("gzip")
        .args(["-1", "-n", "-c"])
        .arg(&tar)
        .stdout(fs::File::create(&gzip).unwrap())
        .status()
        .unwrap();
    assert!(status.success(), "gzip the big layer");

    let layout = Layout::copy(engine.layout(), engine.dir().join("big"));
    let diff_id = format!("sha256:{}", sha256_file(&tar));
    let digest = format!("sha256:{}", sha256_file(&gzip));
    let size = fs::metadata(&gzip).unwrap().len();
    fs::rename(&gzip, layout.blob_path(&digest)).unwrap();
    let entry = layout.derive(
        0,
        Some("docker.io/library/big:latest"),
        |config| {
            config["rootfs"]["diff_ids"]
                .as_array_mut()
                .unwrap()
                .push(json!(diff_id));
            let history = config["history"].as_array_mut().unwrap();
            let at = history.len() - 1; // before the config step, which made no layer
            history.insert(
                at,
                json!({"created": FIXED_TIME, "created_by": "layer 4: /big"}),
            );
        },
        |manifest| {
            manifest["layers"].as_array_mut().unwrap().push(json!({
                "mediaType": "application/vnd.oci.image.layer.v1.tar+gzip",
                "digest": digest,
                "size": size,
            }));
        },
    );
    layout.set_entries(vec![entry]);
    let sum = sha256_file(&file);
    fs::remove_dir_all(&work).unwrap();
    (layout, sum)
}

/// The engine of a test that talks to registries: every command gets a `DOCKER_CONFIG` of the
/// test's own, and a `HOME` of its own too, so that even a command that ignored
/// `DOCKER_CONFIG` would not reach the user's `~/.docker`: the user's credentials are never
/// read or written.
#[derive(Debug)]
pub struct Dock {
    pub engine: Engine,
    pub config: PathBuf,
}

impl Dock {
    /// A dock for the gzip fixture image.
    pub fn new() -> Dock {
        Dock::with(Engine::busybox())
    }

    /// A dock for `engine`.
    pub fn with(engine: Engine) -> Dock {
        let config = engine.dir().join("docker-config");
        fs::create_dir(&config).unwrap();
        Dock { engine, config }
    }

    /// The store the fixture is loaded into.
    pub fn root(&self) -> &Root {
        &self.engine
    }

    /// Another, empty, `--root` in the test's directory.
    pub fn empty_root(&self, name: &str) -> Root {
        self.engine.empty_root(name)
    }

    /// `ch04-images --root ROOT ARGS...` with the test's `DOCKER_CONFIG` and a time limit.
    pub fn cmd(&self, root: &Root, args: &[&str]) -> assert_cmd::Command {
        let mut cmd = root.cmd(args);
        for (name, value) in self.env() {
            cmd.env(name, value);
        }
        cmd
    }

    /// The environment every command of the test gets.
    pub fn env(&self) -> [(&'static str, PathBuf); 2] {
        [
            ("DOCKER_CONFIG", self.config.clone()),
            ("HOME", self.engine.dir().join("home")),
        ]
    }

    /// `inspect REF`'s one document.
    pub fn inspect(&self, root: &Root, reference: &str) -> Value {
        let out = self.ok(root, &["inspect", reference]);
        let mut documents: Vec<Value> = serde_json::from_str(&out).expect("inspect prints JSON");
        assert_eq!(documents.len(), 1, "{out}");
        documents.remove(0)
    }

    /// Runs a command whatever its exit status.
    pub fn output(&self, root: &Root, args: &[&str]) -> std::process::Output {
        self.cmd(root, args).output().unwrap()
    }

    /// Runs a command that must succeed and print nothing on stderr; its stdout.
    pub fn ok(&self, root: &Root, args: &[&str]) -> String {
        self.ok_or_explain(root, args, String::new)
    }

    /// [`Dock::ok`], adding `explain()` (what a server saw, its log) to a failure's report.
    pub fn ok_or_explain(
        &self,
        root: &Root,
        args: &[&str],
        explain: impl Fn() -> String,
    ) -> String {
        let output = self.output(root, args);
        let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(
            output.status.success() && stderr.is_empty(),
            "{args:?}: {}\nstderr:\n{stderr}\nstdout:\n{stdout}\n{}",
            output.status,
            explain(),
        );
        stdout
    }

    /// Runs a command that must exit with `code` and print one line on stderr; its stdout and
    /// that line.
    pub fn fails(&self, root: &Root, args: &[&str], code: i32) -> (String, String) {
        let out = self.cmd(root, args).assert().code(code);
        let output = out.get_output();
        let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
        let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
        assert_eq!(
            stderr.lines().count(),
            1,
            "{args:?}: one line on stderr:\n{stderr}"
        );
        (stdout, stderr)
    }
}
