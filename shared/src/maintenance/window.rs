//! The maintenance window as an explicit state machine, and its transitions as pure functions.
//!
//! Each invocation runs one phase's effect (idempotently) and reports a `Step`; `advance` turns
//! that into the next phase, the seconds to wait, or a rollback. Progress lives in the ledger, so
//! a crashed invocation resumes where it stopped.

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "phase", content = "index")]
pub enum Phase {
    EnableMode,
    Snapshot,
    Record,
    ScaleDown,
    Task(usize),
    Health,
    ScaleBack,
    DisableMode,
    Monitor,
    Report,
    Done,
    /// Put back the recorded counts and scaling.
    RestoreCounts,
    /// Maintenance mode off.
    RestoreMode,
    /// Say what failed and what was restored.
    AnnounceRollback,
    RolledBack,
}

impl Phase {
    pub fn name(self) -> String {
        match self {
            Phase::Task(i) => format!("task {}", i + 1),
            other => serde_json::to_value(other)
                .ok()
                .and_then(|v| {
                    v.get("phase")
                        .and_then(|p| p.as_str())
                        .map(|s| s.replace('_', " "))
                })
                .unwrap_or_default(),
        }
    }

    pub fn is_rollback(self) -> bool {
        matches!(
            self,
            Phase::RestoreCounts | Phase::RestoreMode | Phase::AnnounceRollback | Phase::RolledBack
        )
    }

    pub fn is_final(self) -> bool {
        matches!(self, Phase::Done | Phase::RolledBack)
    }

    /// Before the counts are back and the mode is off, reaching the cutoff rolls back. After,
    /// there is nothing left to undo.
    fn before_restoration(self) -> bool {
        matches!(
            self,
            Phase::EnableMode
                | Phase::Snapshot
                | Phase::Record
                | Phase::ScaleDown
                | Phase::Task(_)
                | Phase::Health
                | Phase::ScaleBack
        )
    }

    fn next(self, tasks: usize) -> Phase {
        match self {
            Phase::EnableMode => Phase::Snapshot,
            Phase::Snapshot => Phase::Record,
            Phase::Record => Phase::ScaleDown,
            Phase::ScaleDown if tasks == 0 => Phase::Health,
            Phase::ScaleDown => Phase::Task(0),
            Phase::Task(i) if i + 1 < tasks => Phase::Task(i + 1),
            Phase::Task(_) => Phase::Health,
            Phase::Health => Phase::ScaleBack,
            Phase::ScaleBack => Phase::DisableMode,
            Phase::DisableMode => Phase::Monitor,
            Phase::Monitor => Phase::Report,
            Phase::Report | Phase::Done => Phase::Done,
            Phase::RestoreCounts => Phase::RestoreMode,
            Phase::RestoreMode => Phase::AnnounceRollback,
            Phase::AnnounceRollback | Phase::RolledBack => Phase::RolledBack,
        }
    }
}

/// What one invocation's effect came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// The phase is complete.
    Done(String),
    /// Not yet: ask again in this many seconds.
    Wait(u64, String),
    /// The phase failed: roll back.
    Failed(String),
}

/// A service's state before the window: what scale-back and rollback restore.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Recorded {
    pub desired: i32,
    /// Application Auto Scaling (min, max), when the service is registered.
    pub scaling: Option<(i32, i32)>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LogEntry {
    pub phase: String,
    pub started: DateTime<Utc>,
    pub ended: DateTime<Utc>,
    pub outcome: String,
    pub detail: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Window {
    pub id: String,
    pub dry_run: bool,
    pub started: DateTime<Utc>,
    pub ends: DateTime<Utc>,
    pub cutoff: DateTime<Utc>,
    pub phase: Phase,
    pub phase_since: DateTime<Utc>,
    /// Checks made in the current phase (health tries, polls).
    pub attempts: u32,
    pub recorded: BTreeMap<String, Recorded>,
    /// Counts were changed: a rollback must restore them.
    pub scaled_down: bool,
    /// Maintenance mode was turned on: a rollback must turn it off.
    pub mode_on: bool,
    pub snapshot: Option<String>,
    /// The one-off task of the current task phase, once started.
    pub task: Option<String>,
    pub monitor_since: Option<DateTime<Utc>>,
    pub failure: Option<String>,
    pub warnings: Vec<String>,
    pub log: Vec<LogEntry>,
}

/// Limits that turn a long wait into a failure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    pub step_timeout: Duration,
    pub health_attempts: u32,
}

