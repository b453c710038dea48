//! The new network namespace starts with one interface, `lo`, and even that one is down.
//!
//! Programs expect `127.0.0.1` to work, so the child brings `lo` up. Two `ioctl`s on any socket
//! do it (netdevice(7)): read the interface's flags, then write them back with `IFF_UP` set.
//! Chapter 06 adds real interfaces with netlink; for one flag on one interface this is enough.

use std::os::fd::AsRawFd;

use dockyard_support::FromIo;
use nix::sys::socket::{AddressFamily, SockFlag, SockType, socket};

use crate::error::{Error, Result};
use crate::explain::{Actor, Narrator};

/// Sets `IFF_UP` on the loopback interface of the calling process's network namespace.
pub fn bring_up_loopback(n: &Narrator) -> Result<()> {
    n.say(Actor::Child, "ioctl SIOCSIFFLAGS lo +IFF_UP");
    let sock = socket(
        AddressFamily::Inet,
        SockType::Datagram,
        SockFlag::SOCK_CLOEXEC,
        None,
    )
    .map_err(Error::sys("open a socket to configure lo"))?;

    // SAFETY: ifreq is plain old data; all-zero is a valid (empty) request.
    let mut req: libc::ifreq = unsafe { std::mem::zeroed() };
    for (dst, src) in req.ifr_name.iter_mut().zip(b"lo\0") {
        *dst = *src as libc::c_char;
    }
    // SAFETY: SIOCGIFFLAGS reads the name from and writes the flags into `req`, which we own.
    if unsafe { libc::ioctl(sock.as_raw_fd(), libc::SIOCGIFFLAGS, &mut req) } < 0 {
        return Err(Error::io_op("read the flags of lo")(
            std::io::Error::last_os_error(),
        ));
    }
    // SAFETY: the union's flags member is the one SIOCGIFFLAGS just filled in.
    unsafe { req.ifr_ifru.ifru_flags |= libc::IFF_UP as libc::c_short };
    // SAFETY: SIOCSIFFLAGS reads the name and flags from `req`.
    if unsafe { libc::ioctl(sock.as_raw_fd(), libc::SIOCSIFFLAGS, &req) } < 0 {
        return Err(Error::io_op("bring lo up")(std::io::Error::last_os_error()));
    }
    Ok(())
}
