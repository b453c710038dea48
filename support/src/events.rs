//! Where a library sends what happens while it works.
//!
//! A pull takes seconds and the user wants to watch it; a daemon streams the same progress to
//! its client as JSON; a test wants to check it. So a library never prints: it sends typed
//! events to a [`Sink`] that its caller gives it, and the caller decides what they become. A
//! command line renders them as `docker` does, a daemon serializes them, a test records them
//! ([`Recorder`]).

use std::sync::Mutex;

// ANCHOR: sink
/// Takes the events of type `E` that a library sends while it works. Any `Fn(E)` closure is
/// one; several threads may send at once (a pull unpacks layers in parallel).
pub trait Sink<E>: Sync {
    /// Takes one event.
    fn send(&self, event: E);
}

impl<E, F: Fn(E) + Sync> Sink<E> for F {
    fn send(&self, event: E) {
        self(event)
    }
}
// ANCHOR_END: sink

/// A sink that drops every event: for callers that only want the result.
#[derive(Debug, Clone, Copy, Default)]
pub struct Discard;

impl<E> Sink<E> for Discard {
    fn send(&self, _event: E) {}
}

/// A sink that keeps every event, in order, for a test to look at.
#[derive(Debug)]
pub struct Recorder<E> {
    events: Mutex<Vec<E>>,
}

impl<E> Default for Recorder<E> {
    fn default() -> Self {
        Recorder {
            events: Mutex::new(Vec::new()),
        }
    }
}

impl<E> Recorder<E> {
    /// An empty recorder.
    pub fn new() -> Self {
        Self::default()
    }

    /// The events received so far, taken out of the recorder.
    pub fn take(&self) -> Vec<E> {
        std::mem::take(&mut *self.events.lock().unwrap_or_else(|e| e.into_inner()))
    }
}

impl<E: Send> Sink<E> for Recorder<E> {
    fn send(&self, event: E) {
        self.events
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(event);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn work(sink: &dyn Sink<u32>) {
        sink.send(1);
        sink.send(2);
    }

    #[test]
    fn closures_recorders_and_discard_are_sinks() {
        let recorder = Recorder::new();
        work(&recorder);
        assert_eq!(recorder.take(), [1, 2]);
        let sum = std::sync::atomic::AtomicU32::new(0);
        work(&|n| {
            sum.fetch_add(n, std::sync::atomic::Ordering::Relaxed);
        });
        assert_eq!(sum.into_inner(), 3);
        work(&Discard);
    }
}
