//! What the ledger remembers about one target between invocations: the open incident and the
//! recent actions that cooldowns and the circuit breaker count. It is a versioned ledger document
//! at `target#<cluster>/<service>`, `state` (`state#dry_run` for dry runs).

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

use crate::model::{key_part, Action, Effect, Outcome, Severity, Target};
use crate::ports::{Ledger, Mode, PortError};
use crate::versioned;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ActionStatus {
    /// Reserved in the ledger; the AWS call is being made.
    Pending,
    Done,
    Unknown,
    Failed,
}

/// An action taken (or being taken) on the target.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ActionRecord {
    /// `Restart`, `ScaleOut` or `Restore`.
    pub kind: Action,
    pub at: DateTime<Utc>,
    pub event_key: String,
    pub effect: Effect,
    pub status: ActionStatus,
    /// Why, as decided when it was reserved: a retry that finds it done announces this.
    #[serde(default)]
    pub reason: String,
    /// Application Auto Scaling bounds set with it: a retry sets them too.
    #[serde(default)]
    pub bounds: Option<(i32, i32)>,
}

impl ActionRecord {
    /// Whether it counts for cooldowns and the circuit breaker: anything that may have happened.
    pub fn counts(&self) -> bool {
        self.status != ActionStatus::Failed
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TimelineEntry {
    pub at: DateTime<Utc>,
    pub what: String,
    pub outcome: Outcome,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Incident {
    pub id: String,
    pub opened_at: DateTime<Utc>,
    /// The desired count before the incident: what a close restores.
    pub pre_incident_desired: i32,
    /// Alarms of this incident still in ALARM; the incident closes when this is empty.
    pub firing: BTreeSet<String>,
    /// Every alarm that fired during the incident.
    pub fired: BTreeSet<String>,
    pub severity: Severity,
    pub circuit_open: bool,
    /// The desired count we last set: a close restores only if nobody has changed it since.
    pub last_set_desired: Option<i32>,
    pub timeline: Vec<TimelineEntry>,
    /// Timeline entries dropped from the middle to keep the ledger item (400 KB) and the close
    /// notice (SNS 256 KB) bounded through a long, flapping incident.
    #[serde(default)]
    pub elided: u32,
    /// Application Auto Scaling's (min, max) before our first scale-out raised the minimum:
    /// what the close puts back.
    #[serde(default)]
    pub scaling_before: Option<(i32, i32)>,
    /// When axiom-ops first handled it (its time to detect is measured from `opened_at`).
    #[serde(default)]
    pub detected_at: Option<DateTime<Utc>>,
    #[serde(default)]
    pub rolled_back: bool,
    #[serde(default)]
    pub scaled_up: bool,
    /// What the evidence said, each finding once, for the post-mortem.
    #[serde(default)]
    pub diagnoses: Vec<(DateTime<Utc>, String)>,
}

/// A human's "hands off": nothing is changed on the target until `until`, or a resume.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Pause {
    /// The caller's AWS identity.
    pub by: String,
    pub reason: String,
    pub since: DateTime<Utc>,
    pub until: DateTime<Utc>,
}

/// Entries an incident keeps: the first ones (how it started) and the latest.
pub const TIMELINE_MAX: usize = 60;
pub const TIMELINE_HEAD: usize = 10;

/// Distinct findings an incident keeps.
pub const DIAGNOSES_MAX: usize = 10;

impl Incident {
    /// Remembers a finding, unless it is the one already remembered last.
    pub fn diagnosed(&mut self, at: DateTime<Utc>, finding: String) {
        if self.diagnoses.last().map(|(_, f)| f) != Some(&finding)
            && self.diagnoses.len() < DIAGNOSES_MAX
        {
            self.diagnoses.push((at, finding));
        }
    }

    pub fn note(&mut self, entry: TimelineEntry) {
        self.timeline.push(entry);
        if self.timeline.len() > TIMELINE_MAX {
            self.timeline.remove(TIMELINE_HEAD);
            self.elided += 1;
        }
    }
}

/// The ledger partition of a target: its state and its decisions. Bounded: a target named by an
/// event's dimensions may be anything up to DynamoDB's own limits.
pub fn target_pk(target: &Target) -> String {
    format!("target#{}", key_part(&target.to_string()))
}

/// The sort key of a target's state; a dry run keeps its own.
pub fn state_sk(mode: Mode) -> &'static str {
    match mode {
        Mode::Live => "state",
        Mode::DryRun => "state#dry_run",
    }
}

/// A target's state with the version it was read at (`None`: never written).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Stored {
    pub state: TargetState,
    pub version: Option<u64>,
}

