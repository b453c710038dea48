//! The cgroup library without a container: put a process into a new group, freeze it, thaw it,
//! list the group, kill everything in it, remove it.
//!
//! ```text
//! sudo cargo run -p ch02-cgroups --example freeze -- /bin/sleep 30
//! ```

use std::path::Path;
use std::process::Command;

use ch01_namespaces::Narrator;
use ch02_cgroups::{CGROUP_ROOT, Cgroup, Features, Limits};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let command: Vec<String> = std::env::args().skip(1).collect();
    let (program, args) = command
        .split_first()
        .ok_or("usage: freeze PROGRAM [ARG...]")?;
    let n = Narrator::to_stderr()?;
    let limits = Limits {
        pids: Some(10),
        ..Limits::default()
    };
    let cgroup = Cgroup::create(
        Path::new(CGROUP_ROOT),
        "dockyard-example",
        "freeze",
        &limits,
        Features {
            freezer: true,
            ..Features::default()
        },
        &n,
    )?;
    let mut child = Command::new(program).args(args).spawn()?;
    cgroup.attach(child.id() as i32, &n)?;
    println!("version: {:?}", cgroup.version());
    println!("pids: {}", cgroup.pids()?.len());
    cgroup.freeze(&n)?;
    println!("frozen");
    cgroup.thaw(&n)?;
    println!("thawed");
    cgroup.kill_all()?;
    let status = child.wait()?;
    println!("killed: {status}");
    cgroup.remove(&n)?;
    println!("removed");
    Ok(())
}
