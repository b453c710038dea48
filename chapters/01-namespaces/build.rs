//! Builds `dockyard-init` (the `init/` crate), the PID 1 of containers run with `--init`, as a
//! static executable that the engine embeds with `include_bytes!`.
//!
//! Static, because it runs inside the container's root filesystem, which may have no dynamic
//! loader (a busybox-static rootfs has none). One `rustc` call builds it, as `tests/build.rs`
//! builds the probe: a nested `cargo build` would wait on the build lock the outer cargo holds,
//! and `-C target-feature=+crt-static` must apply to this one program only (a global static flag
//! breaks build scripts and proc-macros). It is optimized for size whatever the profile: nearly
//! all of its ~1.1 MB is the statically linked C library and `std`, copied once per container.

use std::env;
use std::path::PathBuf;
use std::process::Command;

fn main() {
    let source = PathBuf::from(env::var("CARGO_MANIFEST_DIR").unwrap()).join("init/src/main.rs");
    let out = PathBuf::from(env::var("OUT_DIR").unwrap()).join("dockyard-init");
    let rustc = env::var("RUSTC").unwrap_or_else(|_| "rustc".into());
    let target = env::var("TARGET").unwrap();
    println!("cargo:rerun-if-changed={}", source.display());

    let status = Command::new(rustc)
        .args(["--edition", "2024", "--crate-name", "dockyard_init"])
        .args([
            "-C",
            "opt-level=s",
            "-C",
            "lto=fat",
            "-C",
            "codegen-units=1",
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
        .expect("run rustc to build dockyard-init");
    assert!(status.success(), "building the static dockyard-init failed");
}
