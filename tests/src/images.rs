//! Container images built at test time, offline, with the tools Debian ships: `umoci` writes an
//! OCI image layout from [`busybox_rootfs`](crate::busybox_rootfs) content, and `skopeo`
//! converts it to the archive formats `docker save` and `docker load` use.
//!
//! They are for the image chapters' tests: pulling from a local layout, loading archives,
//! stacking layers (a whiteout included) and reading the image config, all against files real
//! tools wrote rather than ones this project wrote for itself.
//!
//! The image has [`LAYERS`] layers:
//!
//! 1. the busybox root filesystem (`/bin` with busybox and its applet links, `/etc/passwd`,
//!    `/etc/group`, empty `/proc`, `/sys`, `/dev`, `/tmp`, `/root`) plus `/etc/fixture-deleted`;
//! 2. the probe at `/probe` and `/etc/fixture-layer-2`;
//! 3. a whiteout for `/etc/fixture-deleted` (`etc/.wh.fixture-deleted`) and `/data/hello.txt`.
//!
//! Every timestamp is [`FIXED_TIME`] (file times, the config's `created`, its history), so
//! building the image twice gives the same layer, config and manifest digests as long as the
//! busybox and probe binaries are the same.

use std::fs;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::Duration;

use crate::{TestDir, busybox_rootfs, in_ci};

/// Every timestamp in the image: file times in the layers, the config's `created` and each
/// history entry's.
pub const FIXED_TIME: &str = "2024-01-01T00:00:00Z";

/// [`FIXED_TIME`] in seconds since the epoch.
pub const FIXED_EPOCH: i64 = 1_704_067_200;

/// How many layers the fixture image has.
pub const LAYERS: usize = 3;

/// The image config's `Env`.
pub const ENV: [&str; 2] = [
    "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
    "FIXTURE=1",
];

/// The image config's `WorkingDir`.
pub const WORKING_DIR: &str = "/data";

/// The image config's `Cmd` (it has no `Entrypoint`).
pub const CMD: [&str; 1] = ["/probe"];

/// The image config's `User`.
pub const USER: &str = "0:0";

/// The image config's one label, as key and value.
pub const LABEL: (&str, &str) = ("org.dockyard.fixture", "busybox");

/// The image config's one exposed port.
pub const EXPOSED_PORT: &str = "8080/tcp";

/// The image config's one volume.
pub const VOLUME: &str = "/data/vol";

/// How long one `umoci` or `skopeo` command may run; each takes well under a second.
const COMMAND_TIMEOUT: Duration = Duration::from_secs(60);

/// Whether `umoci` and `skopeo` are installed. Otherwise fails under CI, or prints a visible
/// notice and returns false so the test can return early.
pub fn image_tools_or_skip(test: &str) -> bool {
    let works = |tool: &str| {
        Command::new(tool)
            .arg("--version")
            .stdin(Stdio::null())
            .output()
            .is_ok_and(|out| out.status.success())
    };
    if works("umoci") && works("skopeo") {
        return true;
    }
    let why = "needs umoci and skopeo (apt-get install umoci skopeo)";
    assert!(!in_ci(), "{test}: {why}, and CI=true forbids skipping");
    eprintln!("SKIPPED {test}: {why}");
    false
}

/// Returns early from a test that needs `umoci` and `skopeo` and cannot have them (failing
/// under CI).
#[macro_export]
macro_rules! require_image_tools {
    () => {
        if !$crate::images::image_tools_or_skip(module_path!()) {
            return;
        }
    };
}

/// An OCI image layout holding the fixture image, in a temporary directory removed when this
/// is dropped. Archives made from it ([`busybox_docker_archive`], [`busybox_oci_archive`]) go
/// in the same directory.
#[derive(Debug)]
pub struct ImageFixture {
    /// The OCI image layout directory (`oci-layout`, `index.json`, `blobs/sha256/`).
    pub layout: PathBuf,
    /// The tag the image has in the layout (`org.opencontainers.image.ref.name`).
    pub tag: String,
    /// The temporary directory holding the layout.
    dir: TestDir,
}

impl ImageFixture {
    /// The temporary directory holding the layout and the archives (a place for more files).
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }
}

/// The fixture image (see the module documentation) with gzip layers, tagged `tag`, in an OCI
/// image layout at `DIR/layout`. Takes about a second.
pub fn busybox_oci_layout(tag: &str) -> ImageFixture {
    busybox_oci_layout_with(tag, "gzip")
}

