//! `monitor ID` (hidden): the process `start` executes to keep a container; see
//! [`crate::monitor`]. Its answer goes to descriptor 3; its own output is the container's.

use std::io::Write;
use std::os::fd::{FromRawFd, OwnedFd};

use ch03_union_fs::Store;
use ch04_images::cli::Context;
use dockyard_support::FromIo;

use crate::container::Paths;
use crate::error::{Error, Result};
use crate::lifecycle::start::READY_FD;
use crate::monitor::{self, LogSink, Mode, Stream, close_on_exec};

/// Runs the monitor of container `id`.
pub fn execute(cx: &Context, id: &str) -> Result<i32> {
    // SAFETY: `start` put the ready pipe on this descriptor before executing this program,
    // and nothing else in this process owns it.
    let ready = unsafe { OwnedFd::from_raw_fd(READY_FD) };
    close_on_exec(&ready)?;
    let storage = cx
        .globals
        .storage
        .options()
        .map_err(ch04_images::Error::from)?;
    let log = open_log(cx.store.containers(), id)?;
    monitor::run(
        cx.store.containers(),
        id,
        &storage,
        Mode::Detached { ready },
        log,
    )
}

/// The container's log, to append to.
pub fn open_log(store: &Store, reference: &str) -> Result<Box<dyn LogSink>> {
    let record = store.find(reference)?;
    let path = Paths::new(store, &record.id).log();
    let file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&path)
        .map_err(Error::io("open", &path))?;
    Ok(Box::new(JsonLines { file }))
}

/// Docker's json-file lines, one per chunk the container wrote.
struct JsonLines {
    file: std::fs::File,
}

impl LogSink for JsonLines {
    fn write(&mut self, stream: Stream, bytes: &[u8], time_ns: u64) -> std::io::Result<()> {
        let stream = match stream {
            Stream::Stdout => "stdout",
            Stream::Stderr => "stderr",
        };
        let line = serde_json::json!({
            "log": String::from_utf8_lossy(bytes),
            "stream": stream,
            "time": time_ns.to_string(),
        });
        writeln!(self.file, "{line}")
    }

    fn flush(&mut self, _time_ns: u64) -> std::io::Result<()> {
        Ok(())
    }
}
