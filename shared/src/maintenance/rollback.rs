//! Rollback: the recorded counts back, scaling resumed, maintenance mode off (`steps`), and the
//! team told what failed and what was restored. Each step is idempotent and retried until it
//! succeeds.

use chrono::{DateTime, Utc};
use serde_json::json;

use super::job::MaintenanceJob;
use super::plan::report_text;
use super::window::{Phase, Step, Window};
use crate::model::{job_notice, Action, Outcome, Severity};
use crate::ports::{
    Alarms, Health, Ledger, Notifier, Parameters, Scaling, Services, Snapshots, Tasks,
};

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
    /// Rollback: the recorded counts back and scaling resumed, retried until it succeeds.
    pub(super) async fn restore_counts(&self, w: &mut Window) -> Step {
        let dry = w.dry_run;
        if dry || w.recorded.is_empty() {
            return Step::Done("nothing to restore".into());
        }
        match self.restore(w).await {
            Ok(said) => Step::Done(format!("restored {said}; scaling resumed")),
            Err(e) => Step::Failed(e),
        }
    }

    /// Rollback: what failed and what was restored; SEV1 once capacity had been cut.
    pub(super) async fn announce_rollback(&self, w: &mut Window, now: DateTime<Utc>) -> Step {
        let dry = w.dry_run;
        // Capacity was cut: that is an outage risk (SEV1). Before that, SEV2.
        let reached_scale_down =
            w.log.iter().any(|l| l.phase == Phase::ScaleDown.name()) || w.scaled_down;
        // A dry run changed nothing: its rollback never pages.
        let sev = if dry {
            Severity::Sev3
        } else if reached_scale_down {
            Severity::Sev1
        } else {
            Severity::Sev2
        };
        let failure = w.failure.clone().unwrap_or_else(|| "unknown".into());
        let outcome = if dry {
            Outcome::DryRun
        } else {
            Outcome::Failed
        };
        self.announce(
            dry,
            job_notice(
                sev,
                Action::Rollback,
                outcome,
                &self.policy.cluster,
                &format!("maintenance {} ROLLED BACK", w.id),
                &format!("What failed: {failure}\n\n{}", report_text(w, now)),
                json!({"window": w}),
            ),
        )
        .await;
        Step::Done("rollback announced".into())
    }

    /// Recorded counts back and scaling resumed, for every service recorded.
    pub(super) async fn restore(&self, w: &Window) -> Result<String, String> {
        let mut said = Vec::new();
        for t in self.targets() {
            let Some(r) = w.recorded.get(&t.service) else {
                continue;
            };
            self.ecs
                .set_desired(&t, r.desired)
                .await
                .map_err(|e| e.message)?;
            if let Some((lo, hi)) = r.scaling {
                self.scaling
                    .resume(&t, lo, hi)
                    .await
                    .map_err(|e| e.message)?;
            }
            said.push(format!("{} {}", t.service, r.desired));
        }
        Ok(said.join(", "))
    }
}
