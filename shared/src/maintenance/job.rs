//! The maintenance job over its ports: one step of the window per invocation. Read the window's
//! progress from the ledger, run the current phase's step (`steps`, `rollback`), let `window`
//! decide what comes next, write the progress back conditionally.

use chrono::{DateTime, Utc};
use serde::de::IgnoredAny;
use serde::Deserialize;
use serde_json::{json, Value};

use super::plan::{next_window, planned_steps};
use super::window::{advance, cutoff_reached, Limits, Phase, Step, Window};
use crate::model::{
    clip, job_notice, keys_of, printable, quote, Action, Notification, Outcome, Severity, Target,
    QUOTE_MAX,
};
use crate::policy::duration::chrono as dur;
use crate::policy::{MaintenancePolicy, Policy};
use crate::ports::{
    Alarms, Health, Ledger, Notifier, Parameters, PortError, Scaling, Services, Snapshots, Tasks,
};
use crate::runtime::{Caught, Failure, Invocation};
use crate::versioned::{self, Attempt};

/// The ledger partition of maintenance windows.
pub const PK: &str = "maintenance";

#[derive(Debug, thiserror::Error)]
pub enum MaintenanceError {
    #[error("not a maintenance event: {0}")]
    Input(String),
    #[error("ledger: {0}")]
    Ledger(PortError),
    #[error("{0}: the window's progress kept changing under us; retry")]
    Contention(String),
}

impl Failure for MaintenanceError {
    fn kind(&self) -> &'static str {
        match self {
            MaintenanceError::Input(_) => "ParseError",
            MaintenanceError::Ledger(_) => "LedgerUnavailable",
            MaintenanceError::Contention(_) => "Contention",
        }
    }
}

/// What the state machine (or a schedule) sends — and nothing else: an input of another shape
/// (an alarm event sent here by mistake) or with a key we do not know is refused before anything
/// changes. The loop passes each step's output back, so those keys are known (and not acted on).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct Input {
    #[serde(default)]
    action: Option<String>,
    #[serde(default)]
    window: Option<String>,
    #[serde(default)]
    dry_run: bool,
    #[serde(default)]
    rollback: bool,
    /// What the state machine caught, added by its Catch (`ResultPath: $.error`).
    #[serde(default)]
    error: Option<Caught>,
    // The previous step's output, carried round the loop.
    #[serde(default, rename = "phase")]
    _phase: Option<IgnoredAny>,
    #[serde(default, rename = "done")]
    _done: Option<IgnoredAny>,
    #[serde(default, rename = "rolled_back")]
    _rolled_back: Option<IgnoredAny>,
    #[serde(default, rename = "wait_seconds")]
    _wait_seconds: Option<IgnoredAny>,
    #[serde(default, rename = "failure")]
    _failure: Option<IgnoredAny>,
}

const EXPECTED_INPUT: &str = "expected one of the maintenance function's inputs: {} (start or \
next step), {\"window\": \"2026-12-06\"}, {\"action\": \"notice\"}, {\"dry_run\": true}, or the \
state machine's {\"rollback\": true, \"error\": {…}} (see events/maintenance-*.json)";

/// The ports the window needs, for one invocation.
pub struct MaintenanceJob<'a, E, R, S, P, A, H, L, N> {
    pub policy: &'a Policy,
    pub ecs: E,
    pub rds: R,
    pub scaling: S,
    pub parameters: P,
    pub alarms: A,
    pub health: H,
    pub ledger: L,
    pub notifier: N,
    pub dry_run: bool,
}

