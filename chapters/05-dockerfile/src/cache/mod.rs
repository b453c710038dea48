//! # The build cache: why an unchanged rebuild is nearly free
//!
//! Every step of a build turns a *state* (the image so far) into the next one. If the state
//! before a step is the same as last time, and the step is the same, and what it reads is the
//! same, its result is the same: the builder can take last time's result instead of doing the
//! work again. That is the whole idea; the art is in saying "the same" precisely.
//!
//! Each step has a *key*, a digest of three things:
//!
//! ```text
//!   key(step n) = sha256( key(step n-1)          the state before: every earlier step
//!                       , the instruction          expanded, as its history entry says it
//!                       , its inputs )             ARGs it sees, content of files it copies
//! ```
//!
//! Because each key contains the one before it, a key names the whole chain of steps that led
//! to it: change one context file and the `COPY` that takes it gets a new key, and so does
//! every step after it, while the steps before keep theirs. The first key of a stage is made
//! from its base: the image's id, `scratch`, or the key of the stage it builds on.
//!
//! The cache maps keys to what the step made: the layer a `RUN` or `COPY` stored (by its
//! digests: the layer itself is in the image store) and the time it was made, so that a
//! rebuild writes the same history and so gets the same image id. Config-only steps (`ENV`,
//! `LABEL`…) are recorded too, for their time.
//!
//! The cache is a file in the store, `build-cache.jsonl`, one entry per line, appended as
//! steps finish: a build interrupted half-way keeps what it finished, and a torn last line
//! (a crash in mid-write) is skipped on reading.
//!
//! A miss can be explained (`build --explain`): the entries with the same previous key say
//! whether the instruction changed, or which input did; no entry at all means the step
//! before was rebuilt (or the step never ran).

mod explain;

pub use explain::Miss;

use std::collections::{BTreeMap, HashMap};
use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};

use ch04_images::Digest;
use ch04_images::oci::Descriptor;
use dockyard_support::FromIo;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

// ANCHOR: key
/// What a step's result depends on, besides the steps before it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Inputs {
    /// The instruction, expanded: its history entry (`/bin/sh -c #(nop)  ENV A=1`).
    pub instruction: String,
    /// What else it reads, by name: `arg:NAME` → value for the build arguments a `RUN`
    /// sees, `file:PATH` → digest for each file a `COPY` takes, `from:STAGE` → key.
    pub reads: BTreeMap<String, String>,
}

impl Inputs {
    /// Inputs from borrowed pairs: `Inputs::new("ENV A=1", &[("arg:V", "1")])`.
    pub fn new(instruction: &str, reads: &[(&str, &str)]) -> Inputs {
        Inputs {
            instruction: instruction.to_owned(),
            reads: reads
                .iter()
                .map(|(name, value)| (name.to_string(), value.to_string()))
                .collect(),
        }
    }
}

/// A step's key: the previous step's key, and this step's inputs.
pub fn key(previous: &str, inputs: &Inputs) -> String {
    let mut text = format!("{previous}\n{}\n", inputs.instruction);
    for (name, value) in &inputs.reads {
        text.push_str(&format!("{name}={value}\n"));
    }
    Digest::sha256_of(text.as_bytes()).encoded().to_owned()
}
// ANCHOR_END: key

/// What a step made, as the cache keeps it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entry {
    /// The step's key.
    pub key: String,
    /// The key of the step before.
    pub previous: String,
    /// What went into the key besides `previous`.
    pub inputs: Inputs,
    /// When the step ran (its history entry's time).
    pub created: String,
    /// The layer it made, if it made one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub layer: Option<CachedLayer>,
}

/// A layer a step made: enough to put it in a manifest and a config again.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CachedLayer {
    /// The blob, as the manifest names it.
    pub descriptor: Descriptor,
    /// The digest of its uncompressed tar (the config's `diff_ids`).
    pub diff_id: Digest,
    /// Bytes of uncompressed tar, for the image's size.
    pub size: u64,
}

