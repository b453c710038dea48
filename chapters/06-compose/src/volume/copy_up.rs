//! Docker's copy-up: a volume that is empty when a container mounts it on a path where the
//! image has files is first filled with those files (content, modes, owners, times, links,
//! extended attributes), so that `VOLUME /var/lib/db` after a `RUN` that initialized a
//! database gives each container a volume that starts with it. A volume that already holds
//! something is left as it is, and `nocopy` turns the copy off.
//!
//! **Where the image's files come from.** The image is a stack of layers in which a later
//! layer may delete (whiteout) or hide (opaque directory) what an earlier one had; what the
//! container would see at the target is the *merged* view. Rather than work out that view
//! again, the layers are stacked by the kernel itself: a read-only overlay of the layer
//! directories, made with the new mount API (`fsopen`, `fsconfig("lowerdir+")`, `fsmount`)
//! and never attached anywhere. It exists only as a file descriptor of this process, invisible
//! in every mount table, and disappears when the descriptor is closed, whatever happens in
//! between. The target is looked up inside it with `openat2(RESOLVE_IN_ROOT)`, so the image's
//! symbolic links (`/var/run -> /run`) mean what they mean in the container and cannot lead
//! out of it. Kernels without `lowerdir+` (before 6.8) get a flattened copy of the layers
//! instead (chapter 03's vfs copy), which is slower and gives the same files.
//!
//! **How they are copied.** Chapter 03's [`flatten`] copies a tree with everything that makes a
//! file the same file. It writes into a staging directory beside the volumes, which no
//! container can reach, and each top-level entry is then renamed into `_data`: a container
//! already running on the volume sees the files appear, and cannot have planted a symbolic
//! link on the way of the copy. The volume's directory itself takes the owner and mode of the
//! image's, as docker's does. All of it happens under the volume's lock, so two containers
//! starting at once on a new volume copy once.

use std::os::fd::{AsFd, AsRawFd, OwnedFd};
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::path::{Path, PathBuf};

use ch01_namespaces::{Actor, Narrator};
use ch03_union_fs::copy::flatten;
use dockyard_support::FromIo;
use rustix::fs::{Mode, OFlags, RenameFlags, ResolveFlags};
use rustix::io::Errno;
use rustix::mount::{FsMountFlags, FsOpenFlags, MountAttrFlags};

use super::error::{Error, Result};
use super::record::Volume;
use super::store::{Volumes, remove_tree};

/// How the target is looked up in the image: inside it, and never through `/proc`'s links.
const IN_ROOT: ResolveFlags = ResolveFlags::IN_ROOT.union(ResolveFlags::NO_MAGICLINKS);

/// The image's files as the container would see them, opened when a volume first needs them.
#[derive(Debug)]
pub struct ImageFiles<'a> {
    layers: &'a [PathBuf],
    root: Option<ImageRoot>,
}

/// The merged view's root directory: a descriptor of a detached overlay mount (or of a layer,
/// or of a flattened copy, which is deleted when dropped).
#[derive(Debug)]
struct ImageRoot {
    fd: OwnedFd,
    flattened: Option<PathBuf>,
}

impl Drop for ImageRoot {
    fn drop(&mut self) {
        if let Some(copy) = &self.flattened {
            // Best effort: a leftover is swept by the next command (its name carries our pid).
            let _swept_later = remove_tree(copy);
        }
    }
}

impl<'a> ImageFiles<'a> {
    /// The files of the image whose layers are `layers` (bottom first), opened lazily.
    pub fn new(layers: &'a [PathBuf]) -> Self {
        ImageFiles { layers, root: None }
    }

