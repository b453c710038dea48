//! Builds the probe as a static executable for the test root filesystems.
//!
//! The probe has no dependencies, so one `rustc` call builds it; going through `rustc` rather
//! than a nested `cargo build` avoids waiting on the build lock the outer cargo holds, and lets
//! `-C target-feature=+crt-static` apply to this one program instead of to every crate (a
//! global static flag breaks build scripts and proc-macros).

use std::env;
use std::path::PathBuf;
use std::process::Command;

fn main() {
    let source =
        PathBuf::from(env::var("CARGO_MANIFEST_DIR").unwrap()).join("../probe/src/main.rs");
    let out = PathBuf::from(env::var("OUT_DIR").unwrap()).join("probe");
    let rustc = env::var("RUSTC").unwrap_or_else(|_| "rustc".into());
    let target = env::var("TARGET").unwrap();
    println!("cargo:rerun-if-changed={}", source.display());

    let status = Command::new(rustc)
        .args([
            "--edition",
            "2024",
            "--crate-name",
            "probe",
            "-C",
            "opt-level=2",
        ])
        .args([
            "-C",
            "target-feature=+crt-static",
            "-C",
            "panic=abort",
            "-C",
            "strip=symbols",
        ])
        .args(["--target", &target, "-o"])
        .arg(&out)
        .arg(&source)
        .status()
        .expect("run rustc to build the probe");
    assert!(status.success(), "building the static probe failed");
    println!("cargo:rustc-env=DOCKYARD_PROBE={}", out.display());
}
