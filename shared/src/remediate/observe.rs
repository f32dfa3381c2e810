//! What `remediate` observes besides the target's state: the service (ECS, and Application Auto
//! Scaling's bounds), CloudWatch's live view of the alarms, and whether the maintenance window
//! holds changes.

use super::alarm::AlarmTransition;
use super::decide::Live;
use super::handler::{Ports, RemediateError, Remediator};
use super::state::TargetState;
use crate::model::{ServiceStatus, Target};
use crate::ports::{Alarms, Parameters, Scaling, Services};
use crate::runtime::Invocation;

impl<X: Ports> Remediator<'_, X> {
    /// The service as ECS describes it, with its scalable target's bounds; `None` when ECS does
    /// not know it.
    pub(super) async fn service(
        &self,
        target: &Target,
        stored: &TargetState,
    ) -> Result<Option<ServiceStatus>, RemediateError> {
        let failed = |error| RemediateError::Observe {
            target: target.to_string(),
            error,
        };
        let Some(mut observed) = self.services.describe(target).await.map_err(failed)? else {
            return Ok(None);
        };
        if self.dry_run && !self.preview {
            // A shadow run sees the service as if its earlier would-be changes had been made,
            // so its whole sequence (scale out, cooldown, restore) is the live one. (A
            // preview reads the live state, whose changes were made.)
            if let Some(n) = stored.incident.as_ref().and_then(|i| i.last_set_desired) {
                observed.desired = n;
            }
        }
        observed.scaling = self.scaling.bounds(target).await.map_err(failed)?;
        Ok(Some(observed))
    }

    /// Why the maintenance window holds changes now: its parameter is `on` (a parameter that
    /// does not exist is off), or a live window is in progress in the ledger.
    pub(super) async fn window(&self, inv: &Invocation) -> Result<Option<String>, RemediateError> {
        let Some(mp) = &self.policy.maintenance else {
            return Ok(None);
        };
        let mode = self
            .parameters
            .get(&mp.parameter)
            .await
            .map_err(RemediateError::Parameter)?;
        if mode.as_deref() == Some("on") {
            return Ok(Some(format!("{} is on", mp.parameter)));
        }
        crate::maintenance::live::in_progress(&self.ledger, inv.now)
            .await
            .map_err(RemediateError::Ledger)
    }

    /// What CloudWatch says now about the alarm and every alarm of the target's incident.
    pub(super) async fn live(
        &self,
        a: &AlarmTransition,
        stored: &TargetState,
    ) -> Result<Live, RemediateError> {
        if !self.policy.guards.verify_alarms {
            return Ok(Live::Unverified);
        }
        let mut names = std::collections::BTreeSet::from([a.alarm_name.clone()]);
        if let Some(inc) = &stored.incident {
            names.extend(inc.fired.iter().cloned());
        }
        let names: Vec<String> = names.into_iter().collect();
        let statuses = self
            .alarms
            .describe(&names)
            .await
            .map_err(RemediateError::Verify)?;
        Ok(Live::of(statuses))
    }
}
