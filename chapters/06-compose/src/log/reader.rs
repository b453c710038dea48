//! Reading the log back: `docker logs` and `docker logs -f`.
//!
//! A log is several files once it rotates: `<id>-json.log` (the current one), then `.1`
//! (the newest rotated), `.2`… [`LogReader::open`] opens them all at once, the current file
//! first, so that a rotation while they are opened shows as a file met twice (skipped the
//! second time) rather than as a file missed. It reads them oldest first, each up to the
//! length it had when opened: a `logs` run shows the log as it was when it began.
//!
//! - `--tail N` keeps the last N entries: the reader walks back from the end of the newest
//!   file, counting newlines, into older files as long as it needs more, and starts each
//!   file where the count says; a log of 30 MB is not read whole for ten lines.
//! - `--since` and `--until`, as docker applies them: entries older than `since` are
//!   skipped up to the first that is not (from then on all pass, as entries of two streams
//!   are not strictly in time order); the first entry newer than `until` ends the reading.
//!   The tail is taken first, then the window: `--tail 5 --since 1m` may show fewer than 5.
//!
//! [`Follower`] continues where the reading ends: it waits for the current file to grow
//! ([`super::watch`]), reads what was added, and when the file is rotated away it reads
//! the rest of the old one (still open, whatever its new name) before it moves to the new
//! one, taking any file rotated past it in between. It ends once the caller's `stopped`
//! says the container has ended, after one last look that collects what was written before
//! the end.

use std::borrow::Cow;
use std::collections::{HashSet, VecDeque};
use std::fs::File;
use std::os::unix::fs::{FileExt, MetadataExt};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use dockyard_support::FromIo;
use serde::Deserialize;

use super::Stream;
use super::encode::parse_time;
use super::watch::{WATCH_PATIENCE, Watch};
use super::writer::rotated_path;
use crate::error::{Error, Result};

/// How much of a file one read takes.
const READ_SIZE: usize = 64 * 1024;

/// How often a follower asks whether the container has stopped, at most.
const ASK_INTERVAL: Duration = Duration::from_millis(100);

/// Which entries to read.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ReadOptions {
    /// Only the last this many entries (`--tail N`); `None` for all.
    pub tail: Option<usize>,
    /// Only entries from this time on, nanoseconds since the epoch (`--since`).
    pub since_ns: Option<i64>,
    /// Only entries up to this time (`--until`).
    pub until_ns: Option<i64>,
}

/// One entry of the log: a line, or a piece of one, that the container wrote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// The stream it came from.
    pub stream: Stream,
    /// When the monitor read it, nanoseconds since the epoch.
    pub time_ns: u64,
    /// What was written: a line with its newline, or a piece of a line without.
    pub log: String,
}

/// An entry as the file holds it.
#[derive(Deserialize)]
struct RawEntry<'a> {
    #[serde(default)]
    log: String,
    #[serde(borrow)]
    stream: Cow<'a, str>,
    #[serde(borrow)]
    time: Cow<'a, str>,
}

/// The entries of a container's log, oldest first.
#[derive(Debug)]
pub struct LogReader {
    /// The current file's name.
    path: PathBuf,
    /// Rotated files still to read, oldest first.
    rotated: VecDeque<Source>,
    /// The current file, read last and followed; `None` if there was none.
    current: Option<Source>,
    filter: Filter,
}

impl LogReader {
    /// Opens the log whose current file is `path` (`<id>-json.log`) and its rotated files.
    /// A log that does not exist (a container that never ran) has no entries.
    pub fn open(path: &Path, options: &ReadOptions) -> Result<LogReader> {
        let current = Source::open(path)?;
        let mut seen: HashSet<Identity> = current.iter().map(|s| s.identity).collect();
        let mut rotated = Vec::new();
        for n in 1.. {
            let Some(source) = Source::open(&rotated_path(path, n))? else {
                break;
            };
            if seen.insert(source.identity) {
                rotated.push(source);
            }
        }
        // Newest first: the current file, then .1, .2…
        let mut newest_first: Vec<Source> = current.into_iter().chain(rotated).collect();
        if let Some(wanted) = options.tail {
            start_at_tail(&mut newest_first, wanted)?;
        }
        let current = match newest_first.first() {
            Some(first) if first.name == path => Some(newest_first.remove(0)),
            _ => None,
        };
        let rotated = newest_first
            .into_iter()
            .rev()
            .filter(|source| source.position < source.end.unwrap_or(u64::MAX))
            .collect();
        Ok(LogReader {
            path: path.to_path_buf(),
            rotated,
            current,
            filter: Filter {
                since_ns: options.since_ns,
                until_ns: options.until_ns,
                past_until: false,
                unreadable: 0,
            },
        })
    }

