//! Many containers through their whole life: 200 `run -d` and `rm -f` leave no process,
//! mount, cgroup or state behind.

mod common;

use common::{Bench, cgroups_of};
use dockyard_tests::{assert_no_mounts_under, require_root};

/// How many containers go through.
const CONTAINERS: usize = 200;

#[test]
fn two_hundred_detached_containers_leave_nothing_behind() {
    require_root!();
    let bench = Bench::new();
    let mut ids = Vec::with_capacity(CONTAINERS);
    let mut processes = Vec::new();
    for _ in 0..CONTAINERS {
        let id = bench.detach(&["busybox", "/probe", "sleep", "600"]);
        let state = bench.state(&id);
        for field in ["monitor_pid", "pid"] {
            processes.push(state[field].as_u64().expect("a pid") as u32);
        }
        bench.ok(&["rm", "-f", &id]);
        ids.push(id);
    }
    assert!(bench.containers().is_empty(), "{:?}", bench.containers());
    let leftover_groups: Vec<_> = ids.iter().flat_map(|id| cgroups_of(id)).collect();
    assert!(leftover_groups.is_empty(), "{leftover_groups:?}");
    // A monitor names the store on its command line; a container's process is in a cgroup named
    // after its id. (A pid alone may have been reused by then by a process of someone else's.)
    let root = bench.root().to_string_lossy().into_owned();
    let ours = |pid: &u32| {
        let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
        let groups = std::fs::read_to_string(format!("/proc/{pid}/cgroup")).unwrap_or_default();
        String::from_utf8_lossy(&cmdline).contains(&root)
            || ids.iter().any(|id| groups.contains(id.as_str()))
    };
    // The monitors' parent (init) reaps them a moment after they exit.
    let gone = dockyard_tests::wait_until(std::time::Duration::from_secs(10), || {
        !processes.iter().any(ours)
    });
    assert!(gone, "processes of the containers are left");
    assert_no_mounts_under(bench.dir.path());
    let state = std::fs::read_dir(bench.root().join("containers"))
        .unwrap()
        .count();
    assert_eq!(state, 0, "no container directory is left");
}