/// The fixture image with its layers compressed by `compression`: `"gzip"` (what umoci
/// writes) or `"zstd"` (umoci 0.4 cannot write zstd, so skopeo recompresses the gzip image;
/// the layer digests change, the diff ids and the config do not).
pub fn busybox_oci_layout_with(tag: &str, compression: &str) -> ImageFixture {
    let dir = busybox_rootfs();
    let layout = dir.path().join("layout");
    match compression {
        "gzip" => build_layout(&dir, &layout, tag),
        "zstd" => {
            let gzip = dir.path().join("layout-gzip");
            build_layout(&dir, &gzip, tag);
            skopeo(
                dir.path(),
                &[
                    "copy",
                    "--dest-compress-format",
                    "zstd",
                    &oci_reference("oci", &gzip, tag),
                    &oci_reference("oci", &layout, tag),
                ],
            );
            fs::remove_dir_all(&gzip).expect("remove the gzip layout");
        }
        other => panic!("unknown layer compression {other:?}: use \"gzip\" or \"zstd\""),
    }
    ImageFixture {
        layout,
        tag: tag.to_string(),
        dir,
    }
}

/// The fixture image as `docker save` writes it (a `docker-archive`, by `skopeo copy`) under
/// the name `reference` (e.g. `busybox:latest`): `manifest.json`, `repositories`, the config
/// as `<digest>.json`, and each layer *uncompressed* as `<diff id>.tar`. Returns the path of
/// the archive, in the fixture's directory.
///
/// skopeo writes the name fully qualified: `busybox:latest` becomes
/// `docker.io/library/busybox:latest` in `RepoTags` (Docker itself writes `busybox:latest`).
pub fn busybox_docker_archive(fixture: &ImageFixture, reference: &str) -> PathBuf {
    let safe: String = reference
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect();
    let archive = fixture.dir().join(format!("docker-archive-{safe}.tar"));
    remove_if_present(&archive);
    skopeo(
        fixture.dir(),
        &[
            "copy",
            &oci_reference("oci", &fixture.layout, &fixture.tag),
            &format!("docker-archive:{}:{reference}", archive.display()),
        ],
    );
    archive
}

/// The fixture's OCI layout packed in a tar (an `oci-archive`, by `skopeo copy`), the image
/// still tagged with the fixture's tag. Returns the path of the archive, in the fixture's
/// directory. Its blobs are the layout's; the tar's own entries carry the time of the copy.
pub fn busybox_oci_archive(fixture: &ImageFixture) -> PathBuf {
    let archive = fixture.dir().join("oci-archive.tar");
    remove_if_present(&archive);
    skopeo(
        fixture.dir(),
        &[
            "copy",
            &oci_reference("oci", &fixture.layout, &fixture.tag),
            &oci_reference("oci-archive", &archive, &fixture.tag),
        ],
    );
    archive
}

/// Writes the fixture image to `layout`, moving the content of `dir`'s rootfs into umoci's
/// bundle (so the rootfs is used up).
fn build_layout(dir: &TestDir, layout: &Path, tag: &str) {
    let image = format!("{}:{tag}", layout.display());
    let bundle = dir.path().join("bundle");
    let target = bundle.join("rootfs");
    let source = dir.rootfs();

    umoci(&["init", "--layout", &layout.to_string_lossy()]);
    umoci(&["new", "--image", &image]);
    umoci(&[
        "config",
        "--image",
        &image,
        "--created",
        FIXED_TIME,
        "--no-history",
    ]);
    // Without root, umoci unpacks and repacks as if the caller's ids were 0 (the layers still
    // say root owns everything); the bundle remembers the choice for `repack`.
    // SAFETY: geteuid has no preconditions and cannot fail.
    let rootless = unsafe { libc::geteuid() } != 0;
    let mut unpack = vec!["unpack"];
    if rootless {
        unpack.push("--rootless");
    }
    let bundle_arg = bundle.to_string_lossy();
    unpack.extend(["--image", &image, &bundle_arg]);
    umoci(&unpack);

    // Layer 1: the busybox root filesystem, without the probe.
    for entry in fs::read_dir(&source).expect("list the busybox rootfs") {
        let name = entry.expect("read a rootfs entry").file_name();
        if name != "probe" {
            rename(&source.join(&name), &target.join(&name));
        }
    }
    write(&target.join("etc/fixture-deleted"), "deleted by layer 3\n");
    repack(&image, &bundle, "layer 1: busybox root filesystem");

    // Layer 2: the probe and a marker file.
    rename(&source.join("probe"), &target.join("probe"));
    write(&target.join("etc/fixture-layer-2"), "added by layer 2\n");
    repack(&image, &bundle, "layer 2: /probe and /etc/fixture-layer-2");

    // Layer 3: a deletion (umoci writes a whiteout) and a new directory.
    fs::remove_file(target.join("etc/fixture-deleted")).expect("delete /etc/fixture-deleted");
    fs::create_dir(target.join("data")).expect("create /data");
    write(&target.join("data/hello.txt"), "hello from layer 3\n");
    repack(
        &image,
        &bundle,
        "layer 3: rm /etc/fixture-deleted, add /data/hello.txt",
    );

    let mut config = vec!["config", "--image", &image, "--created", FIXED_TIME];
    config.extend(["--history.created", FIXED_TIME]);
    config.extend(["--history.created_by", "umoci config (dockyard-tests)"]);
    for env in ENV {
        config.extend(["--config.env", env]);
    }
    for arg in CMD {
        config.extend(["--config.cmd", arg]);
    }
    let label = format!("{}={}", LABEL.0, LABEL.1);
    config.extend(["--config.workingdir", WORKING_DIR, "--config.user", USER]);
    config.extend([
        "--config.label",
        &label,
        "--config.exposedports",
        EXPOSED_PORT,
    ]);
    config.extend([
        "--config.volume",
        VOLUME,
        "--architecture",
        "amd64",
        "--os",
        "linux",
    ]);
    umoci(&config);
    // Drop the blobs of the intermediate manifests and configs.
    umoci(&["gc", "--layout", &layout.to_string_lossy()]);

    fs::remove_dir_all(&bundle).expect("remove umoci's bundle");
    fs::remove_dir(&source).expect("remove the emptied busybox rootfs");
}

