//! # Networks: bridges, addresses, published ports, names
//!
//! Until now a container's network namespace held only `lo`. This module gives it a way out,
//! as docker's bridge driver does:
//!
//! ```text
//!    host                                              container (its own netns)
//!  ┌───────────────────────────────────────────┐      ┌──────────────────────────┐
//!  │ eth0 ◀─ NAT (nftables) ─▶ dy-0123456789ab │      │ eth0 172.18.0.2/16       │
//!  │                           (bridge,        │ veth │ default via 172.18.0.1   │
//!  │                           172.18.0.1/16)──┼──────┼─                         │
//!  │                            vethab12cd3    │ pair │ 127.0.0.11:53 (DNS, held │
//!  └───────────────────────────────────────────┘      │ by the monitor)          │
//!                                                     └──────────────────────────┘
//! ```
//!
//! - [`record`]: a network as the store keeps it, with its endpoints (the address ledger);
//! - [`store`]: the networks of a `--root`, under a lock: create, find, list, remove, and the
//!   address manager's allocate and release;
//! - [`netns`]: doing something inside a container's network namespace (a socket made there);
//! - [`netlink`]: the kernel's routing messages: bridges, veth pairs, addresses, routes;
//! - [`firewall`]: the engine's nftables rules: NAT out, published ports in, isolation;
//! - [`ports`]: published ports: `-p` and `-P` read, host ports reserved, shown as docker;
//! - [`files`]: the container's `/etc/hosts`, `/etc/hostname` and `/etc/resolv.conf`, as docker
//!   writes them;
//! - [`dns`]: the embedded DNS server at `127.0.0.11`, answering for the network's members;
//! - [`attach`]: chapter 01's setup step that plugs a container into its networks;
//! - [`build`]: the same step for `build`'s `RUN` containers, on the default bridge;
//! - [`config`]: a container's network settings (`--network`, `-p`, `--dns`…);
//! - [`view`]: networks as `network inspect` and `network ls` show them.

pub mod attach;
pub mod build;
pub mod config;
pub mod dns;
pub mod files;
pub mod firewall;
pub mod netlink;
pub mod netns;
pub mod ports;
pub mod record;
pub mod store;
pub mod view;

pub use crate::error::network::{Error, Result};
pub use record::{DEFAULT_NETWORK, Endpoint, Network};