    /// The next entries the files hold, in order; `None` once everything there was read
    /// (or an entry past `until` was met).
    pub fn next_batch(&mut self) -> Result<Option<Vec<Entry>>> {
        let mut batch = Vec::new();
        loop {
            if self.filter.past_until {
                return Ok(if batch.is_empty() { None } else { Some(batch) });
            }
            let Self {
                rotated,
                current,
                filter,
                ..
            } = self;
            let (source, is_rotated) = match rotated.front_mut() {
                Some(source) => (source, true),
                None => match current {
                    Some(source) => (source, false),
                    None => return Ok(None),
                },
            };
            let more = source.read_lines(|line| filter.accept(line, &mut batch))?;
            if !more {
                if !is_rotated {
                    return Ok(if batch.is_empty() { None } else { Some(batch) });
                }
                rotated.pop_front();
            }
            if !batch.is_empty() {
                return Ok(Some(batch));
            }
        }
    }

    /// How many lines could not be read as entries (a file cut short by a crash, say); they
    /// are skipped, as docker skips them.
    pub fn unreadable_lines(&self) -> usize {
        self.filter.unreadable
    }

    /// Lets the current file be read past the length it had when opened.
    fn read_past_the_end(&mut self) {
        if let Some(current) = &mut self.current {
            current.end = None;
        }
    }

    /// Notices that the current file was rotated away (or, if there was none, created):
    /// queues the rest of the old file, the files rotated past it, and the new current file.
    /// Whether it did.
    fn catch_up_with_rotation(&mut self) -> Result<bool> {
        let now = match std::fs::metadata(&self.path) {
            Ok(metadata) => Identity::of(&metadata),
            // Between the rename and the new file, or the container is being removed.
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(false),
            Err(e) => return Err(Error::io("look at the log", &self.path)(e)),
        };
        if self.current.as_ref().map(|s| s.identity) == Some(now) {
            return Ok(false);
        }
        let Some(mut new_current) = Source::open(&self.path)? else {
            return Ok(false);
        };
        // Followed: read as far as it grows.
        new_current.end = None;
        if let Some(old) = self.current.take() {
            let old_identity = old.identity;
            // The old file is read to its end: it still is, open, whatever its name now.
            self.rotated.push_back(old);
            // Files rotated past the follower since: .1 up to the old file, newest first.
            let mut rotated_since = Vec::new();
            for n in 1.. {
                let Some(source) = Source::open(&rotated_path(&self.path, n))? else {
                    break;
                };
                if source.identity == old_identity {
                    break;
                }
                rotated_since.push(source);
            }
            // If the new current file was itself rotated in the meantime, those before it
            // are newer still: the next look finds them, in order.
            if let Some(at) = rotated_since
                .iter()
                .position(|source| source.identity == new_current.identity)
            {
                rotated_since.drain(..=at);
            }
            for mut source in rotated_since.into_iter().rev() {
                source.end = None;
                self.rotated.push_back(source);
            }
        }
        self.current = Some(new_current);
        Ok(true)
    }
}

/// Which entries pass `--since` and `--until`, as docker's log forwarder decides.
#[derive(Debug)]
struct Filter {
    /// Cleared by the first entry that passes it.
    since_ns: Option<i64>,
    until_ns: Option<i64>,
    past_until: bool,
    unreadable: usize,
}

impl Filter {
    fn accept(&mut self, line: &[u8], batch: &mut Vec<Entry>) {
        if self.past_until || line.iter().all(u8::is_ascii_whitespace) {
            return;
        }
        let Some(entry) = decode(line) else {
            self.unreadable += 1;
            return;
        };
        let time = i128::from(entry.time_ns);
        if let Some(since) = self.since_ns {
            if time < i128::from(since) {
                return;
            }
            self.since_ns = None;
        }
        if self.until_ns.is_some_and(|until| time > i128::from(until)) {
            self.past_until = true;
            return;
        }
        batch.push(entry);
    }
}

