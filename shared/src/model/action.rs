//! One vocabulary for what axiom-ops does: the policy's rules name an [`Action`], a decision asks
//! for one, the ledger records it and the notice's `action` attribute carries it. An [`Effect`] is
//! the concrete change an action makes to a service; an [`Outcome`] is how it went.
//!
//! Adding an action means adding a variant here and the arm `decide` and the adapters need.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    /// Force a new deployment of a service.
    Restart,
    /// Raise a service's desired count.
    ScaleOut,
    /// Give a service back the desired count it had before the incident.
    Restore,
    /// Announce only.
    Notify,
    /// Nothing is asked for (an OK, INSUFFICIENT_DATA).
    None,
    /// Deploy a task-definition revision with more memory (an out-of-memory kill).
    ScaleUp,
    /// Scheduled jobs' own actions, for their notices and records.
    Snapshot,
    Retention,
    Maintenance,
    Monitor,
    Rollback,
    Notice,
    /// A backup of configuration or a secret; a restore of one.
    Backup,
    /// The monthly restore drill.
    Drill,
}

impl Action {
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Restart => "restart",
            Action::ScaleOut => "scale_out",
            Action::Restore => "restore",
            Action::Notify => "notify",
            Action::None => "none",
            Action::ScaleUp => "scale_up",
            Action::Snapshot => "snapshot",
            Action::Retention => "retention",
            Action::Maintenance => "maintenance",
            Action::Monitor => "monitor",
            Action::Rollback => "rollback",
            Action::Notice => "notice",
            Action::Backup => "backup",
            Action::Drill => "drill",
        }
    }

    /// The actions that change a service (and so count for cooldowns and the circuit breaker).
    pub fn changes_service(self) -> bool {
        matches!(
            self,
            Action::Restart
                | Action::ScaleOut
                | Action::Restore
                | Action::Rollback
                | Action::ScaleUp
        )
    }
}

/// A change to an ECS service.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum Effect {
    /// Force a new deployment.
    Restart,
    /// Set the desired count.
    SetDesired { from: i32, to: i32 },
    /// Deploy an earlier task definition (a crash loop after a deployment).
    Rollback { from: String, to: String },
    /// Deploy a revision of `task_definition` with `to` MiB of task memory.
    ScaleUp {
        task_definition: String,
        from: i32,
        to: i32,
    },
}

/// The outcome of a decision, as recorded and announced.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    Done,
    DryRun,
    Suppressed,
    Failed,
    NoAction,
    /// The call was sent and no answer came: it may or may not have happened.
    Unknown,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Done => "done",
            Outcome::DryRun => "dry_run",
            Outcome::Suppressed => "suppressed",
            Outcome::Failed => "failed",
            Outcome::NoAction => "no_action",
            Outcome::Unknown => "unknown",
        }
    }

    /// The `outcome` attribute keeps to the published set: an unknown outcome is announced as
    /// `failed` (it did not verifiably succeed), and the text says it is unknown and retried.
    pub fn attribute(self) -> &'static str {
        match self {
            Outcome::Unknown => "failed",
            o => o.as_str(),
        }
    }
}