impl<E, R, S, P, A, H, L, N> MaintenanceJob<'_, E, R, S, P, A, H, L, N>
where
    E: Services + Tasks,
    R: Snapshots,
    S: Scaling,
    P: Parameters,
    A: Alarms,
    H: Health,
    L: Ledger,
    N: Notifier,
{
    fn maintenance(&self) -> Result<&MaintenancePolicy, MaintenanceError> {
        self.policy.maintenance.as_ref().ok_or_else(|| {
            MaintenanceError::Input("the policy has no [maintenance] section".into())
        })
    }

    pub(super) fn targets(&self) -> Vec<Target> {
        self.policy
            .services
            .iter()
            .map(|s| Target::new(self.policy.cluster.clone(), s.name.clone()))
            .collect()
    }

    pub async fn handle(
        &self,
        payload: &Value,
        inv: &Invocation,
    ) -> Result<Value, MaintenanceError> {
        if !payload.is_object() {
            return Err(MaintenanceError::Input(format!(
                "{EXPECTED_INPUT}; got {}",
                keys_of(payload)
            )));
        }
        let input: Input = serde_json::from_value(payload.clone()).map_err(|e| {
            MaintenanceError::Input(format!(
                "{EXPECTED_INPUT}; got {} ({})",
                keys_of(payload),
                clip(&printable(&e.to_string()), QUOTE_MAX)
            ))
        })?;
        let mp = self.maintenance()?;
        match input.action.as_deref() {
            None | Some("step") => {}
            Some("notice") => {
                return Ok(self
                    .notice(mp, inv.now, self.dry_run || input.dry_run)
                    .await)
            }
            Some(other) => {
                return Err(MaintenanceError::Input(format!(
                    "action {} is not notice or step",
                    quote(other)
                )))
            }
        }
        let dry_run = self.dry_run || input.dry_run;
        let id = input
            .window
            .unwrap_or_else(|| inv.now.format("%Y-%m-%d").to_string());
        let sk = format!("window#{id}{}", if dry_run { "#dry_run" } else { "" });
        let limits = Limits {
            step_timeout: dur(mp.step_timeout),
            health_attempts: mp.health_attempts,
        };
        let won = versioned::until_written(|| async {
            let stored = versioned::load::<Window, _>(&self.ledger, PK, &sk)
                .await
                .map_err(MaintenanceError::Ledger)?;
            let (mut w, version) = match stored {
                Some((w, v)) => (w, Some(v)),
                None => (
                    Window::new(
                        id.clone(),
                        inv.now,
                        dur(mp.duration),
                        dur(mp.cutoff_before_end),
                        dry_run,
                    ),
                    None,
                ),
            };
            let wait = if input.rollback && !w.phase.is_rollback() && !w.phase.is_final() {
                let what = input
                    .error
                    .as_ref()
                    .map(Caught::said)
                    .filter(|s| !s.is_empty())
                    .unwrap_or_else(|| "an error in a step".into());
                w.fail(
                    format!("the state machine caught {what}: rolling back"),
                    inv.now,
                );
                0
            } else if let Some(why) = cutoff_reached(&w, inv.now) {
                w.fail(why, inv.now);
                0
            } else {
                let step = self.execute(&mut w, mp, inv.now).await;
                tracing::info!(window = %w.id, phase = %w.phase.name(), step = ?step, "maintenance step");
                advance(&mut w, step, inv.now, mp.tasks.len(), &limits)
            };
            if !versioned::save(&self.ledger, PK, &sk, &w, version)
                .await
                .map_err(MaintenanceError::Ledger)?
            {
                return Ok(Attempt::Lost);
            }
            Ok(Attempt::Won(json!({
                "window": w.id,
                "dry_run": dry_run,
                "phase": w.phase.name(),
                "done": w.phase.is_final(),
                "rolled_back": w.phase == Phase::RolledBack,
                "wait_seconds": wait,
                "failure": w.failure,
            })))
        })
        .await?;
        won.ok_or(MaintenanceError::Contention(id))
    }

    /// Runs the current phase's step.
    async fn execute(&self, w: &mut Window, mp: &MaintenancePolicy, now: DateTime<Utc>) -> Step {
        match w.phase {
            Phase::EnableMode => self.enable_mode(w, mp).await,
            Phase::Snapshot => self.snapshot(w, mp).await,
            Phase::Record => self.record(w, mp).await,
            Phase::ScaleDown => self.scale_down(w, mp).await,
            Phase::Task(i) => self.task(w, mp, i).await,
            Phase::Health => self.health(mp).await,
            Phase::ScaleBack => self.scale_back(w).await,
            Phase::DisableMode | Phase::RestoreMode => self.mode_off(w, mp).await,
            Phase::Monitor => self.monitor(w, mp, now).await,
            Phase::Report => self.report(w, now).await,
            Phase::RestoreCounts => self.restore_counts(w).await,
            Phase::AnnounceRollback => self.announce_rollback(w, now).await,
            Phase::Done | Phase::RolledBack => Step::Done("finished".into()),
        }
    }

    /// Seven days ahead: the window's date, duration and steps.
    async fn notice(&self, mp: &MaintenancePolicy, now: DateTime<Utc>, dry: bool) -> Value {
        let start = next_window(now);
        let steps = planned_steps(self.policy, mp);
        let headline = format!(
            "maintenance window {} {}–{} UTC",
            start.format("%a %Y-%m-%d"),
            start.format("%H:%M"),
            (start + dur(mp.duration)).format("%H:%M")
        );
        self.announce(dry, job_notice(Severity::Sev4, Action::Notice, Outcome::NoAction, &self.policy.cluster, &headline, &format!("AxiomCore maintenance of {}, up to {} h.\n\nSteps:\n{}", self.policy.cluster, mp.duration.as_secs() / 3600, steps.join("\n")), json!({"window_start": start.to_rfc3339(), "duration_seconds": mp.duration.as_secs(), "steps": steps})))
        .await;
        json!({"notice": headline, "window_start": start.to_rfc3339()})
    }

    /// A notice that cannot be sent is logged: it never stops the window or its rollback.
    /// A dry run's notice is marked as one (`dry`: the window's own flag, which its input sets).
    pub(super) async fn announce(&self, dry: bool, n: Notification) {
        let mut n = n;
        if dry {
            n = n.marked_dry_run();
        }
        if let Err(e) = self.notifier.publish(&n).await {
            tracing::error!(error = %e, subject = %n.subject, "notification not sent");
        }
    }
}