impl Window {
    pub fn new(
        id: String,
        started: DateTime<Utc>,
        duration: Duration,
        cutoff_before_end: Duration,
        dry_run: bool,
    ) -> Window {
        let ends = started + duration;
        Window {
            id,
            dry_run,
            started,
            ends,
            cutoff: ends - cutoff_before_end,
            phase: Phase::EnableMode,
            phase_since: started,
            attempts: 0,
            recorded: BTreeMap::new(),
            scaled_down: false,
            mode_on: false,
            snapshot: None,
            task: None,
            monitor_since: None,
            failure: None,
            warnings: Vec::new(),
            log: Vec::new(),
        }
    }

    /// Rollback, from wherever the window is, for `why`.
    pub fn fail(&mut self, why: String, now: DateTime<Utc>) {
        self.log.push(LogEntry {
            phase: self.phase.name(),
            started: self.phase_since,
            ended: now,
            outcome: "failed".into(),
            detail: why.clone(),
        });
        self.failure.get_or_insert(why);
        self.enter(Phase::RestoreCounts, now);
    }

    fn enter(&mut self, phase: Phase, now: DateTime<Utc>) {
        self.phase = phase;
        self.phase_since = now;
        self.attempts = 0;
        self.task = None;
    }
}

/// The cutoff, checked before any effect runs: past it, whatever is left is rolled back.
pub fn cutoff_reached(w: &Window, now: DateTime<Utc>) -> Option<String> {
    (w.phase.before_restoration() && now >= w.cutoff).then(|| {
        format!(
            "the cutoff {} (window end − {} min) was reached in {}",
            w.cutoff.format("%H:%M UTC"),
            (w.ends - w.cutoff).num_minutes(),
            w.phase.name()
        )
    })
}