/// One line of the file as an entry, if it is one.
fn decode(line: &[u8]) -> Option<Entry> {
    let raw: RawEntry = serde_json::from_slice(line).ok()?;
    Some(Entry {
        stream: Stream::from_name(&raw.stream)?,
        time_ns: parse_time(&raw.time)?,
        log: raw.log,
    })
}

/// What makes a file itself whatever its name: its device and inode.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
struct Identity(u64, u64);

impl Identity {
    fn of(metadata: &std::fs::Metadata) -> Identity {
        Identity(metadata.dev(), metadata.ino())
    }
}

/// One file of the log, being read.
#[derive(Debug)]
struct Source {
    file: File,
    /// The name it had when opened, for errors.
    name: PathBuf,
    identity: Identity,
    /// Where the next read starts.
    position: u64,
    /// Where reading stops; `None`: wherever the file ends when read.
    end: Option<u64>,
    /// The start of a line whose newline was not read yet.
    unfinished: Vec<u8>,
}

impl Source {
    /// Opens `path` for reading from its start up to its present length; `None` if there is
    /// no such file.
    fn open(path: &Path) -> Result<Option<Source>> {
        let file = match File::open(path) {
            Ok(file) => file,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(Error::io("open the log", path)(e)),
        };
        let metadata = file
            .metadata()
            .map_err(Error::io("look at the log", path))?;
        Ok(Some(Source {
            file,
            name: path.to_path_buf(),
            identity: Identity::of(&metadata),
            position: 0,
            end: Some(metadata.len()),
            unfinished: Vec::new(),
        }))
    }

    /// Reads the next part of the file and hands each whole line (newline excluded) to
    /// `line`; `false` once there is nothing more to read.
    fn read_lines(&mut self, mut line: impl FnMut(&[u8])) -> Result<bool> {
        let want = match self.end {
            Some(end) => READ_SIZE
                .min(usize::try_from(end.saturating_sub(self.position)).unwrap_or(READ_SIZE)),
            None => READ_SIZE,
        };
        if want == 0 {
            return Ok(false);
        }
        let start = self.unfinished.len();
        self.unfinished.resize(start + want, 0);
        let read = self
            .file
            .read_at(&mut self.unfinished[start..], self.position)
            .map_err(Error::io("read the log", &self.name));
        let read = match read {
            Ok(read) => read,
            Err(e) => {
                self.unfinished.truncate(start);
                return Err(e);
            }
        };
        self.unfinished.truncate(start + read);
        if read == 0 {
            return Ok(false);
        }
        self.position += read as u64;
        if let Some(last_newline) = self.unfinished.iter().rposition(|&b| b == b'\n') {
            self.unfinished[..last_newline]
                .split(|&b| b == b'\n')
                .for_each(&mut line);
            self.unfinished.drain(..=last_newline);
        }
        Ok(true)
    }
}

/// Moves the start of each file (newest first) so that, together, they hold the last
/// `wanted` entries; files with none of them are left with nothing to read.
fn start_at_tail(newest_first: &mut [Source], mut wanted: usize) -> Result<()> {
    for source in newest_first {
        let end = source.end.unwrap_or(0);
        if wanted == 0 {
            source.position = end;
            continue;
        }
        let (start, found) = tail_start(source, end, wanted)?;
        source.position = start;
        wanted -= found;
    }
    Ok(())
}

/// Where the last `wanted` whole lines before `end` start, and how many there are (fewer
/// than `wanted` if the file holds fewer). Bytes after the last newline are a line still
/// being written, not counted.
fn tail_start(source: &Source, end: u64, wanted: usize) -> Result<(u64, usize)> {
    let mut buffer = vec![0u8; READ_SIZE];
    let mut position = end;
    let mut newlines = 0;
    while position > 0 {
        let len = READ_SIZE.min(usize::try_from(position).unwrap_or(READ_SIZE));
        position -= len as u64;
        source
            .file
            .read_exact_at(&mut buffer[..len], position)
            .map_err(Error::io("read the log", &source.name))?;
        for (i, &byte) in buffer[..len].iter().enumerate().rev() {
            // The first newline from the end closes the last line; the one before the
            // first wanted line is number `wanted + 1`.
            if byte == b'\n' {
                newlines += 1;
                if newlines == wanted + 1 {
                    return Ok((position + i as u64 + 1, wanted));
                }
            }
        }
    }
    Ok((0, newlines))
}

