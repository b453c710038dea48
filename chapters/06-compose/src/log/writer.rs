//! Writing the log: raw chunks from the container's pipes in, docker's entries out.
//!
//! A read from a pipe returns whatever the container wrote, cut wherever the kernel cut it:
//! half a line, three lines and a half. [`LogWriter::write`] turns chunks into lines, the way
//! docker's log copier does:
//!
//! - each line, its newline included, is one entry, stamped with the time the chunk that
//!   completed it arrived;
//! - the start of a line waits, per stream, for the rest; a line that reaches 16 KiB without
//!   a newline is written as a 16 KiB piece with no newline, and the rest follows in more
//!   pieces, every piece stamped with the time of the first;
//! - when a stream ends, [`LogWriter::flush_partial`] writes what is left of its last line,
//!   without a newline (`printf done` leaves exactly `done`).
//!
//! Before each entry the writer checks the file's size: once it has reached `max-size`, the
//! file is rotated (renamed `.1`, older ones shifted, the oldest dropped) and a new one is
//! started. As in docker the check comes before the write, so a file ends at the first entry
//! that took it to `max-size` or past it, and never holds less than one whole entry.
//!
//! The writer owns its state (no globals, no locks) and is `Send`: a monitor gives it to the
//! thread that pumps the pipes.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use dockyard_support::FromIo;

use super::Stream;
use super::encode::encode_entry;
use crate::container::LogOptions;
use crate::error::{Error, Result};

/// The longest piece of a line docker writes as one entry: its copier's buffer.
pub const MAX_ENTRY_BYTES: usize = 16 * 1024;

/// Docker creates log files readable by the owner's group (`0640`): logs may hold secrets.
const LOG_FILE_MODE: u32 = 0o640;

/// A container's json-file log, open for appending.
#[derive(Debug)]
pub struct LogWriter {
    path: PathBuf,
    options: LogOptions,
    file: File,
    /// Bytes in the current file.
    size: u64,
    /// Entries encoded and not yet written: one `write` per call, not one per line.
    out: Vec<u8>,
    /// The start of each stream's current line: stdout's, stderr's.
    partial: [PartialLine; 2],
}

/// A line whose newline has not come yet.
#[derive(Debug, Default)]
struct PartialLine {
    bytes: Vec<u8>,
    /// When its first 16 KiB piece was written: the time of all its pieces.
    first_piece_ns: Option<u64>,
}

impl LogWriter {
    /// Opens the log at `path` (`<id>-json.log`) to append to it, creating it if needed; a
    /// restarted container's lines follow the earlier run's.
    pub fn open(path: &Path, options: LogOptions) -> Result<LogWriter> {
        let file = open_for_append(path)?;
        let size = file
            .metadata()
            .map_err(Error::io("read the size of", path))?
            .len();
        Ok(LogWriter {
            path: path.to_path_buf(),
            options,
            file,
            size,
            out: Vec::new(),
            partial: Default::default(),
        })
    }

    /// The log file being written.
    pub fn path(&self) -> &Path {
        &self.path
    }

    // ANCHOR: write
    /// Logs `bytes` read from `stream` at `time_ns` (nanoseconds since the epoch): every line
    /// they complete, and every 16 KiB piece of a line too long to wait for.
    pub fn write(&mut self, stream: Stream, bytes: &[u8], time_ns: u64) -> Result<()> {
        let mut rest = bytes;
        while !rest.is_empty() {
            let partial = &mut self.partial[stream as usize];
            let room = MAX_ENTRY_BYTES - partial.bytes.len();
            let window = &rest[..rest.len().min(room)];
            if let Some(newline) = window.iter().position(|&b| b == b'\n') {
                let (line, after) = rest.split_at(newline + 1);
                let time = partial.first_piece_ns.take().unwrap_or(time_ns);
                if partial.bytes.is_empty() {
                    self.entry(stream, line, time)?;
                } else {
                    let mut whole = std::mem::take(&mut partial.bytes);
                    whole.extend_from_slice(line);
                    self.entry(stream, &whole, time)?;
                    // Keep the allocation for the next long line.
                    whole.clear();
                    self.partial[stream as usize].bytes = whole;
                }
                rest = after;
            } else if window.len() == room {
                // 16 KiB and no newline: a piece without one, as docker's full buffer.
                let time = *partial.first_piece_ns.get_or_insert(time_ns);
                let mut piece = std::mem::take(&mut partial.bytes);
                piece.extend_from_slice(window);
                self.entry(stream, &piece, time)?;
                piece.clear();
                self.partial[stream as usize].bytes = piece;
                rest = &rest[room..];
            } else {
                partial.bytes.extend_from_slice(window);
                rest = &[];
            }
        }
        self.write_out()
    }
    // ANCHOR_END: write

