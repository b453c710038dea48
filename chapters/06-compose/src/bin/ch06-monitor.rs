//! `ch06-monitor`: the process that keeps a detached container, and the one that runs a
//! health check in it (see the library's `monitor` module). `start` executes it; it is not a
//! command for people, so it reads its few arguments itself: a monitor lives as long as its
//! container, and every page of code it touches at start stays resident, so it is kept apart
//! from the command line's hundred options.
//!
//! ```text
//! ch06-monitor --root DIR [--storage-opt K=V]... monitor ID
//! ch06-monitor --root DIR [--storage-opt K=V]... health-check TIMEOUT_NS ID -- CMD...
//! ```

use std::os::fd::{FromRawFd, OwnedFd};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use ch03_union_fs::Store;
use ch03_union_fs::cli::StorageArgs;
use ch06_compose::lifecycle::start::READY_FD;
use ch06_compose::monitor::health::{Prober, probe_once};
use ch06_compose::monitor::{self, Mode, close_on_exec, global_args};

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match run(&args) {
        Ok(code) => ExitCode::from(u8::try_from(code).unwrap_or(1)),
        // Nobody reads this process's stderr (it is the container's output pipe, or null):
        // the failure is in the container's state, or its answer to the starter.
        Err(_) => ExitCode::FAILURE,
    }
}

fn run(args: &[String]) -> Result<i32, Box<dyn std::error::Error>> {
    let mut storage = StorageArgs {
        root: PathBuf::from(ch03_union_fs::store::DEFAULT_ROOT),
        storage_driver: None,
        storage_opt: Vec::new(),
    };
    let mut rest = args;
    loop {
        match rest {
            [flag, value, tail @ ..] if flag == "--root" => {
                storage.root = PathBuf::from(value);
                rest = tail;
            }
            [flag, value, tail @ ..] if flag == "--storage-opt" => {
                storage.storage_opt.push(value.clone());
                rest = tail;
            }
            _ => break,
        }
    }
    let store = Store::open(&storage.root)?;
    match rest {
        [command, id] if command == "monitor" => {
            // SAFETY: `start` put the ready pipe on this descriptor before executing this
            // program, and nothing else in this process owns it.
            let ready = unsafe { OwnedFd::from_raw_fd(READY_FD) };
            close_on_exec(&ready)?;
            let prober = Prober {
                program: std::env::current_exe()?,
                args: global_args(&storage.root, &storage.storage_opt, "health-check"),
            };
            let mode = Mode::Detached { ready };
            Ok(monitor::run(
                &store,
                id,
                &storage.options()?,
                mode,
                prober,
                &ch01_namespaces::Narrator::silent(),
            )?)
        }
        [command, timeout_ns, id, dashes, check @ ..]
            if command == "health-check" && dashes == "--" =>
        {
            let timeout = Duration::from_nanos(timeout_ns.parse()?);
            let probe = probe_once(&store, id, check.to_vec(), timeout);
            println!("{}", serde_json::to_string(&probe)?);
            Ok(0)
        }
        _ => Err(format!("usage: ch06-monitor --root DIR monitor ID (given {args:?})").into()),
    }
}
