//! `logs [-f] [--tail N] [--since T] [--until T] [-t] CONTAINER`: what a container wrote, from
//! its json-file log. Its stdout's lines go to stdout and its stderr's to stderr, as docker
//! shows a container without a terminal; `-f` keeps printing what it writes until it stops.

use std::io::{BufWriter, Stderr, Stdout, Write};
use std::process::ExitCode;

use ch04_images::cli::{Context, Globals};
use clap::Args;
use dockyard_support::FromIo;
use dockyard_support::cli::{Invocation, exit_code, print_error, report};
use dockyard_support::clock::now_ns;
use dockyard_support::process::alive;

use crate::container::{Paths, RunState, Status, read_json};
use crate::error::{Error, Result};
use crate::log::encode::format_time_fixed;
use crate::log::{Entry, Follower, LogReader, ReadOptions, Stream, parse_timestamp};

/// `logs`' arguments, as docker's.
#[derive(Debug, Args)]
pub struct LogsArgs {
    /// Follow log output
    #[arg(short, long)]
    follow: bool,

    /// Show logs since timestamp (e.g. "2013-01-02T13:23:37Z") or relative (e.g. "42m" for
    /// 42 minutes)
    #[arg(long, value_name = "TIME")]
    since: Option<String>,

    /// Number of lines to show from the end of the logs
    #[arg(short = 'n', long, value_name = "N", default_value = "all")]
    tail: String,

    /// Show timestamps
    #[arg(short, long)]
    timestamps: bool,

    /// Show logs before a timestamp (e.g. "2013-01-02T13:23:37Z") or relative (e.g. "42m" for
    /// 42 minutes)
    #[arg(long, value_name = "TIME")]
    until: Option<String>,

    /// Container name or id
    container: String,
}

/// Runs `logs` and ends as docker does.
pub fn execute(program: &str, globals: &Globals, args: &LogsArgs) -> ExitCode {
    match args.execute(program, globals) {
        Ok(status) => exit_code(status),
        Err(error) => report(program, &error, Invocation::Other),
    }
}

impl LogsArgs {
    fn execute(&self, program: &str, globals: &Globals) -> Result<i32> {
        let cx = Context::open(program, globals)?;
        let containers = cx.store.containers();
        let record = containers.find(&self.container)?;
        let paths = Paths::new(containers, &record.id);
        let options = match self.read_options() {
            Ok(options) => options,
            // Docker's client refuses a time it cannot read with status 1 (the engine's
            // failures are 125).
            Err(error) => {
                print_error(program, &error);
                return Ok(1);
            }
        };
        let mut output = Output::new(self.timestamps);
        let reader = LogReader::open(&paths.log(), &options)?;
        let unreadable = if self.follow {
            let mut follower = Follower::new(reader, || has_stopped(&paths));
            while let Some(batch) = follower.next_batch()? {
                if !output.show(&batch)? {
                    return Ok(0);
                }
            }
            follower.reader().unreadable_lines()
        } else {
            let mut reader = reader;
            while let Some(batch) = reader.next_batch()? {
                if !output.show(&batch)? {
                    return Ok(0);
                }
            }
            reader.unreadable_lines()
        };
        if unreadable > 0 {
            eprintln!(
                "{program}: warning: skipped {unreadable} line(s) of {} that are not log entries",
                paths.log().display()
            );
        }
        Ok(0)
    }

    /// `--tail`, `--since` and `--until` as the reader takes them.
    fn read_options(&self) -> Result<ReadOptions> {
        let now = now_ns();
        // Docker's client sends an empty time as no time at all.
        let moment = |what, value: &Option<String>| match value.as_deref() {
            None | Some("") => Ok(None),
            Some(value) => parse_timestamp(what, value, now).map(Some),
        };
        Ok(ReadOptions {
            tail: tail_count(&self.tail),
            since_ns: moment("since", &self.since)?,
            until_ns: moment("until", &self.until)?,
        })
    }
}

/// `--tail`: `all`, or how many entries. Docker's daemon shows everything for anything that
/// is not a number of zero or more.
/// Prints what the container `paths` names writes from now on (or, with `since_ns`, since
/// then) until it stops: what `attach` and `start -a` show of a container without stdin.
pub fn follow_output(paths: &Paths, since_ns: Option<i64>) -> Result<()> {
    let options = ReadOptions {
        tail: if since_ns.is_some() { None } else { Some(0) },
        since_ns,
        until_ns: None,
    };
    let reader = LogReader::open(&paths.log(), &options)?;
    let mut output = Output::new(false);
    let mut follower = Follower::new(reader, || has_stopped(paths));
    while let Some(batch) = follower.next_batch()? {
        if !output.show(&batch)? {
            return Ok(());
        }
    }
    Ok(())
}

pub(crate) fn tail_count(text: &str) -> Option<usize> {
    text.parse::<i64>()
        .ok()
        .and_then(|n| usize::try_from(n).ok())
}

/// Whether the container has stopped, for `-f`: its monitor says it is neither running nor
/// about to restart, or the monitor itself is gone (killed before it could say so). A
/// container without a state never ran.
pub(crate) fn has_stopped(paths: &Paths) -> bool {
    match read_json::<RunState>(&paths.state()) {
        Ok(state) => {
            // As docker's, following ends when the container stops, even if its restart
            // policy will start it again.
            state.status != Status::Running || state.monitor_pid.is_some_and(|pid| !alive(pid))
        }
        Err(_) => true,
    }
}

/// Where entries go: stdout's to stdout and stderr's to stderr, each buffered; the other
/// stream is flushed whenever the stream changes, so that a terminal showing both shows
/// them in the order they were written.
struct Output {
    stdout: BufWriter<Stdout>,
    stderr: BufWriter<Stderr>,
    last: Option<Stream>,
    timestamps: bool,
}

impl Output {
    fn new(timestamps: bool) -> Output {
        Output {
            stdout: BufWriter::new(std::io::stdout()),
            stderr: BufWriter::new(std::io::stderr()),
            last: None,
            timestamps,
        }
    }

    /// Prints a batch of entries and flushes them; `false` if the reader of our output has
    /// gone (`logs | head`), which ends the command quietly.
    fn show(&mut self, batch: &[Entry]) -> Result<bool> {
        let shown = batch
            .iter()
            .try_for_each(|entry| self.entry(entry))
            .and_then(|()| self.stdout.flush())
            .and_then(|()| self.stderr.flush());
        match shown {
            Ok(()) => Ok(true),
            Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(false),
            Err(e) => Err(Error::io_op("write the log out")(e)),
        }
    }

    fn entry(&mut self, entry: &Entry) -> std::io::Result<()> {
        if self.last.is_some_and(|last| last != entry.stream) {
            match entry.stream {
                Stream::Stdout => self.stderr.flush()?,
                Stream::Stderr => self.stdout.flush()?,
            }
        }
        self.last = Some(entry.stream);
        let out: &mut dyn Write = match entry.stream {
            Stream::Stdout => &mut self.stdout,
            Stream::Stderr => &mut self.stderr,
        };
        if self.timestamps {
            write!(out, "{} ", format_time_fixed(entry.time_ns))?;
        }
        out.write_all(entry.log.as_bytes())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tail_reads_as_docker_reads_it() {
        assert_eq!(tail_count("all"), None);
        assert_eq!(tail_count("0"), Some(0));
        assert_eq!(tail_count("10"), Some(10));
        assert_eq!(tail_count("-1"), None);
        assert_eq!(tail_count("ten"), None);
    }
}
