//! Doing something inside a container's network namespace from the engine.
//!
//! A socket belongs to the network namespace it was created in, for its whole life, whoever
//! uses it later. So to talk netlink to the container's interfaces, or to listen on the
//! container's `127.0.0.11` for DNS, the engine needs a socket made *inside* that namespace:
//! a short-lived thread enters it with `setns(2)` (which changes the network namespace of the
//! calling thread only), makes the socket and ends. The engine's other threads, and the
//! engine itself, never leave the host's namespace. The thread is joined before this returns,
//! so a monitor that is single-threaded before stays so after (chapter 01's rule for `clone`).

use std::fs::File;

use dockyard_support::FromIo;
use nix::sched::CloneFlags;
use nix::unistd::Pid;

use crate::error::network::Error;

// ANCHOR: within
/// Runs `work` on a thread inside the network namespace of process `pid`, and returns what it
/// made (typically a socket, which stays in that namespace).
pub fn within<T: Send>(
    pid: Pid,
    work: impl FnOnce() -> Result<T, Error> + Send,
) -> Result<T, Error> {
    let path = format!("/proc/{pid}/ns/net");
    let namespace = File::open(&path).map_err(Error::io("open", &path))?;
    std::thread::scope(|scope| {
        scope
            .spawn(|| {
                nix::sched::setns(&namespace, CloneFlags::CLONE_NEWNET).map_err(|e| {
                    Error::io_op("enter the container's network namespace")(e.into())
                })?;
                work()
            })
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
    })
}
// ANCHOR_END: within

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_socket_made_within_our_own_namespace_works() {
        let pid = Pid::this();
        let socket = within(pid, || {
            std::net::UdpSocket::bind("127.0.0.1:0").map_err(Error::io_op("bind"))
        })
        .expect("socket");
        assert!(socket.local_addr().expect("address").port() > 0);
    }
}