    /// The directory at `target` in the image, if it has one.
    fn directory(
        &mut self,
        volumes: &Volumes,
        target: &Path,
        n: &Narrator,
    ) -> Result<Option<OwnedFd>> {
        if self.layers.is_empty() {
            return Ok(None);
        }
        if self.root.is_none() {
            self.root = Some(open_root(volumes, self.layers, n)?);
        }
        let root = self.root.as_ref().expect("opened above");
        let flags = OFlags::PATH | OFlags::DIRECTORY | OFlags::CLOEXEC;
        match rustix::fs::openat2(&root.fd, target, flags, Mode::empty(), IN_ROOT) {
            Ok(fd) => Ok(Some(fd)),
            // Not in the image, or not a directory there: nothing to copy, as docker.
            Err(Errno::NOENT | Errno::NOTDIR) => Ok(None),
            Err(e) => Err(Error::errno("look up in the image", target)(e)),
        }
    }
}

/// Stacks `layers` (bottom first) in a read-only overlay mounted nowhere, and returns its root.
fn open_root(volumes: &Volumes, layers: &[PathBuf], n: &Narrator) -> Result<ImageRoot> {
    let open_dir = |path: &Path| {
        rustix::fs::open(
            path,
            OFlags::PATH | OFlags::DIRECTORY | OFlags::CLOEXEC,
            Mode::empty(),
        )
        .map_err(Error::errno("open", path))
    };
    if let [only] = layers {
        // One layer is its own merged view (a whiteout in it hides nothing).
        return Ok(ImageRoot {
            fd: open_dir(only)?,
            flattened: None,
        });
    }
    n.say(Actor::Engine, "fsopen(\"overlay\") for the image's files");
    let context = match rustix::mount::fsopen("overlay", FsOpenFlags::FSOPEN_CLOEXEC) {
        Ok(context) => context,
        Err(Errno::NODEV) => return flattened(volumes, layers, n),
        Err(e) => return Err(Error::errno("open an overlay of", &layers[0])(e)),
    };
    // overlayfs lists lower layers topmost first.
    for (i, layer) in layers.iter().rev().enumerate() {
        match rustix::mount::fsconfig_set_string(
            context.as_fd(),
            "lowerdir+",
            layer.as_os_str().as_bytes(),
        ) {
            Ok(()) => {}
            // Before Linux 6.8 there is no `lowerdir+`.
            Err(Errno::INVAL) if i == 0 => return flattened(volumes, layers, n),
            Err(e) => return Err(Error::errno("add the lower layer", layer)(e)),
        }
    }
    n.say(
        Actor::Engine,
        format!(
            "fsconfig lowerdir+ x{} (no upper: read-only); fsmount, attached nowhere",
            layers.len()
        ),
    );
    rustix::mount::fsconfig_create(context.as_fd())
        .map_err(Error::errno("create an overlay of", &layers[0]))?;
    let attributes = MountAttrFlags::MOUNT_ATTR_RDONLY
        | MountAttrFlags::MOUNT_ATTR_NOSUID
        | MountAttrFlags::MOUNT_ATTR_NODEV
        | MountAttrFlags::MOUNT_ATTR_NOEXEC;
    let mount = rustix::mount::fsmount(context.as_fd(), FsMountFlags::FSMOUNT_CLOEXEC, attributes)
        .map_err(Error::errno("mount an overlay of", &layers[0]))?;
    Ok(ImageRoot {
        fd: mount,
        flattened: None,
    })
}

/// The layers copied one over the other into a temporary directory: what a kernel without
/// `lowerdir+` gets instead of the overlay.
fn flattened(volumes: &Volumes, layers: &[PathBuf], n: &Narrator) -> Result<ImageRoot> {
    let copy = volumes.temp_path("flattening");
    std::fs::create_dir(&copy).map_err(Error::io("create", &copy))?;
    let root = ImageRoot {
        fd: rustix::fs::open(
            &copy,
            OFlags::PATH | OFlags::DIRECTORY | OFlags::CLOEXEC,
            Mode::empty(),
        )
        .map_err(Error::errno("open", &copy))?,
        flattened: Some(copy.clone()),
    };
    flatten(layers, &copy, n)?;
    Ok(root)
}

