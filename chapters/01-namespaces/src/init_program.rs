//! The program PID 1 executes under `--init`, embedded in the engine and sealed in memory.
//!
//! `dockyard-init` (the `init/` crate, built static by `build.rs`) travels inside the engine's
//! binary. Before each container with `--init`, the engine copies it into a *memfd*, an anonymous
//! file that lives in memory and has no name in any directory (memfd_create(2)), and then
//! *seals* it: `F_SEAL_WRITE`, `F_SEAL_GROW` and `F_SEAL_SHRINK` forbid any change to its
//! contents, `F_SEAL_SEAL` forbids removing or adding seals, and no one, root included, can undo
//! them. The file's *immutable* attribute (chattr(1) `+i`) adds that the kernel refuses even to
//! open it for writing. The container's PID 1 executes it from the descriptor, with
//! `execveat(fd, "", AT_EMPTY_PATH)`, so it needs no path inside the root filesystem.
//!
//! After that, `/proc/1/exe` in the container is this private copy: a descriptor to it taken from
//! inside can never be turned into a way to write the engine's binary, or anything else.

use std::io::Write;
use std::os::fd::{AsFd, AsRawFd, OwnedFd};

use dockyard_support::FromIo;
use nix::errno::Errno;
use nix::fcntl::{FcntlArg, SealFlag, fcntl};
use nix::sys::memfd::{MFdFlags, memfd_create};

use crate::error::{Error, Result};
use crate::explain::{Actor, Narrator};

/// The static `dockyard-init` executable, built by `build.rs`.
const INIT_PROGRAM: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/dockyard-init"));

/// The memfd's name: what `/proc/1/exe` shows to a process allowed to look
/// (`/memfd:dockyard-init (deleted)`).
const MEMFD_NAME: &str = "dockyard-init";

// ANCHOR: seal
/// Copies the init program into a new memfd and seals it; returns the close-on-exec descriptor
/// that PID 1 will execute.
pub(crate) fn seal_init_program(n: &Narrator) -> Result<OwnedFd> {
    let memfd = create_executable_memfd(n)?;
    let mut file = std::fs::File::from(memfd);
    file.write_all(INIT_PROGRAM)
        .map_err(Error::io_op("copy the init program into its memfd"))?;
    let memfd = OwnedFd::from(file);
    n.say(
        Actor::Engine,
        "fcntl F_ADD_SEALS seal|shrink|grow|write (its contents can never change)",
    );
    let seals = SealFlag::F_SEAL_SEAL
        | SealFlag::F_SEAL_SHRINK
        | SealFlag::F_SEAL_GROW
        | SealFlag::F_SEAL_WRITE;
    fcntl(&memfd, FcntlArg::F_ADD_SEALS(seals)).map_err(Error::sys("seal the init's memfd"))?;
    make_immutable(&memfd, n)?;
    Ok(memfd)
}
// ANCHOR_END: seal

/// MFD_EXEC (linux/memfd.h, Linux 6.3): ask for an executable memfd explicitly, as a kernel
/// whose `vm.memfd_noexec` sysctl is 1 would otherwise create it non-executable.
const MFD_EXEC: libc::c_uint = 0x10;

fn create_executable_memfd(n: &Narrator) -> Result<OwnedFd> {
    let flags = MFdFlags::MFD_CLOEXEC | MFdFlags::MFD_ALLOW_SEALING;
    n.say(
        Actor::Engine,
        format!(
            "memfd_create {MEMFD_NAME:?} (MFD_CLOEXEC|MFD_ALLOW_SEALING|MFD_EXEC), write {} bytes",
            INIT_PROGRAM.len()
        ),
    );
    match memfd_create(MEMFD_NAME, flags | MFdFlags::from_bits_retain(MFD_EXEC)) {
        // Kernels before 6.3 do not know the flag; their memfds are all executable.
        Err(Errno::EINVAL) => memfd_create(MEMFD_NAME, flags),
        other => other,
    }
    .map_err(Error::sys(
        "create an in-memory file for the init program (memfd_create)",
    ))
}

/// FS_IMMUTABLE_FL (linux/fs.h): no open for writing, no rename, no link, even for root.
const FS_IMMUTABLE_FL: libc::c_long = 0x10;

/// Sets the immutable attribute. The seals already make every write fail; this makes opening
/// for writing fail too. Kernels before 6.0 have no attributes on memory files (ENOTTY), and an
/// engine without CAP_LINUX_IMMUTABLE may not set it (EPERM): then the seals stand alone.
fn make_immutable(memfd: &OwnedFd, n: &Narrator) -> Result<()> {
    let flags: libc::c_long = FS_IMMUTABLE_FL;
    // SAFETY: FS_IOC_SETFLAGS reads one long from the pointer, which points to `flags`.
    let rc = unsafe {
        libc::ioctl(
            memfd.as_fd().as_raw_fd(),
            libc::FS_IOC_SETFLAGS,
            &flags as *const libc::c_long,
        )
    };
    match Errno::result(rc) {
        Ok(_) => {
            n.say(
                Actor::Engine,
                "ioctl FS_IOC_SETFLAGS immutable (no open for writing)",
            );
            Ok(())
        }
        Err(errno @ (Errno::ENOTTY | Errno::EOPNOTSUPP | Errno::EPERM)) => {
            n.say(
                Actor::Engine,
                format!("immutable attribute refused ({errno}); seals only"),
            );
            Ok(())
        }
        Err(errno) => Err(Error::sys("make the init's memfd immutable")(errno)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The `p_type` of each ELF64 program header (elf(5)): the table's offset, entry size and
    /// count are at bytes 0x20, 0x36 and 0x38 of the file header.
    fn program_header_types(elf: &[u8]) -> Vec<u32> {
        let number = |at: usize, len: usize| {
            let mut bytes = [0u8; 8];
            bytes[..len].copy_from_slice(&elf[at..at + len]);
            u64::from_le_bytes(bytes) as usize
        };
        let (offset, size, count) = (number(0x20, 8), number(0x36, 2), number(0x38, 2));
        (0..count)
            .map(|i| number(offset + i * size, 4) as u32)
            .collect()
    }

    #[test]
    fn the_embedded_program_is_a_static_executable() {
        /// PT_INTERP: the program names a dynamic loader (elf.h).
        const PT_INTERP: u32 = 3;
        assert_eq!(&INIT_PROGRAM[..4], b"\x7fELF");
        let types = program_header_types(INIT_PROGRAM);
        assert!(!types.is_empty());
        assert!(
            !types.contains(&PT_INTERP),
            "dockyard-init must not need a dynamic loader"
        );
    }

    #[test]
    fn the_sealed_copy_is_complete_and_cannot_change() {
        let memfd = seal_init_program(&Narrator::silent()).unwrap();
        let copy = std::fs::read(format!("/proc/self/fd/{}", memfd.as_raw_fd())).unwrap();
        assert!(copy == INIT_PROGRAM, "the memfd holds a different program");
        let seals = fcntl(&memfd, FcntlArg::F_GET_SEALS).unwrap();
        let all = SealFlag::F_SEAL_SEAL
            | SealFlag::F_SEAL_SHRINK
            | SealFlag::F_SEAL_GROW
            | SealFlag::F_SEAL_WRITE;
        assert_eq!(SealFlag::from_bits_truncate(seals) & all, all);
        let write = nix::unistd::write(&memfd, b"x");
        assert!(write.is_err(), "a sealed memfd accepted a write");
    }
}
