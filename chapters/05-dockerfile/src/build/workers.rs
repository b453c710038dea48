//! Stages that do not need each other, built at the same time.
//!
//! In `FROM golang AS server … FROM node AS ui … FROM scratch; COPY --from=server …; COPY
//! --from=ui …`, the first two stages share nothing: one can build while the other does. A
//! builder cannot use threads for that here: a `RUN` clones a container, and chapter 01
//! clones only from a process with one thread. So the extra stages are built in *worker
//! processes*, forks of the builder made while it has one thread:
//!
//! ```text
//!  builder ── fork ──▶ worker: builds stage "ui"; its containers print into a memory file;
//!     │                        its events and the stage's end state go into another
//!     │ builds stage "server" itself, printing as it goes
//!     ▼
//!  waits for the worker, replays its events (and what its containers printed) in the
//!  stages' order, takes its end state; then the stage that copies from both
//! ```
//!
//! The earliest stage that can be built is built by the builder itself, so its output is
//! live; the others' is held until the stages before them have been shown, so the output
//! reads as if the stages had been built one after the other, in file order.
//!
//! A worker shares the builder's store (its layers and cache entries are written with the
//! same locks a second build would take) and its mount namespace. It ends with `_exit`:
//! none of the builder's destructors (the context's scratch directory, say) may run twice.

use std::fs::File;
use std::io::{Read, Seek, SeekFrom, Write};
use std::os::fd::{AsRawFd, OwnedFd};
use std::sync::Mutex;

use dockyard_support::FromIo;
use dockyard_support::Sink;
use nix::sys::signal::{Signal, kill};
use nix::sys::wait::{WaitStatus, waitpid};
use nix::unistd::{ForkResult, Pid, fork};
use serde::{Deserialize, Serialize};

use super::BuildEvent;
use super::state::StageState;
use super::steps::Builder;
use crate::error::{Error, Result};

/// A stage being built in a worker process.
#[derive(Debug)]
pub struct Worker {
    /// The worker.
    pub pid: Pid,
    /// The stage it builds.
    pub stage: usize,
    /// Where it leaves its report.
    report: File,
}

/// What a worker leaves: the events of its stage, then how it ended.
#[derive(Debug, Serialize, Deserialize)]
pub struct Report {
    /// The stage's events, with what its containers printed in between.
    pub events: Vec<BuildEvent>,
    /// Its end state, or why it failed.
    pub outcome: Outcome,
}

/// How a worker's stage ended.
#[derive(Debug, Serialize, Deserialize)]
pub enum Outcome {
    /// Built: its last state.
    Built(Box<StageState>),
    /// Failed: a `RUN`'s command (and its status), or anything else.
    Failed {
        /// The command of a failed `RUN`, and its status.
        run: Option<(String, i32)>,
        /// The error's line.
        message: String,
        /// Its hint.
        hint: Option<String>,
    },
}

impl Outcome {
    /// The error a failed stage ends the build with.
    pub fn into_result(self) -> Result<StageState> {
        match self {
            Outcome::Built(state) => Ok(*state),
            Outcome::Failed {
                run: Some((command, code)),
                ..
            } => Err(Error::RunFailed { command, code }),
            Outcome::Failed { message, hint, .. } => Err(Error::Build { message, hint }),
        }
    }
}

/// The events of a stage built in a worker, with what its containers printed (standard
/// output and error both point at `output`) taken in between, so they stay in order.
struct Capture {
    output: File,
    taken: Mutex<(u64, Vec<BuildEvent>)>,
}

impl Capture {
    /// What was printed since the last look, as an event.
    fn take_output(&self, state: &mut (u64, Vec<BuildEvent>)) {
        let mut printed = Vec::new();
        let mut output = &self.output;
        if output.seek(SeekFrom::Start(state.0)).is_ok() && output.read_to_end(&mut printed).is_ok()
        {
            state.0 += printed.len() as u64;
            if !printed.is_empty() {
                state.1.push(BuildEvent::Output(printed));
            }
        }
    }
}

impl Sink<BuildEvent> for Capture {
    fn send(&self, event: BuildEvent) {
        let mut state = self
            .taken
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        self.take_output(&mut state);
        state.1.push(event);
    }
}

impl<'a> Builder<'a> {
    // ANCHOR: start_worker
    /// Starts building stage `index` in a worker process.
    pub fn start_worker(&self, index: usize) -> Result<Worker> {
        super::namespace::wait_for_one_thread()?;
        let output = memory_file("stage output")?;
        let report = memory_file("stage report")?;
        // SAFETY: the builder has one thread (just checked); the worker runs the same
        // single-threaded code the builder would, and ends in `_exit`.
        match unsafe { fork() }.map_err(|e| Error::io_op("fork a worker")(e.into()))? {
            ForkResult::Parent { child } => Ok(Worker {
                pid: child,
                stage: index,
                report,
            }),
            ForkResult::Child => {
                let code = self.work(index, output, report);
                // SAFETY: ends the worker without running the builder's destructors.
                unsafe { libc::_exit(code) }
            }
        }
    }
    // ANCHOR_END: start_worker