/// A target's state as the ledger holds it; a target never seen has the default state.
pub async fn load<L: Ledger>(ledger: &L, mode: Mode, target: &Target) -> Result<Stored, PortError> {
    let stored = versioned::load(ledger, &target_pk(target), state_sk(mode)).await?;
    Ok(
        stored.map_or_else(Stored::default, |(state, version)| Stored {
            state,
            version: Some(version),
        }),
    )
}

/// Writes a target's state if the stored version is still `expected`; `Ok(false)` when another
/// invocation wrote first.
pub async fn save<L: Ledger>(
    ledger: &L,
    mode: Mode,
    target: &Target,
    state: &TargetState,
    expected: Option<u64>,
) -> Result<bool, PortError> {
    versioned::save(ledger, &target_pk(target), state_sk(mode), state, expected).await
}

/// Applies `f` to the target's state, written (only if nobody wrote first, else read afresh and
/// applied again) when `f` says it changed something. `Ok(Some(changed))`, or `Ok(None)` when the
/// state kept changing under us.
pub async fn update<L: Ledger>(
    ledger: &L,
    mode: Mode,
    target: &Target,
    f: impl Fn(&mut TargetState) -> bool,
) -> Result<Option<bool>, PortError> {
    versioned::until_written(|| async {
        let Stored { mut state, version } = load(ledger, mode, target).await?;
        if !f(&mut state) {
            return Ok(versioned::Attempt::Won(false));
        }
        Ok(if save(ledger, mode, target, &state, version).await? {
            versioned::Attempt::Won(true)
        } else {
            versioned::Attempt::Lost
        })
    })
    .await
}

/// The per-target state in the ledger. `Default` is a target never seen before.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TargetState {
    pub incident: Option<Incident>,
    pub actions: Vec<ActionRecord>,
    pub last_suppression_notice: Option<DateTime<Utc>>,
    /// The newest state change handled per alarm (by `key_part` of its name): an older one
    /// arriving late (a DLQ replay, a retry) is superseded.
    #[serde(default)]
    pub seen: BTreeMap<String, DateTime<Utc>>,
    #[serde(default)]
    pub pause: Option<Pause>,
    /// The hold (a pause, a maintenance window) last announced: each is announced once.
    #[serde(default)]
    pub hold_announced: Option<String>,
    /// Closed incidents whose post-mortem draft is not stored yet: written with the close, the
    /// close's retry or the reconcile tick, whichever gets there.
    #[serde(default)]
    pub postmortems_owed: Vec<OwedPostMortem>,
}

/// What a post-mortem draft is rendered from, kept until it is stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OwedPostMortem {
    pub incident: Incident,
    pub resolved: DateTime<Utc>,
    /// The closing decision's reason.
    pub closing: String,
}

/// Drafts owed per target at most; the oldest goes first (the ledger still has its incident).
pub const OWED_MAX: usize = 5;

/// The actions that start a new deployment of the service.
pub const DEPLOYS: [Action; 3] = [Action::Restart, Action::Rollback, Action::ScaleUp];

/// Alarms a target's `seen` remembers; the oldest are forgotten first.
pub const SEEN_MAX: usize = 64;

impl TargetState {
    /// Counting actions of `kind` since `since`.
    pub fn count_since(&self, kind: Action, since: DateTime<Utc>) -> usize {
        self.actions
            .iter()
            .filter(|a| a.kind == kind && a.counts() && a.at > since)
            .count()
    }

    pub fn last(&self, kind: Action) -> Option<&ActionRecord> {
        self.actions
            .iter()
            .filter(|a| a.kind == kind && a.counts())
            .max_by_key(|a| a.at)
    }

    /// The newest change of `alarm` handled so far.
    pub fn seen(&self, alarm: &str) -> Option<DateTime<Utc>> {
        self.seen.get(&key_part(alarm)).copied()
    }

