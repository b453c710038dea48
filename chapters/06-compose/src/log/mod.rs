//! A container's output, kept as docker's `json-file` log.
//!
//! A container started in the background has no terminal to write to: its monitor holds the
//! read ends of two pipes, the container's stdout and stderr, and writes what comes out of
//! them to a file beside the container's record. Docker's default log driver, `json-file`,
//! gives that file its shape, and this module keeps it byte for byte, so that the file reads
//! the same to anything that reads docker's logs:
//!
//! ```text
//! {"log":"listening on :80\n","stream":"stdout","time":"2026-12-03T17:52:16.123456789Z"}
//! {"log":"GET / 200\n","stream":"stderr","time":"2026-12-03T17:52:17.5Z"}
//! ```
//!
//! One JSON object per line, one line per line of output (its newline included), the stream
//! it came from and when it came, in UTC to the nanosecond. Three rules shape it:
//!
//! - **Lines, not reads.** A pipe delivers whatever the process wrote, cut wherever the kernel
//!   cut it; the writer keeps the start of a line until its newline comes. A line longer than
//!   16 KiB is written in 16 KiB pieces (entries without a newline), so that one endless
//!   line cannot grow the monitor's memory without bound; a reader joins them by printing
//!   them one after the other.
//! - **Go's JSON.** Docker is written in Go, and its encoder escapes `<`, `>` and `&` as
//!   `\u003c`…, control characters as `\u00XX` (a tab too), and every byte that is not part
//!   of valid UTF-8 as `\ufffd`: see [`encode`].
//! - **Rotation.** With `--log-opt max-size=10m --log-opt max-file=3` a file that reached
//!   10 MB is renamed `.1` (`.1` becomes `.2`…, the oldest dropped) before the next entry,
//!   which starts a new file: the log never holds more than about 30 MB.
//!
//! Reading ([`reader`]) goes through the files oldest first, takes the last N entries
//! (`--tail`), keeps those in a time window (`--since`, `--until`, read by [`since`] in every
//! form docker's client accepts), and can follow the file as it grows, across rotations,
//! until the container stops ([`Follower`]).
//!
//! ## The parts
//!
//! - [`encode`]: one entry as docker's bytes; times in RFC 3339;
//! - [`writer`]: [`LogWriter`], raw pipe chunks in, entries out, rotation;
//! - [`options`]: `--log-opt` read into [`LogOptions`](crate::container::LogOptions);
//! - [`reader`]: [`LogReader`] and [`Follower`]; [`watch`] wakes a follower when the
//!   directory changes;
//! - [`since`]: `--since` and `--until`.

pub mod encode;
pub mod options;
pub mod reader;
pub mod since;
pub mod watch;
pub mod writer;

pub use options::parse_log_options;
pub use reader::{Entry, Follower, LogReader, ReadOptions};
pub use since::parse_timestamp;
pub use writer::LogWriter;

/// Which of the container's streams a line came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Stream {
    /// Its standard output.
    Stdout,
    /// Its standard error.
    Stderr,
}

impl Stream {
    /// The name the log gives it.
    pub fn as_str(self) -> &'static str {
        match self {
            Stream::Stdout => "stdout",
            Stream::Stderr => "stderr",
        }
    }

    /// The stream a log names, if it is one.
    pub fn from_name(name: &str) -> Option<Stream> {
        match name {
            "stdout" => Some(Stream::Stdout),
            "stderr" => Some(Stream::Stderr),
            _ => None,
        }
    }
}