    /// The worker's side: build the stage, write the report; the exit status.
    fn work(&self, index: usize, output: File, mut report: File) -> i32 {
        for target in [1, 2] {
            // SAFETY: the worker's own standard descriptors, pointed at its output file.
            unsafe { libc::dup2(output.as_raw_fd(), target) };
        }
        let capture = Capture {
            output,
            taken: Mutex::new((0, Vec::new())),
        };
        let mut worker = self.with_events(&capture);
        worker.step = self.plan.steps_before[index];
        let outcome = match worker.build_stage(index) {
            Ok(state) => Outcome::Built(Box::new(state)),
            Err(error) => Outcome::Failed {
                run: match &error {
                    Error::RunFailed { command, code } => Some((command.clone(), *code)),
                    _ => None,
                },
                message: error.to_string(),
                hint: dockyard_support::EngineError::hint(&error),
            },
        };
        let mut taken = capture
            .taken
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        capture.take_output(&mut taken);
        let report_json = serde_json::to_vec(&Report {
            events: std::mem::take(&mut taken.1),
            outcome,
        })
        .expect("a report serializes");
        match report.write_all(&report_json) {
            Ok(()) => 0,
            Err(_) => 1,
        }
    }
}

impl Worker {
    /// Waits for the worker to end, and reads its report.
    pub fn finish(mut self) -> Report {
        let ended = loop {
            match waitpid(self.pid, None) {
                Err(nix::errno::Errno::EINTR) => continue,
                other => break other,
            }
        };
        let mut json = Vec::new();
        let read = self
            .report
            .seek(SeekFrom::Start(0))
            .and_then(|_| self.report.read_to_end(&mut json));
        match (read, serde_json::from_slice::<Report>(&json)) {
            (Ok(_), Ok(report)) => report,
            _ => Report {
                events: Vec::new(),
                outcome: Outcome::Failed {
                    run: None,
                    message: format!(
                        "the worker building stage {} ended without a report ({ended:?})",
                        self.stage
                    ),
                    hint: None,
                },
            },
        }
    }

    /// Asks the worker to stop (as Ctrl-C would) and waits for it: another stage failed.
    pub fn cancel(self) {
        let _already_gone = kill(self.pid, Signal::SIGINT);
        let _ = loop {
            match waitpid(self.pid, None) {
                Ok(WaitStatus::StillAlive) | Err(nix::errno::Errno::EINTR) => continue,
                other => break other,
            }
        };
    }
}

/// An anonymous file in memory, for a worker to write into and the builder to read.
fn memory_file(name: &str) -> Result<File> {
    let fd: OwnedFd = nix::sys::memfd::memfd_create(name, nix::sys::memfd::MFdFlags::MFD_CLOEXEC)
        .map_err(|e| Error::io_op("create a memory file")(e.into()))?;
    Ok(File::from(fd))
}

impl Builder<'_> {
    // ANCHOR: build_planned
    /// Builds the planned stages, those that do not need each other at the same time, and
    /// returns the target's last state.
    pub fn build_planned(&mut self) -> Result<StageState> {
        let order = self.plan.order.clone();
        // One worker per core besides the builder: a RUN often waits (on a download, a
        // compiler's disk) more than it computes.
        let workers_at_most = std::thread::available_parallelism().map_or(1, |n| n.get());
        let mut waiting = order.clone();
        let mut running: Vec<Worker> = Vec::new();
        let mut shown = Shown::default();
        while shown.count < order.len() {
            let ready: Vec<usize> = waiting
                .iter()
                .copied()
                .filter(|stage| {
                    self.plan.needs[*stage]
                        .iter()
                        .all(|need| self.is_built(*need))
                })
                .collect();
            // The earliest ready stage is built here, live, once every stage before it is
            // shown; others go to workers while there are cores for them.
            let live = ready
                .first()
                .copied()
                .filter(|stage| order[shown.count] == *stage);
            for &stage in ready.iter().filter(|stage| Some(**stage) != live) {
                if running.len() >= workers_at_most {
                    break;
                }
                running.push(self.start_worker(stage)?);
                waiting.retain(|waiting| *waiting != stage);
            }
            let ended = match live {
                Some(stage) => {
                    waiting.retain(|waiting| *waiting != stage);
                    self.step = self.plan.steps_before[stage];
                    self.build_stage(stage).map(|_| shown.count += 1)
                }
                None => self.collect(running.remove(0), &mut shown),
            };
            if let Err(error) = ended {
                running.into_iter().for_each(Worker::cancel);
                return Err(error);
            }
            shown.show_held(self, &order);
        }
        self.stage_state(*order.last().expect("a plan ends with its target"))
    }
    // ANCHOR_END: build_planned

    /// Waits for `worker`, takes its stage's state and holds its events to be shown in turn.
    fn collect(&mut self, worker: Worker, shown: &mut Shown) -> Result<()> {
        let stage = worker.stage;
        let report = worker.finish();
        match report.outcome.into_result() {
            Ok(state) => {
                self.built.push((stage, state));
                shown.held.push((stage, report.events));
                // Its cache entries were written by the worker: read them too.
                self.cache = crate::cache::Cache::open(self.store.root())?;
                Ok(())
            }
            Err(error) => {
                report.events.into_iter().for_each(|event| self.say(event));
                Err(error)
            }
        }
    }

    fn is_built(&self, stage: usize) -> bool {
        self.built.iter().any(|(built, _)| *built == stage)
    }
}

/// How far the output has got: stages shown, in order, and the events of stages built
/// by workers ahead of their turn.
#[derive(Debug, Default)]
struct Shown {
    count: usize,
    held: Vec<(usize, Vec<BuildEvent>)>,
}

impl Shown {
    /// Shows the held stages whose turn it is.
    fn show_held(&mut self, builder: &Builder<'_>, order: &[usize]) {
        while let Some(position) = order
            .get(self.count)
            .and_then(|next| self.held.iter().position(|(stage, _)| stage == next))
        {
            let (_, events) = self.held.remove(position);
            events.into_iter().for_each(|event| builder.say(event));
            self.count += 1;
        }
    }
}
