//! TEMPORARY (local only, replaced by the net-fw branch).
use super::{Network, Result, ports::PortBinding};
use ch01_namespaces::Narrator;
use std::net::Ipv4Addr;
pub fn install(_: &Network, _: &Narrator) -> Result<()> {
    Ok(())
}
pub fn remove(_: &Network, _: &Narrator) -> Result<()> {
    Ok(())
}
pub fn publish(_: &Network, _: Ipv4Addr, _: &[PortBinding], _: &Narrator) -> Result<()> {
    Ok(())
}
pub fn unpublish(_: &Network, _: Ipv4Addr, _: &[PortBinding], _: &Narrator) -> Result<()> {
    Ok(())
}
