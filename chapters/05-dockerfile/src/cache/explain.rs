//! Why a step was not taken from the cache: the question `build --explain` answers.
//!
//! The cache holds every step that ever followed a given state. When none of them matches,
//! the nearest one says what is different: the same instruction with different inputs (a
//! context file, a build argument), or another instruction in that place.

use std::fmt;

use super::{Cache, Inputs};

// ANCHOR: miss
/// Why a step's key was not in the cache.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Miss {
    /// `--no-cache`.
    Disabled,
    /// The step before was not taken from the cache, so this one follows a new state.
    PreviousRebuilt,
    /// No step ever followed this state.
    NeverBuilt,
    /// Another instruction followed this state last time.
    InstructionChanged {
        /// That instruction.
        was: String,
    },
    /// The same instruction followed this state, reading something else.
    InputsChanged {
        /// What differs: the input's name, its value then and now (`None`: absent).
        changes: Vec<(String, Option<String>, Option<String>)>,
    },
}

impl Cache {
    /// Why `inputs`, after the step `previous`, is not in the cache; `previous_hit` says
    /// whether that step was itself taken from the cache.
    pub fn explain_miss(&self, previous: &str, previous_hit: bool, inputs: &Inputs) -> Miss {
        if !previous_hit {
            return Miss::PreviousRebuilt;
        }
        let after: Vec<_> = self.after(previous).collect();
        let same_instruction = after
            .iter()
            .rev()
            .find(|entry| entry.inputs.instruction == inputs.instruction);
        match (same_instruction, after.last()) {
            (Some(entry), _) => Miss::InputsChanged {
                changes: differences(&entry.inputs, inputs),
            },
            (None, Some(entry)) => Miss::InstructionChanged {
                was: entry.inputs.instruction.clone(),
            },
            (None, None) => Miss::NeverBuilt,
        }
    }
}
// ANCHOR_END: miss

/// The reads that differ between `then` and `now`, by name.
fn differences(then: &Inputs, now: &Inputs) -> Vec<(String, Option<String>, Option<String>)> {
    let names: std::collections::BTreeSet<&String> =
        then.reads.keys().chain(now.reads.keys()).collect();
    names
        .into_iter()
        .filter(|name| then.reads.get(*name) != now.reads.get(*name))
        .map(|name| {
            (
                name.clone(),
                then.reads.get(name).cloned(),
                now.reads.get(name).cloned(),
            )
        })
        .collect()
}

impl fmt::Display for Miss {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Miss::Disabled => write!(f, "--no-cache"),
            Miss::PreviousRebuilt => write!(f, "the step before it was rebuilt"),
            Miss::NeverBuilt => write!(f, "no step ever followed the step before it"),
            Miss::InstructionChanged { was } => write!(f, "the instruction changed (was: {was})"),
            Miss::InputsChanged { changes } => {
                let described: Vec<String> = changes.iter().map(describe).collect();
                write!(f, "{}", described.join(", "))
            }
        }
    }
}

/// `context file app.txt changed`, `build argument V changed (1 → 2)`.
fn describe((name, then, now): &(String, Option<String>, Option<String>)) -> String {
    let (kind, name) = name.split_once(':').unwrap_or(("input", name));
    let what = match kind {
        "file" => format!("context file {name}"),
        "arg" => format!("build argument {name}"),
        "from" => format!("stage {name}"),
        other => format!("{other} {name}"),
    };
    match (then, now) {
        (None, Some(_)) => format!("{what} is new"),
        (Some(_), None) => format!("{what} is gone"),
        (Some(then), Some(now)) if kind == "arg" => format!("{what} changed ({then} → {now})"),
        _ => format!("{what} changed"),
    }
}

#[cfg(test)]
mod tests {
    use super::super::{Entry, Inputs, key};
    use super::*;

    fn inputs(instruction: &str, reads: &[(&str, &str)]) -> Inputs {
        Inputs::new(instruction, reads)
    }

    fn cache_with(previous: &str, then: &Inputs) -> (tempfile::TempDir, Cache) {
        let dir = tempfile::tempdir().unwrap();
        let mut cache = Cache::open(dir.path()).unwrap();
        cache
            .record(Entry {
                key: key(previous, then),
                previous: previous.into(),
                inputs: then.clone(),
                created: String::new(),
                layer: None,
            })
            .unwrap();
        (dir, cache)
    }

    #[test]
    fn a_changed_file_is_named() {
        let then = inputs("COPY", &[("file:a", "1"), ("file:b", "2"), ("arg:V", "1")]);
        let (_dir, cache) = cache_with("p", &then);
        let now = inputs("COPY", &[("file:a", "1"), ("file:c", "3"), ("arg:V", "2")]);
        let miss = cache.explain_miss("p", true, &now);
        assert_eq!(
            miss.to_string(),
            "build argument V changed (1 → 2), context file b is gone, context file c is new"
        );
    }

    #[test]
    fn another_instruction_or_a_new_state_is_said_so() {
        let (_dir, cache) = cache_with("p", &inputs("ENV A=1", &[]));
        let now = inputs("ENV A=2", &[]);
        assert_eq!(
            cache.explain_miss("p", true, &now).to_string(),
            "the instruction changed (was: ENV A=1)"
        );
        assert_eq!(cache.explain_miss("q", true, &now), Miss::NeverBuilt);
        assert_eq!(cache.explain_miss("p", false, &now), Miss::PreviousRebuilt);
    }
}