// ANCHOR: fill
/// Fills `volume` with the image's files at `target` if the volume is empty; `true` if it
/// copied something.
pub fn fill(
    volumes: &Volumes,
    volume: &Volume,
    target: &Path,
    image: &mut ImageFiles<'_>,
    n: &Narrator,
) -> Result<bool> {
    let Some(_lock) = volumes.lock(&volume.name)? else {
        return Ok(false); // removed meanwhile: no container will see it
    };
    let data = &volume.mountpoint;
    let flags = OFlags::RDONLY | OFlags::DIRECTORY | OFlags::NOFOLLOW | OFlags::CLOEXEC;
    let data_fd =
        rustix::fs::open(data, flags, Mode::empty()).map_err(Error::errno("open", data))?;
    if !is_empty(&data_fd).map_err(Error::errno("list", data))? {
        return Ok(false);
    }
    let Some(source) = image.directory(volumes, target, n)? else {
        return Ok(false);
    };
    n.say(
        Actor::Engine,
        format!(
            "copy {} of the image into the empty volume {}",
            target.display(),
            volume.name
        ),
    );
    let staging = volumes.temp_path("filling");
    std::fs::create_dir(&staging).map_err(Error::io("create", &staging))?;
    let copied = copy_into(&source, &staging, &data_fd, data, n);
    let removed = remove_tree(&staging);
    copied.and(removed).map(|()| true)
}
// ANCHOR_END: fill

/// Copies the tree at `source` into `staging`, moves it into `data`, and gives `data` the
/// owner and mode of `source`.
fn copy_into(
    source: &OwnedFd,
    staging: &Path,
    data_fd: &OwnedFd,
    data: &Path,
    n: &Narrator,
) -> Result<()> {
    // The descriptor's path in /proc leads into the overlay mounted nowhere.
    let through = PathBuf::from(format!("/proc/self/fd/{}", source.as_raw_fd()));
    flatten(&[through], staging, n)?;
    let staged = rustix::fs::open(
        staging,
        OFlags::RDONLY | OFlags::DIRECTORY | OFlags::NOFOLLOW | OFlags::CLOEXEC,
        Mode::empty(),
    )
    .map_err(Error::errno("open", staging))?;
    for name in entries(&staged).map_err(Error::errno("list", staging))? {
        match rustix::fs::renameat_with(&staged, &name, data_fd, &name, RenameFlags::NOREPLACE) {
            // What a running container wrote meanwhile stays; the copy of it is dropped.
            Ok(()) | Err(Errno::EXIST) => {}
            Err(e) => return Err(Error::errno("move the copy into", data.join(&name))(e)),
        }
    }
    let stat = rustix::fs::fstat(source).map_err(Error::errno("inspect the image's", data))?;
    rustix::fs::fchown(
        data_fd,
        Some(rustix::fs::Uid::from_raw(stat.st_uid)),
        Some(rustix::fs::Gid::from_raw(stat.st_gid)),
    )
    .map_err(Error::errno("set the owner of", data))?;
    rustix::fs::fchmod(data_fd, Mode::from_raw_mode(stat.st_mode & 0o7777))
        .map_err(Error::errno("set the mode of", data))
}

/// Whether the directory holds nothing.
fn is_empty(dir: &OwnedFd) -> rustix::io::Result<bool> {
    Ok(entries(dir)?.is_empty())
}

/// The names in a directory, `.` and `..` left out.
fn entries(dir: &OwnedFd) -> rustix::io::Result<Vec<std::ffi::OsString>> {
    let mut names = Vec::new();
    for entry in rustix::fs::Dir::read_from(dir)? {
        let name = entry?.file_name().to_bytes().to_vec();
        if name != b"." && name != b".." {
            names.push(std::ffi::OsString::from_vec(name));
        }
    }
    Ok(names)
}