/// Adds a layer with what changed in the bundle's rootfs, every file time set to
/// [`FIXED_TIME`] first (umoci compares and records them to the second).
fn repack(image: &str, bundle: &Path, created_by: &str) {
    set_times(&bundle.join("rootfs"), FIXED_EPOCH);
    umoci(&[
        "repack",
        "--refresh-bundle",
        "--history.created",
        FIXED_TIME,
        "--history.created_by",
        created_by,
        "--image",
        image,
        &bundle.to_string_lossy(),
    ]);
}

/// Sets the access and modification times of `path` and everything under it, not following
/// symbolic links.
fn set_times(path: &Path, seconds: i64) {
    let name = std::ffi::CString::new(path.as_os_str().as_bytes()).expect("a path without NUL");
    let time = libc::timespec {
        tv_sec: seconds,
        tv_nsec: 0,
    };
    let times = [time, time];
    // SAFETY: `name` is a NUL-terminated string and `times` two timespecs, both outliving the
    // call; AT_FDCWD makes a relative path relative to the working directory.
    let result = unsafe {
        libc::utimensat(
            libc::AT_FDCWD,
            name.as_ptr(),
            times.as_ptr(),
            libc::AT_SYMLINK_NOFOLLOW,
        )
    };
    assert_eq!(
        result,
        0,
        "set the times of {}: {}",
        path.display(),
        std::io::Error::last_os_error()
    );
    let meta = fs::symlink_metadata(path).expect("stat");
    if meta.is_dir() {
        for entry in fs::read_dir(path).expect("list a directory") {
            set_times(&entry.expect("read a directory entry").path(), seconds);
        }
    }
}

/// `TRANSPORT:PATH:TAG`, as skopeo names an image in a layout or archive.
fn oci_reference(transport: &str, path: &Path, tag: &str) -> String {
    format!("{transport}:{}:{tag}", path.display())
}

/// Runs umoci with `args`, panicking if it fails or takes too long.
fn umoci(args: &[&str]) {
    let mut command = Command::new("umoci");
    command.args(args);
    run(command);
}

/// Runs `skopeo copy`-style `args` for local transports only: no signature policy (there is
/// nothing to verify offline), temporary files under `tmp`, a time limit of its own.
fn skopeo(tmp: &Path, args: &[&str]) {
    let mut command = Command::new("skopeo");
    command
        .arg("--insecure-policy")
        .arg("--command-timeout")
        .arg(format!("{}s", COMMAND_TIMEOUT.as_secs()))
        .arg("--tmpdir")
        .arg(tmp)
        .args(args)
        .arg("--quiet");
    run(command);
}

/// Runs `command` with no input, panicking with its stderr if it fails, or killing it and
/// panicking if it runs longer than [`COMMAND_TIMEOUT`].
fn run(mut command: Command) -> Output {
    let shown = format!("{command:?}");
    command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let child = command
        .spawn()
        .unwrap_or_else(|e| panic!("start {shown}: {e} (apt-get install umoci skopeo)"));
    let pid = child.id() as i32;
    let (done, result) = std::sync::mpsc::channel();
    std::thread::spawn(move || done.send(child.wait_with_output()));
    let output = match result.recv_timeout(COMMAND_TIMEOUT) {
        Ok(output) => output.unwrap_or_else(|e| panic!("wait for {shown}: {e}")),
        Err(_) => {
            // SAFETY: kill has no memory-safety preconditions; the panic is the report.
            unsafe { libc::kill(pid, libc::SIGKILL) };
            panic!("{shown} did not finish within {COMMAND_TIMEOUT:?}");
        }
    };
    assert!(
        output.status.success(),
        "{shown} failed ({}):\n{}{}",
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    output
}

fn rename(from: &Path, to: &Path) {
    fs::rename(from, to)
        .unwrap_or_else(|e| panic!("move {} to {}: {e}", from.display(), to.display()));
}

fn write(path: &Path, text: &str) {
    fs::write(path, text).unwrap_or_else(|e| panic!("write {}: {e}", path.display()));
}

fn remove_if_present(path: &Path) {
    match fs::remove_file(path) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
            panic!("remove {}: {e}", path.display())
        }
        _ => {}
    }
}