/// A log read as it grows, until the container stops.
#[derive(Debug)]
pub struct Follower<S> {
    reader: LogReader,
    stopped: S,
    watch: Watch,
    /// When `stopped` was last asked.
    asked: Option<Instant>,
    /// Set once `stopped` said so: one more read, then the end.
    last_look: bool,
}

impl<S: FnMut() -> bool> Follower<S> {
    /// Follows `reader`'s log (after the entries it was opened for) until `stopped()`
    /// returns true. It is asked when the follower has read everything and is about to
    /// wait: at least every [`WATCH_PATIENCE`], at most every 100 ms.
    pub fn new(mut reader: LogReader, stopped: S) -> Follower<S> {
        // The watch exists before the next read, so no write can fall between the two.
        let dir = reader.path.parent().unwrap_or(Path::new("."));
        let watch = Watch::new(dir);
        reader.read_past_the_end();
        Follower {
            reader,
            stopped,
            watch,
            asked: None,
            last_look: false,
        }
    }

    /// The next entries: those there are, or the next ones written, waiting for them; `None`
    /// once the container has stopped and everything it wrote was read, or an entry past
    /// `until` came.
    pub fn next_batch(&mut self) -> Result<Option<Vec<Entry>>> {
        loop {
            if let Some(batch) = self.reader.next_batch()? {
                return Ok(Some(batch));
            }
            if self.reader.filter.past_until {
                return Ok(None);
            }
            if self.reader.catch_up_with_rotation()? {
                continue;
            }
            if self.last_look {
                return Ok(None);
            }
            // A busy log wakes the follower at every write: `stopped` (a file to read, for
            // the command) is asked at most once per ASK_INTERVAL all the same.
            let asked_recently = self.asked.is_some_and(|at| at.elapsed() < ASK_INTERVAL);
            if !asked_recently {
                self.asked = Some(Instant::now());
                if (self.stopped)() || self.past_until_by_the_clock() {
                    self.last_look = true;
                    continue;
                }
            }
            // Not asked this time: wait no longer than until it may be asked again.
            let patience = match self.asked {
                Some(at) if asked_recently => ASK_INTERVAL.saturating_sub(at.elapsed()),
                _ => WATCH_PATIENCE,
            };
            self.watch.wait(patience);
        }
    }

    /// The reader, for what it counted.
    pub fn reader(&self) -> &LogReader {
        &self.reader
    }

    /// Once the clock is past `until`, no entry written from now on can be in the window.
    fn past_until_by_the_clock(&self) -> bool {
        self.reader
            .filter
            .until_ns
            .is_some_and(|until| i128::from(dockyard_support::clock::now_ns()) > i128::from(until))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::container::LogOptions;
    use crate::log::LogWriter;

    const T: u64 = 1_796_320_336_000_000_000;
    const S: u64 = 1_000_000_000;

    /// A log of `count` lines "line N" written one a second, rotated as `options` say.
    fn log_of(count: u64, options: LogOptions) -> (tempfile::TempDir, PathBuf) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c-json.log");
        let mut writer = LogWriter::open(&path, options).unwrap();
        for n in 0..count {
            let stream = if n % 3 == 2 {
                Stream::Stderr
            } else {
                Stream::Stdout
            };
            writer
                .write(stream, format!("line {n}\n").as_bytes(), T + n * S)
                .unwrap();
        }
        (dir, path)
    }

    /// Files of three entries (67 bytes each: the third takes a file to 200), four kept.
    fn rotating() -> LogOptions {
        LogOptions {
            max_size: Some(200),
            max_file: 4,
        }
    }

    fn texts(entries: Vec<Entry>) -> impl Iterator<Item = String> {
        entries.into_iter().map(|e| e.log.trim_end().to_owned())
    }

    fn all(mut reader: LogReader) -> Vec<String> {
        let mut lines = Vec::new();
        while let Some(batch) = reader.next_batch().unwrap() {
            lines.extend(texts(batch));
        }
        lines
    }

    fn read(path: &Path, options: ReadOptions) -> Vec<String> {
        all(LogReader::open(path, &options).unwrap())
    }