/// Where the window goes after `step`. Returns the seconds to wait before the next invocation.
pub fn advance(
    w: &mut Window,
    step: Step,
    now: DateTime<Utc>,
    tasks: usize,
    limits: &Limits,
) -> u64 {
    if w.phase.is_final() {
        return 0;
    }
    match step {
        Step::Done(detail) => {
            w.log.push(LogEntry {
                phase: w.phase.name(),
                started: w.phase_since,
                ended: now,
                outcome: if w.dry_run {
                    "dry_run".into()
                } else {
                    "done".into()
                },
                detail,
            });
            let next = w.phase.next(tasks);
            w.enter(next, now);
            0
        }
        // A rollback step that fails is retried, never abandoned: the counts must come back.
        Step::Failed(why) if w.phase.is_rollback() => {
            w.attempts += 1;
            w.warnings.push(format!(
                "{} failed (try {}): {why}",
                w.phase.name(),
                w.attempts
            ));
            10
        }
        Step::Failed(why) => {
            w.fail(why, now);
            0
        }
        Step::Wait(secs, detail) => {
            w.attempts += 1;
            let waited = now - w.phase_since;
            let timed_out = match w.phase {
                Phase::Health => w.attempts >= limits.health_attempts,
                Phase::Monitor => false,
                p if p.is_rollback() => false,
                _ => waited >= limits.step_timeout,
            };
            if timed_out {
                let why = match w.phase {
                    Phase::Health => {
                        format!("health never turned 200 in {} tries: {detail}", w.attempts)
                    }
                    p => format!(
                        "{} did not finish within {} min: {detail}",
                        p.name(),
                        limits.step_timeout.num_minutes()
                    ),
                };
                w.fail(why, now);
                return 0;
            }
            secs
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(min: i64) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339("2026-12-06T02:00:00Z")
            .map(|d| d.with_timezone(&Utc))
            .expect("time")
            + Duration::minutes(min)
    }

    fn window() -> Window {
        Window::new(
            "2026-12-06".into(),
            t(0),
            Duration::hours(4),
            Duration::minutes(30),
            false,
        )
    }

    const LIMITS: Limits = Limits {
        step_timeout: Duration::minutes(45),
        health_attempts: 10,
    };

    #[test]
    fn the_happy_path_visits_every_phase_in_order() {
        let mut w = window();
        let mut seen = vec![w.phase];
        while !w.phase.is_final() {
            advance(
                &mut w,
                Step::Done("ok".into()),
                t(seen.len() as i64),
                2,
                &LIMITS,
            );
            seen.push(w.phase);
        }
        assert_eq!(
            seen,
            vec![
                Phase::EnableMode,
                Phase::Snapshot,
                Phase::Record,
                Phase::ScaleDown,
                Phase::Task(0),
                Phase::Task(1),
                Phase::Health,
                Phase::ScaleBack,
                Phase::DisableMode,
                Phase::Monitor,
                Phase::Report,
                Phase::Done
            ]
        );
        assert_eq!(w.log.len(), 11);
        assert!(w.failure.is_none());
    }

    /// Every step × success / failure / timeout.
    #[test]
    fn every_step_succeeds_fails_or_times_out() {
        let steps = [
            Phase::EnableMode,
            Phase::Snapshot,
            Phase::Record,
            Phase::ScaleDown,
            Phase::Task(0),
            Phase::Health,
            Phase::ScaleBack,
            Phase::DisableMode,
            Phase::Monitor,
            Phase::Report,
        ];
        for phase in steps {
            // success: the next phase
            let mut w = window();
            w.phase = phase;
            assert_eq!(
                advance(&mut w, Step::Done("ok".into()), t(1), 1, &LIMITS),
                0
            );
            assert_eq!(w.phase, phase.next(1), "{phase:?} done");

            // failure: rollback, failure kept
            let mut w = window();
            w.phase = phase;
            advance(&mut w, Step::Failed("boom".into()), t(1), 1, &LIMITS);
            assert_eq!(w.phase, Phase::RestoreCounts, "{phase:?} failed");
            assert_eq!(w.failure.as_deref(), Some("boom"));

            // waiting: stays, then times out into rollback (monitor ends by itself instead)
            let mut w = window();
            w.phase = phase;
            w.phase_since = t(0);
            assert_eq!(
                advance(&mut w, Step::Wait(30, "pending".into()), t(1), 1, &LIMITS),
                30
            );
            assert_eq!(w.phase, phase, "{phase:?} waits");
            let late = if phase == Phase::Health { t(2) } else { t(46) };
            if phase == Phase::Health {
                w.attempts = LIMITS.health_attempts - 1;
            }
            advance(&mut w, Step::Wait(30, "pending".into()), late, 1, &LIMITS);
            if phase == Phase::Monitor {
                assert_eq!(w.phase, Phase::Monitor, "monitor has no timeout");
            } else {
                assert_eq!(w.phase, Phase::RestoreCounts, "{phase:?} timed out");
                assert!(w.failure.as_deref().is_some_and(
                    |f| f.contains("did not finish") || f.contains("never turned 200")
                ));
            }
        }
    }

    #[test]
    fn rollback_runs_to_the_end_and_retries_its_own_failures() {
        let mut w = window();
        w.phase = Phase::Health;
        advance(&mut w, Step::Failed("health 503".into()), t(10), 1, &LIMITS);
        assert_eq!(w.phase, Phase::RestoreCounts);
        assert_eq!(
            advance(
                &mut w,
                Step::Failed("ECS throttled".into()),
                t(11),
                1,
                &LIMITS
            ),
            10
        );
        assert_eq!(w.phase, Phase::RestoreCounts, "a failed restore is retried");
        advance(&mut w, Step::Done("restored".into()), t(12), 1, &LIMITS);
        advance(&mut w, Step::Done("mode off".into()), t(13), 1, &LIMITS);
        assert_eq!(w.phase, Phase::AnnounceRollback);
        advance(&mut w, Step::Done("announced".into()), t(14), 1, &LIMITS);
        assert_eq!(w.phase, Phase::RolledBack);
        assert_eq!(
            w.failure.as_deref(),
            Some("health 503"),
            "the first failure is what is reported"
        );
        // Final: nothing more happens.
        assert_eq!(
            advance(&mut w, Step::Failed("late".into()), t(15), 1, &LIMITS),
            0
        );
        assert_eq!(w.phase, Phase::RolledBack);
    }

    #[test]
    fn the_cutoff_applies_until_the_service_is_restored() {
        let mut w = window();
        w.phase = Phase::Health;
        assert!(cutoff_reached(&w, t(209)).is_none());
        assert!(cutoff_reached(&w, t(210)).is_some_and(|m| m.contains("05:30 UTC")));
        w.phase = Phase::Monitor;
        assert!(
            cutoff_reached(&w, t(230)).is_none(),
            "after restoration there is nothing to roll back"
        );
        w.phase = Phase::RestoreCounts;
        assert!(cutoff_reached(&w, t(230)).is_none());
    }

    #[test]
    fn without_tasks_scale_down_goes_to_health() {
        assert_eq!(Phase::ScaleDown.next(0), Phase::Health);
    }
}