/// The cache of one store: every entry, by key and by previous key.
#[derive(Debug, Clone, Default)]
pub struct Cache {
    path: PathBuf,
    by_key: HashMap<String, Entry>,
    by_previous: HashMap<String, Vec<String>>,
}

impl Cache {
    /// Reads the cache of the store at `root` (empty if there is none yet).
    pub fn open(root: &Path) -> Result<Cache> {
        let path = root.join("build-cache.jsonl");
        let mut cache = Cache {
            path: path.clone(),
            ..Cache::default()
        };
        let file = match File::open(&path) {
            Ok(file) => file,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(cache),
            Err(e) => return Err(Error::io("read the build cache", &path)(e)),
        };
        for line in BufReader::new(file).lines() {
            let line = line.map_err(Error::io("read the build cache", &path))?;
            // A line cut short by a crash is not an entry: skip it.
            if let Ok(entry) = serde_json::from_str::<Entry>(&line) {
                cache.insert(entry);
            }
        }
        Ok(cache)
    }

    /// The entry for `key`, if a step with that key ran before.
    pub fn get(&self, key: &str) -> Option<&Entry> {
        self.by_key.get(key)
    }

    /// Records a step's result, in memory and at the end of the file.
    pub fn record(&mut self, entry: Entry) -> Result<()> {
        let mut line = serde_json::to_vec(&entry).expect("an entry serializes");
        line.push(b'\n');
        OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.path)
            .and_then(|mut file| file.write_all(&line))
            .map_err(Error::io("write the build cache", &self.path))?;
        self.insert(entry);
        Ok(())
    }

    fn insert(&mut self, entry: Entry) {
        let siblings = self.by_previous.entry(entry.previous.clone()).or_default();
        if !siblings.contains(&entry.key) {
            siblings.push(entry.key.clone());
        }
        self.by_key.insert(entry.key.clone(), entry);
    }

    /// The entries of steps that came after the step `previous`, oldest first.
    fn after(&self, previous: &str) -> impl Iterator<Item = &Entry> {
        self.by_previous
            .get(previous)
            .into_iter()
            .flatten()
            .filter_map(|key| self.by_key.get(key))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use Inputs as I;

    fn inputs(instruction: &str, reads: &[(&str, &str)]) -> Inputs {
        I::new(instruction, reads)
    }

    #[test]
    fn a_key_covers_the_chain_the_instruction_and_the_inputs() {
        let run = inputs("/bin/sh -c make", &[("arg:V", "1")]);
        let base = key("base", &run);
        assert_eq!(base, key("base", &run.clone()));
        assert_ne!(base, key("other", &run));
        assert_ne!(
            base,
            key("base", &inputs("/bin/sh -c make", &[("arg:V", "2")]))
        );
        assert_ne!(
            base,
            key("base", &inputs("/bin/sh -c make all", &[("arg:V", "1")]))
        );
    }

    #[test]
    fn entries_survive_reopening_and_a_torn_line_is_skipped() {
        let dir = tempfile::tempdir().unwrap();
        let mut cache = Cache::open(dir.path()).unwrap();
        let entry = Entry {
            key: "k1".into(),
            previous: "k0".into(),
            inputs: inputs("ENV A=1", &[]),
            created: "2026-12-03T00:00:00Z".into(),
            layer: None,
        };
        cache.record(entry.clone()).unwrap();
        let mut file = OpenOptions::new()
            .append(true)
            .open(dir.path().join("build-cache.jsonl"))
            .unwrap();
        file.write_all(b"{\"key\":\"k2\",\"prev").unwrap();
        let cache = Cache::open(dir.path()).unwrap();
        assert_eq!(cache.get("k1"), Some(&entry));
        assert!(cache.get("k2").is_none());
        assert_eq!(cache.after("k0").count(), 1);
    }
}