    fn lines(range: std::ops::Range<u64>) -> Vec<String> {
        range.map(|n| format!("line {n}")).collect()
    }

    fn tail(n: usize) -> ReadOptions {
        ReadOptions {
            tail: Some(n),
            ..Default::default()
        }
    }

    #[test]
    fn entries_come_back_as_written() {
        let (_dir, path) = log_of(3, LogOptions::default());
        let mut reader = LogReader::open(&path, &ReadOptions::default()).unwrap();
        let batch = reader.next_batch().unwrap().unwrap();
        assert_eq!(
            batch[2],
            Entry {
                stream: Stream::Stderr,
                time_ns: T + 2 * S,
                log: "line 2\n".to_owned()
            }
        );
        assert_eq!(reader.next_batch().unwrap(), None);
    }

    #[test]
    fn rotated_files_are_read_oldest_first() {
        let (_dir, path) = log_of(20, rotating());
        // 20 lines in files of 3, four files kept: 9, 10, 11 in .3 … 18, 19 in the current.
        assert!(rotated_path(&path, 3).exists() && !rotated_path(&path, 4).exists());
        assert_eq!(read(&path, ReadOptions::default()), lines(9..20));
    }

    #[test]
    fn tail_counts_back_across_files() {
        let (_dir, path) = log_of(20, rotating());
        assert_eq!(read(&path, tail(0)), Vec::<String>::new());
        assert_eq!(read(&path, tail(1)), lines(19..20));
        assert_eq!(read(&path, tail(2)), lines(18..20));
        assert_eq!(read(&path, tail(3)), lines(17..20));
        assert_eq!(read(&path, tail(7)), lines(13..20));
        assert_eq!(read(&path, tail(11)), lines(9..20));
        assert_eq!(read(&path, tail(100)), lines(9..20));
    }

    #[test]
    fn tail_walks_back_through_large_files() {
        // More than one read's worth of lines, so the walk back crosses read boundaries.
        let (_dir, path) = log_of(3000, LogOptions::default());
        assert!(std::fs::metadata(&path).unwrap().len() > 3 * READ_SIZE as u64);
        assert_eq!(read(&path, tail(2500)), lines(500..3000));
        assert_eq!(read(&path, ReadOptions::default()), lines(0..3000));
    }

    #[test]
    fn since_and_until_bound_the_window() {
        let (_dir, path) = log_of(20, rotating());
        let at = |n: u64| i64::try_from(T + n * S).unwrap();
        let window = |since: Option<i64>, until: Option<i64>, tail: Option<usize>| {
            read(
                &path,
                ReadOptions {
                    tail,
                    since_ns: since,
                    until_ns: until,
                },
            )
        };
        assert_eq!(window(Some(at(15)), None, None), lines(15..20));
        assert_eq!(window(Some(at(15) - 1), None, None), lines(15..20));
        assert_eq!(window(None, Some(at(11)), None), lines(9..12));
        assert_eq!(window(None, Some(at(11) - 1), None), lines(9..11));
        assert_eq!(window(Some(at(12)), Some(at(13)), None), lines(12..14));
        assert_eq!(window(None, Some(at(5)), None), Vec::<String>::new());
        // The tail first, then the window.
        assert_eq!(window(Some(at(18)), None, Some(5)), lines(18..20));
        assert_eq!(window(None, Some(at(16)), Some(5)), lines(15..17));
    }