    /// Remembers a change of `alarm` at `at` as handled, if it is the newest.
    pub fn saw(&mut self, alarm: &str, at: DateTime<Utc>) {
        let e = self.seen.entry(key_part(alarm)).or_insert(at);
        *e = (*e).max(at);
        while self.seen.len() > SEEN_MAX {
            let oldest = self
                .seen
                .iter()
                .min_by_key(|(_, t)| **t)
                .map(|(k, _)| k.clone());
            match oldest {
                Some(k) => self.seen.remove(&k),
                None => break,
            };
        }
    }

    /// Owes the post-mortem of a closed incident.
    pub fn owe(&mut self, owed: OwedPostMortem) {
        self.postmortems_owed
            .retain(|o| o.incident.id != owed.incident.id);
        self.postmortems_owed.push(owed);
        if self.postmortems_owed.len() > OWED_MAX {
            self.postmortems_owed.remove(0);
        }
    }

    /// Marks the action reserved by `event_key` as not done (a retry that will not redo it).
    pub fn give_up(&mut self, event_key: &str) {
        let mut undone = None;
        if let Some(a) = self.actions.iter_mut().find(|a| a.event_key == event_key) {
            a.status = ActionStatus::Failed;
            undone = Some(a.effect.clone());
        }
        if let Some(e) = undone {
            self.not_done(&e);
        }
    }

    /// A rollback or scale-up that did not happen does not use up its one chance per incident.
    pub fn not_done(&mut self, effect: &Effect) {
        if let Some(inc) = self.incident.as_mut() {
            match effect {
                Effect::Rollback { .. } => inc.rolled_back = false,
                Effect::ScaleUp { .. } => inc.scaled_up = false,
                _ => {}
            }
        }
    }

    /// The newest change that deploys the service anew (a restart, a rollback, a scale-up): they
    /// share the restart cooldown and the circuit breaker.
    pub fn last_deploy(&self) -> Option<&ActionRecord> {
        DEPLOYS
            .iter()
            .filter_map(|k| self.last(*k))
            .max_by_key(|a| a.at)
    }

    /// Deployments (restarts, rollbacks, scale-ups) counted since `since`.
    pub fn deploys_since(&self, since: DateTime<Utc>) -> usize {
        DEPLOYS.iter().map(|k| self.count_since(*k, since)).sum()
    }

    pub fn action_for(&self, event_key: &str) -> Option<&ActionRecord> {
        self.actions.iter().find(|a| a.event_key == event_key)
    }

    /// Drops action records older than `keep`, except unfinished ones of the last day, which a
    /// retry may still need to finish.
    pub fn prune(&mut self, now: DateTime<Utc>, keep: Duration) {
        let finished_cutoff = now - keep;
        let unfinished_cutoff = now - Duration::days(1).max(keep);
        self.actions.retain(|a| match a.status {
            ActionStatus::Pending | ActionStatus::Unknown => a.at > unfinished_cutoff,
            ActionStatus::Done | ActionStatus::Failed => a.at > finished_cutoff,
        });
    }

    /// Writes the outcome of an action back after the AWS call.
    pub fn settle(
        &mut self,
        event_key: &str,
        outcome: Outcome,
        effect: Option<Effect>,
        now: DateTime<Utc>,
        what: &str,
    ) {
        let status = match outcome {
            Outcome::Done | Outcome::DryRun => ActionStatus::Done,
            Outcome::Failed => ActionStatus::Failed,
            Outcome::Unknown => ActionStatus::Unknown,
            Outcome::Suppressed | Outcome::NoAction => return,
        };
        // A change confirmed on retry carries no new effect: the record's own effect is the one.
        let mut effect = effect;
        if let Some(a) = self.actions.iter_mut().find(|a| a.event_key == event_key) {
            if a.status == status && status == ActionStatus::Done {
                // Settled already (a retry after a later step failed): its timeline has it.
                return;
            }
            a.status = status;
            effect = effect.or(Some(a.effect.clone()));
        }
        if let (Some(e), ActionStatus::Failed) = (&effect, status) {
            self.not_done(e);
        }
        if let Some(inc) = self.incident.as_mut() {
            if let (Some(Effect::SetDesired { to, .. }), ActionStatus::Done) = (&effect, status) {
                let to = *to;
                inc.last_set_desired = Some(to);
            }
            inc.note(TimelineEntry {
                at: now,
                what: what.to_owned(),
                outcome,
            });
        }
    }
}
