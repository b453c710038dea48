//! The cgroup as a step of chapter 01's run: created while the child waits to be released and
//! joined before the command starts (by the engine on v2; on v1 by the child itself, its first
//! act once released, which is far cheaper: see [`Cgroup::self_join_files`]), then read and
//! removed after the container ended.

use std::path::PathBuf;

use ch01_namespaces::{Narrator, Step, StepError};
use nix::unistd::Pid;

use crate::cgroup::Cgroup;
use crate::error::Result;
use crate::limits::Features;
use crate::limits::Limits;
use crate::stats::Stats;

/// What the cgroup saw, read just before it was removed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    /// Processes the OOM killer killed.
    pub oom_kills: u64,
    /// The final counters, when asked for with [`CgroupStep::features`].
    pub stats: Option<Stats>,
}

/// Puts the container into a new cgroup with `limits`.
#[derive(Debug)]
pub struct CgroupStep {
    root: PathBuf,
    parent: String,
    name: String,
    limits: Limits,
    features: Features,
    cgroup: Option<Cgroup>,
    /// Where the child joins the group itself, when it does (see [`Cgroup::self_join_files`]).
    self_join: Vec<PathBuf>,
    outcome: Option<Outcome>,
}

impl CgroupStep {
    /// A step creating `parent/name` (name: the container's id) under the cgroup root.
    pub fn new(root: impl Into<PathBuf>, parent: &str, name: &str, limits: Limits) -> Self {
        CgroupStep {
            root: root.into(),
            parent: parent.to_string(),
            name: name.to_string(),
            limits,
            features: Features::default(),
            cgroup: None,
            self_join: Vec::new(),
            outcome: None,
        }
    }

    /// Asks the group for more than its limits: the final counters in [`Outcome::stats`],
    /// or freezing (see [`Features`]).
    pub fn features(mut self, features: Features) -> Self {
        self.features = features;
        self
    }

    /// The limits it applies.
    pub fn limits(&self) -> &Limits {
        &self.limits
    }

    /// What the cgroup saw, once the container ended.
    pub fn outcome(&self) -> Option<&Outcome> {
        self.outcome.as_ref()
    }

    // ANCHOR: finish
    /// Reads what the caller asked for, then removes the group.
    fn finish(&mut self, cgroup: &Cgroup, n: &Narrator) -> Result<()> {
        // The counters go with the group: read what the caller needs before removing it.
        let stats = self.features.stats.then(|| cgroup.stats()).transpose()?;
        self.outcome = Some(Outcome {
            oom_kills: cgroup.oom_kills()?,
            stats,
        });
        cgroup.remove(n)
    }
    // ANCHOR_END: finish
}

// ANCHOR: step
impl Step for CgroupStep {
    fn name(&self) -> &str {
        "cgroup"
    }

    fn setup(&mut self, child: Pid, n: &Narrator) -> Result<(), StepError> {
        let cgroup = Cgroup::create(
            &self.root,
            &self.parent,
            &self.name,
            &self.limits,
            self.features,
            n,
        )?;
        match cgroup.self_join_files() {
            // The child writes these first thing once released (see `child_writes`).
            Some(files) => self.self_join = files,
            None => {
                if let Err(error) = cgroup.attach(child.as_raw(), n) {
                    // Not set up, so not torn down by the engine: remove it here.
                    let _cleanup = cgroup.remove(n);
                    return Err(error.into());
                }
            }
        }
        self.cgroup = Some(cgroup);
        Ok(())
    }

    fn child_writes(&self) -> Vec<(PathBuf, String)> {
        self.self_join
            .iter()
            .map(|file| (file.clone(), "0".to_string()))
            .collect()
    }

    fn teardown(&mut self, n: &Narrator) -> Result<(), StepError> {
        self.self_join.clear();
        let Some(cgroup) = self.cgroup.take() else {
            return Ok(());
        };
        let finished = self.finish(&cgroup, n);
        if finished.is_err() {
            // Still try to remove it: a leftover cgroup is the one thing this step must avoid.
            let _second_try = cgroup.remove(n);
        }
        Ok(finished?)
    }
}
// ANCHOR_END: step