    #[test]
    fn since_stops_filtering_at_the_first_entry_it_lets_through() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c-json.log");
        let mut writer = LogWriter::open(&path, LogOptions::default()).unwrap();
        for (line, time) in [("a\n", 5), ("b\n", 9), ("c\n", 7), ("d\n", 10)] {
            writer
                .write(Stream::Stdout, line.as_bytes(), T + time)
                .unwrap();
        }
        let since = ReadOptions {
            since_ns: Some(i64::try_from(T + 8).unwrap()),
            ..Default::default()
        };
        assert_eq!(read(&path, since), ["b", "c", "d"]);
    }

    #[test]
    fn what_cannot_be_read_is_counted_and_skipped() {
        let (_dir, path) = log_of(2, LogOptions::default());
        let mut text = std::fs::read_to_string(&path).unwrap();
        let stdin = r#"{"log":"x\n","stream":"stdin","time":"2026-12-03T17:52:16Z"}"#;
        text.insert_str(0, &format!("not json\n\n{stdin}\n"));
        text.push_str(r#"{"log":"cut sh"#);
        std::fs::write(&path, text).unwrap();
        let mut reader = LogReader::open(&path, &ReadOptions::default()).unwrap();
        assert_eq!(texts(reader.next_batch().unwrap().unwrap()).count(), 2);
        assert_eq!(reader.unreadable_lines(), 2);
    }

    #[test]
    fn a_log_that_does_not_exist_is_empty() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c-json.log");
        assert_eq!(read(&path, ReadOptions::default()), Vec::<String>::new());
    }

    #[test]
    fn a_read_shows_the_log_as_it_was_when_it_began() {
        let (_dir, path) = log_of(3, LogOptions::default());
        let reader = LogReader::open(&path, &ReadOptions::default()).unwrap();
        let mut writer = LogWriter::open(&path, LogOptions::default()).unwrap();
        writer.write(Stream::Stdout, b"later\n", T).unwrap();
        assert_eq!(all(reader), lines(0..3));
    }

    /// Writes lines `from..to` as `log_of` does.
    fn append(writer: &mut LogWriter, range: std::ops::Range<u64>) {
        for n in range {
            let line = format!("line {n}\n");
            writer
                .write(Stream::Stdout, line.as_bytes(), T + n * S)
                .unwrap();
        }
    }

    #[test]
    fn following_reads_across_rotations_until_stopped() {
        let (_dir, path) = log_of(6, rotating());
        let mut writer = LogWriter::open(&path, rotating()).unwrap();
        let stopped = std::cell::Cell::new(false);
        let reader = LogReader::open(&path, &tail(2)).unwrap();
        // Bounded: a wrong count ends the test instead of waiting forever.
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
        let mut follower = Follower::new(reader, || {
            stopped.get() || std::time::Instant::now() > deadline
        });
        let mut seen = Vec::new();
        let mut follow_until = |seen: &mut Vec<String>, count: usize| {
            while seen.len() < count {
                let batch = follower.next_batch().unwrap();
                let batch = batch.unwrap_or_else(|| panic!("ended early, after {seen:?}"));
                seen.extend(texts(batch));
            }
        };
        follow_until(&mut seen, 2);
        assert_eq!(seen, lines(4..6));
        // Two lines: one rotation. Nine: three, the followed file ending up as .3.
        append(&mut writer, 6..8);
        follow_until(&mut seen, 4);
        append(&mut writer, 8..17);
        follow_until(&mut seen, 13);
        assert_eq!(seen, lines(4..17));
        // Thirty at once: the files between the one followed and the four kept are gone.
        append(&mut writer, 17..47);
        follow_until(&mut seen, 13 + 1 + 11);
        stopped.set(true);
        while let Some(batch) = follower.next_batch().unwrap() {
            seen.extend(texts(batch));
        }
        let expected: Vec<String> = [lines(4..18), lines(36..47)].concat();
        assert_eq!(seen, expected);
    }

    #[test]
    fn following_a_log_not_yet_written_waits_for_it() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c-json.log");
        let reader = LogReader::open(&path, &ReadOptions::default()).unwrap();
        let stopped = std::cell::Cell::new(false);
        let mut follower = Follower::new(reader, || stopped.get());
        let mut writer = LogWriter::open(&path, LogOptions::default()).unwrap();
        append(&mut writer, 0..2);
        let batch = follower.next_batch().unwrap().unwrap();
        assert_eq!(texts(batch).collect::<Vec<_>>(), lines(0..2));
        stopped.set(true);
        assert_eq!(follower.next_batch().unwrap(), None);
    }

    #[test]
    fn following_ends_at_until() {
        let (_dir, path) = log_of(3, LogOptions::default());
        let options = ReadOptions {
            until_ns: Some(i64::try_from(T + 3 * S).unwrap()),
            ..Default::default()
        };
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
        let reader = LogReader::open(&path, &options).unwrap();
        let mut follower = Follower::new(reader, || std::time::Instant::now() > deadline);
        let mut writer = LogWriter::open(&path, LogOptions::default()).unwrap();
        append(&mut writer, 3..6);
        let mut seen = Vec::new();
        while let Some(batch) = follower.next_batch().unwrap() {
            seen.extend(texts(batch));
        }
        assert_eq!(seen, lines(0..4));
    }
}
