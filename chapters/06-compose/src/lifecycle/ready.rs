//! How a monitor tells the command that started it that the container runs, or why it could
//! not start: one JSON line on a pipe, then the pipe closes. A monitor that dies before it
//! answers closes the pipe too, and the starter reads nothing: that is a failure as well.

use std::io::{Read, Write};
use std::os::fd::OwnedFd;

use dockyard_support::EngineError;
use dockyard_support::cli::{Invocation, status_of};
use serde::{Deserialize, Serialize};

use crate::error::Error;

/// The answer on the ready pipe.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Ready {
    /// The container's command runs.
    Started,
    /// It could not start.
    Failed {
        /// The error's line.
        message: String,
        /// Its hint.
        hint: Option<String>,
        /// The status `docker run` exits with for it (125, 126, 127).
        status: i32,
    },
}

impl Ready {
    /// The answer for `error`.
    pub fn failed(error: &Error) -> Ready {
        Ready::Failed {
            message: error.to_string(),
            hint: error.hint(),
            status: status_of(error, Invocation::Run),
        }
    }
}

/// Sends the answer and closes the pipe. A starter that went away is not the monitor's
/// problem: the answer is in the state file too.
pub fn send(pipe: OwnedFd, answer: &Ready) {
    let mut line = serde_json::to_vec(answer).expect("an answer serializes");
    line.push(b'\n');
    let _best_effort = std::fs::File::from(pipe).write_all(&line);
}

/// Reads the answer; the pipe's end without one means the monitor died first.
pub fn receive(pipe: OwnedFd) -> Ready {
    let mut text = String::new();
    let _ = std::fs::File::from(pipe).read_to_string(&mut text);
    serde_json::from_str(text.trim()).unwrap_or_else(|_| Ready::Failed {
        message: "the container's monitor ended before the container started".into(),
        hint: None,
        status: dockyard_support::error::exit_code::ENGINE_FAILURE,
    })
}
