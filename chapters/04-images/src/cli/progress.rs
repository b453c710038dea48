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
//!
//! The library sends [`PullEvent`]s; this module turns them into those lines.

use std::io::{IsTerminal, Write};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use dockyard_support::format::human_size;

use crate::load::{LayerEvent, LayerProgress};
use crate::registry::pull::PullEvent;

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

/// The display of one pull, on stdout.
#[derive(Debug)]
pub struct Display {
    lines: Mutex<(Vec<Line>, Option<Instant>)>,
    terminal: bool,
}

impl Default for Display {
    fn default() -> Self {
        Self::new()
    }
}

impl Display {
    /// A display on stdout: redrawn in place on a terminal, a line per change otherwise.
    pub fn new() -> Display {
        Display {
            lines: Mutex::new((Vec::new(), None)),
            terminal: std::io::stdout().is_terminal(),
        }
    }

    /// Shows one event of the pull.
    pub fn show(&self, event: PullEvent) {
        let mut guard = self.lines.lock().unwrap_or_else(|e| e.into_inner());
        let (lines, drawn) = &mut *guard;
        match event {
            PullEvent::Resolved {
                tag_or_digest,
                repository,
            } => print(&format!("{tag_or_digest}: Pulling from {repository}\n")),
            PullEvent::Layers(layers) => {
                *lines = layers
                    .into_iter()
                    .map(|layer| Line {
                        id: layer.short_id,
                        state: "Pulling fs layer",
                        done: 0,
                        total: layer.size,
                    })
                    .collect();
            }
            PullEvent::Downloaded { index, bytes } => {
                if let Some(line) = lines.get_mut(index) {
                    line.done += bytes;
                }
                if self.terminal && drawn.is_none_or(|at| at.elapsed() >= REDRAW) {
                    redraw(lines, drawn);
                }
            }
            PullEvent::Layer(progress) => self.layer(lines, drawn, progress),
        }
    }

    fn layer(&self, lines: &mut [Line], drawn: &mut Option<Instant>, progress: LayerProgress) {
        let LayerProgress { index, event } = progress;
        let Some(line) = lines.get_mut(index) else {
            return;
        };
        line.state = match event {
            LayerEvent::AlreadyExists => "Already exists",
            LayerEvent::Waiting => "Waiting",
            LayerEvent::Started => "Downloading",
            LayerEvent::Done => "Pull complete",
        };
        if self.terminal {
            redraw(lines, drawn);
        } else if event != LayerEvent::Started {
            // Piped: a line per change, as docker prints them ("Waiting" reads "Pulling fs
            // layer" there).
            let shown = if event == LayerEvent::Waiting {
                "Pulling fs layer"
            } else {
                line.state
            };
            print(&format!("{}: {shown}\n", line.id));
        }
    }
}

/// Writes to stdout; a display that cannot be drawn (a closed terminal) does not fail the pull.
fn print(text: &str) {
    let mut out = std::io::stdout().lock();
    let _unprinted = out.write_all(text.as_bytes()).and_then(|()| out.flush());
}

/// Rewrites every layer's line: up to the first, then each line cleared and printed.
fn redraw(lines: &[Line], drawn: &mut Option<Instant>) {
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
    print(&text);
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
