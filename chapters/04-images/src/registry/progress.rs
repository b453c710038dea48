//! `pull`'s display, as docker's: a line per layer. Piped, each change of a layer's state is a
//! line of its own (`a1b2c3d4e5f6: Pull complete`). On a terminal, each layer keeps one line
//! that is redrawn in place, with a bar while it downloads:
//!
//! ```text
//! a1b2c3d4e5f6: Already exists
//! 0f3b7c2e91aa: Downloading [==================>                                ]  12.6MB/34.9MB
//! 77e0a18c3b4d: Waiting
//! ```
//!
//! Downloading and unpacking are one streamed pass here, so there is no separate
//! "Extracting" phase: when the last byte has arrived, the layer is unpacked too.

use std::io::{IsTerminal, Read, Write};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use ch03_union_fs::format::human_size;

use crate::load::{LayerEvent, Progress};

/// How often a terminal's lines are redrawn while bytes arrive.
const REDRAW: Duration = Duration::from_millis(100);
/// The bar's width in characters, as docker's.
const BAR: usize = 50;

/// One layer's line.
#[derive(Debug, Clone)]
struct Line {
    id: String,
    state: &'static str,
    done: u64,
    total: u64,
}

/// The display of one pull.
#[derive(Debug)]
pub struct Display {
    lines: Mutex<(Vec<Line>, Option<Instant>)>,
    terminal: bool,
}

impl Display {
    /// A display for layers of these short ids and sizes, on stdout.
    pub fn new(layers: Vec<(String, u64)>) -> Display {
        let lines = layers
            .into_iter()
            .map(|(id, total)| Line {
                id,
                state: "Pulling fs layer",
                done: 0,
                total,
            })
            .collect();
        Display {
            lines: Mutex::new((lines, None)),
            terminal: std::io::stdout().is_terminal(),
        }
    }

    /// Counts `n` more bytes of layer `index`; redraws now and then.
    fn add_bytes(&self, index: usize, n: u64) {
        let mut guard = self.lines.lock().expect("not poisoned");
        let (lines, drawn) = &mut *guard;
        lines[index].done += n;
        if self.terminal && drawn.is_none_or(|at| at.elapsed() >= REDRAW) {
            redraw(lines, drawn);
        }
    }

    /// A reader of layer `index` that counts its bytes into the display.
    pub fn counting<R: Read>(self: &Arc<Self>, index: usize, inner: R) -> Counting<R> {
        Counting {
            inner,
            display: Arc::clone(self),
            index,
        }
    }
}

impl Progress for Display {
    fn layer(&self, index: usize, event: LayerEvent) {
        let mut guard = self.lines.lock().expect("not poisoned");
        let (lines, drawn) = &mut *guard;
        let state = match event {
            LayerEvent::AlreadyExists => "Already exists",
            LayerEvent::Waiting => "Waiting",
            LayerEvent::Started => "Downloading",
            LayerEvent::Done => "Pull complete",
        };
        lines[index].state = state;
        if self.terminal {
            redraw(lines, drawn);
        } else if event != LayerEvent::Started {
            // Piped: a line per change, as docker prints them ("Waiting" reads "Pulling fs
            // layer" there).
            let shown = if event == LayerEvent::Waiting {
                "Pulling fs layer"
            } else {
                state
            };
            let _unprinted = writeln!(std::io::stdout().lock(), "{}: {shown}", lines[index].id);
        }
    }
}

/// Rewrites every layer's line: up to the first, then each line cleared and printed.
fn redraw(lines: &[Line], drawn: &mut Option<Instant>) {
    let mut out = std::io::stdout().lock();
    let mut text = String::new();
    if drawn.is_some() {
        text.push_str(&format!("\x1b[{}A", lines.len()));
    }
    for line in lines {
        text.push_str("\x1b[2K");
        text.push_str(&format!("{}: {}", line.id, line.state));
        if line.state == "Downloading" {
            text.push_str(&format!(" {}", bar(line.done, line.total)));
        }
        text.push('\n');
    }
    // A display that cannot be drawn (a closed terminal) does not fail the pull.
    let _unprinted = out.write_all(text.as_bytes()).and_then(|()| out.flush());
    *drawn = Some(Instant::now());
}

/// `[=====>     ]  12.6MB/34.9MB`
fn bar(done: u64, total: u64) -> String {
    let filled = (done.min(total) * BAR as u64)
        .checked_div(total)
        .unwrap_or(0) as usize;
    let mut bar = "=".repeat(filled);
    if filled < BAR {
        bar.push('>');
        bar.push_str(&" ".repeat(BAR - filled - 1));
    }
    format!("[{bar}] {:>7}/{}", human_size(done), human_size(total))
}

/// A reader that counts the bytes of one layer into a [`Display`].
#[derive(Debug)]
pub struct Counting<R> {
    inner: R,
    display: Arc<Display>,
    index: usize,
}

impl<R: Read> Read for Counting<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.display.add_bytes(self.index, n as u64);
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::bar;

    #[test]
    fn bars_as_docker_draws_them() {
        assert_eq!(bar(0, 100), format!("[>{}]      0B/100B", " ".repeat(49)));
        assert_eq!(
            bar(50, 100),
            format!("[{}>{}]     50B/100B", "=".repeat(25), " ".repeat(24))
        );
        assert_eq!(bar(100, 100), format!("[{}]    100B/100B", "=".repeat(50)));
    }
}