    /// Logs what is left of `stream`'s last line, without a newline: the stream ended (the
    /// container closed it, or exited) before the line did.
    pub fn flush_partial(&mut self, stream: Stream, time_ns: u64) -> Result<()> {
        let partial = &mut self.partial[stream as usize];
        if partial.bytes.is_empty() {
            return Ok(());
        }
        let time = partial.first_piece_ns.take().unwrap_or(time_ns);
        let rest = std::mem::take(&mut partial.bytes);
        self.entry(stream, &rest, time)?;
        self.write_out()
    }

    /// Encodes one entry into the pending output, rotating first if the file is full.
    fn entry(&mut self, stream: Stream, log: &[u8], time_ns: u64) -> Result<()> {
        if let Some(max_size) = self.options.max_size
            && self.size + self.out.len() as u64 >= max_size
        {
            self.write_out()?;
            self.rotate()?;
        }
        encode_entry(&mut self.out, log, stream, time_ns);
        Ok(())
    }

    /// Writes the pending entries to the file.
    fn write_out(&mut self) -> Result<()> {
        if self.out.is_empty() {
            return Ok(());
        }
        let written = self.file.write_all(&self.out);
        // Entries that could not be written are dropped, as docker drops them: kept, they
        // would be written twice (in part) by the next call, or pile up while a disk is full.
        let len = self.out.len();
        self.out.clear();
        written.map_err(Error::io("write to the log", &self.path))?;
        self.size += len as u64;
        Ok(())
    }

    // ANCHOR: rotate
    /// Moves the full file out of the way and starts a new one: `.1` becomes `.2`… up to
    /// `max-file - 1`, whose file is dropped; the current file becomes `.1`. With
    /// `max-file=1` the current file is unlinked instead: a reader that has it open (`logs
    /// -f`) still reads it to its end, which truncating it in place would spoil.
    fn rotate(&mut self) -> Result<()> {
        let max_file = self.options.max_file.max(1);
        if max_file >= 2 {
            remove_if_present(&rotated_path(&self.path, max_file - 1))?;
            for n in (2..max_file).rev() {
                rename_if_present(
                    &rotated_path(&self.path, n - 1),
                    &rotated_path(&self.path, n),
                )?;
            }
            rename_if_present(&self.path, &rotated_path(&self.path, 1))?;
        } else {
            remove_if_present(&self.path)?;
        }
        self.file = open_for_append(&self.path)?;
        self.size = 0;
        Ok(())
    }
    // ANCHOR_END: rotate
}

/// The `n`th rotated file of the log at `path`: `<id>-json.log.<n>`, `.1` the newest.
pub fn rotated_path(path: &Path, n: u32) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(format!(".{n}"));
    PathBuf::from(name)
}

fn open_for_append(path: &Path) -> Result<File> {
    OpenOptions::new()
        .append(true)
        .create(true)
        .mode(LOG_FILE_MODE)
        .open(path)
        .map_err(Error::io("open the log", path))
}

fn remove_if_present(path: &Path) -> Result<()> {
    match std::fs::remove_file(path) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
            Err(Error::io("remove the old log", path)(e))
        }
        _ => Ok(()),
    }
}

