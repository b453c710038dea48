//! Writes the busybox fixture image (see `dockyard_tests::images`) as a docker-save archive,
//! for scripts that hand the very image the tests use to a real Docker:
//!   cargo run -p dockyard-tests --example base-image -- OUT.tar [NAME:TAG]
//! NAME:TAG defaults to `dockyard-base:latest`, the base of the build cases in
//! chapters/05-dockerfile/tests/docker-build/.

use std::path::PathBuf;
use std::process::ExitCode;

use dockyard_tests::images::{busybox_docker_archive, busybox_oci_layout};

fn main() -> ExitCode {
    let mut args = std::env::args_os().skip(1);
    let Some(out) = args.next().map(PathBuf::from) else {
        eprintln!("usage: base-image OUT.tar [NAME:TAG]");
        return ExitCode::from(2);
    };
    let name = args
        .next()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "dockyard-base:latest".into());
    let fixture = busybox_oci_layout("latest");
    let archive = busybox_docker_archive(&fixture, &name);
    if let Err(e) = std::fs::copy(&archive, &out) {
        eprintln!("base-image: write {}: {e}", out.display());
        return ExitCode::FAILURE;
    }
    ExitCode::SUCCESS
}