fn rename_if_present(from: &Path, to: &Path) -> Result<()> {
    match std::fs::rename(from, to) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(Error::io(
            format!("rotate the log to {}", to.display()),
            from,
        )(e)),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::log::encode::parse_time;

    const T: u64 = 1_796_320_336_000_000_000;

    fn options(max_size: Option<u64>, max_file: u32) -> LogOptions {
        LogOptions { max_size, max_file }
    }

    /// A writer on a fresh file in a temporary directory.
    fn writer(options: LogOptions) -> (tempfile::TempDir, LogWriter) {
        let dir = tempfile::tempdir().unwrap();
        let writer = LogWriter::open(&dir.path().join("c-json.log"), options).unwrap();
        (dir, writer)
    }

    fn read(path: &Path) -> String {
        String::from_utf8(std::fs::read(path).unwrap()).unwrap()
    }

    #[test]
    fn the_writer_can_move_to_a_pump_thread() {
        fn send<T: Send>() {}
        send::<LogWriter>();
    }

    #[test]
    fn chunks_become_lines_per_stream() {
        let (_dir, mut log) = writer(LogOptions::default());
        log.write(Stream::Stdout, b"hel", T).unwrap();
        log.write(Stream::Stderr, b"oops\nhalf", T + 1).unwrap();
        log.write(Stream::Stdout, b"lo\n\nbye", T + 2).unwrap();
        log.flush_partial(Stream::Stdout, T + 3).unwrap();
        log.flush_partial(Stream::Stderr, T + 4).unwrap();
        log.flush_partial(Stream::Stderr, T + 5).unwrap();
        insta::assert_snapshot!(read(log.path()), @r#"
        {"log":"oops\n","stream":"stderr","time":"2026-12-03T17:52:16.000000001Z"}
        {"log":"hello\n","stream":"stdout","time":"2026-12-03T17:52:16.000000002Z"}
        {"log":"\n","stream":"stdout","time":"2026-12-03T17:52:16.000000002Z"}
        {"log":"bye","stream":"stdout","time":"2026-12-03T17:52:16.000000003Z"}
        {"log":"half","stream":"stderr","time":"2026-12-03T17:52:16.000000004Z"}
        "#);
    }

    /// The times of the entries of a log docker wrote.
    fn times(docker: &str) -> Vec<u64> {
        docker
            .lines()
            .map(|line| {
                let value: serde_json::Value = serde_json::from_str(line).unwrap();
                parse_time(value["time"].as_str().unwrap()).unwrap()
            })
            .collect()
    }

    #[test]
    fn escapes_match_a_log_docker_wrote() {
        // docker 28.2.2 ran: printf "plain\n"; printf "<a href=\"x\">&amp;</a>\n"; …
        let docker = include_str!("testdata/docker-escapes.log");
        let t = times(docker);
        let (_dir, mut log) = writer(LogOptions::default());
        log.write(Stream::Stderr, b"err line\n", t[0]).unwrap();
        let lines: [&[u8]; 6] = [
            b"plain\n",
            b"<a href=\"x\">&amp;</a>\n",
            b"tab\there\r\n",
            b"back\\slash \x01\x1f\x7f\n",
            b"bad \xff\xfe utf8 \xc3\xa9 \xe2\x80\xa8 \xe2\x80\xa9 end\n",
            b"\n",
        ];
        for (line, time) in lines.iter().zip(&t[1..]) {
            log.write(Stream::Stdout, line, *time).unwrap();
        }
        log.write(Stream::Stdout, b"no newline at end", t[7])
            .unwrap();
        log.flush_partial(Stream::Stdout, t[7]).unwrap();
        assert_eq!(read(log.path()), docker);
    }

    #[test]
    fn long_lines_are_cut_at_16_kib_as_docker_cuts_them() {
        // A 40 KiB line with "é" across the first cut, a line of exactly 16 KiB, a short one.
        let docker = include_str!("testdata/docker-long-lines.log");
        let t = times(docker);
        let (_dir, mut log) = writer(LogOptions::default());
        let mut first = vec![b'a'; 16383];
        first.extend_from_slice("é".as_bytes());
        first.extend(std::iter::repeat_n(b'b', 24575));
        first.push(b'\n');
        // Fed in pipe-sized chunks, the way the monitor reads them.
        for chunk in first.chunks(4096) {
            log.write(Stream::Stdout, chunk, t[0]).unwrap();
        }
        let mut second = vec![b'c'; 16384];
        second.push(b'\n');
        log.write(Stream::Stdout, &second, t[3]).unwrap();
        log.write(Stream::Stdout, b"short\n", t[5]).unwrap();
        assert_eq!(read(log.path()), docker);
        // The pieces: 16 KiB (its last byte half of "é"), 16 KiB, the rest with the newline.
        let sizes: Vec<usize> = docker.lines().map(str::len).collect();
        assert_eq!(sizes, [16457, 16457, 8262, 16452, 70, 75]);
    }

    #[test]
    fn pieces_of_a_long_line_carry_the_time_of_the_first() {
        let (_dir, mut log) = writer(LogOptions::default());
        log.write(Stream::Stderr, &[b'x'; MAX_ENTRY_BYTES + 10], T)
            .unwrap();
        log.write(Stream::Stderr, b"\n", T + 7).unwrap();
        log.write(Stream::Stderr, b"next\n", T + 9).unwrap();
        let stamps: Vec<(usize, u64)> = read(log.path())
            .lines()
            .map(|line| {
                let value: serde_json::Value = serde_json::from_str(line).unwrap();
                let time = parse_time(value["time"].as_str().unwrap()).unwrap();
                (value["log"].as_str().unwrap().len(), time)
            })
            .collect();
        assert_eq!(stamps, [(MAX_ENTRY_BYTES, T), (11, T), (5, T + 9)]);
    }

    fn lines_of(path: &Path) -> Vec<String> {
        read(path)
            .lines()
            .map(|line| {
                let value: serde_json::Value = serde_json::from_str(line).unwrap();
                value["log"].as_str().unwrap().trim_end().to_owned()
            })
            .collect()
    }

    #[test]
    fn rotation_keeps_max_file_files_and_checks_before_each_entry() {
        // Each entry is 72 bytes: the second one takes the file to 144 >= 100, so the third
        // starts a new file.
        let (dir, mut log) = writer(options(Some(100), 3));
        for n in 0..9 {
            log.write(Stream::Stdout, format!("line {n}\n").as_bytes(), T)
                .unwrap();
        }
        let path = log.path().to_path_buf();
        assert_eq!(lines_of(&path), ["line 8"]);
        assert_eq!(lines_of(&rotated_path(&path, 1)), ["line 6", "line 7"]);
        assert_eq!(lines_of(&rotated_path(&path, 2)), ["line 4", "line 5"]);
        assert!(!rotated_path(&path, 3).exists());
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 3);
        // One write call of many lines rotates between them just the same.
        let (_dir, mut batch) = writer(options(Some(100), 3));
        let all: String = (0..9).map(|n| format!("line {n}\n")).collect();
        batch.write(Stream::Stdout, all.as_bytes(), T).unwrap();
        assert_eq!(read(batch.path()), read(&path));
    }

    #[test]
    fn a_single_file_is_replaced_not_truncated() {
        let (dir, mut log) = writer(options(Some(10), 1));
        log.write(Stream::Stdout, b"one\n", T).unwrap();
        let reader = File::open(log.path()).unwrap();
        log.write(Stream::Stdout, b"two\n", T).unwrap();
        assert_eq!(lines_of(log.path()), ["two"]);
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
        // The follower that held the old file still reads all of it.
        assert_eq!(std::io::read_to_string(reader).unwrap().lines().count(), 1);
    }

    #[test]
    fn a_reopened_log_appends_and_counts_what_it_holds() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c-json.log");
        let mut first = LogWriter::open(&path, options(Some(100), 2)).unwrap();
        first.write(Stream::Stdout, b"first run\n", T).unwrap();
        first.write(Stream::Stdout, b"first run\n", T).unwrap();
        drop(first);
        let mut second = LogWriter::open(&path, options(Some(100), 2)).unwrap();
        second.write(Stream::Stdout, b"second run\n", T).unwrap();
        assert_eq!(lines_of(&path), ["second run"]);
        assert_eq!(
            lines_of(&rotated_path(&path, 1)),
            ["first run", "first run"]
        );
    }
}
