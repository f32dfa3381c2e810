//! What `remediate` observes besides the service and its state: CloudWatch's live view of the
//! alarms, and whether the maintenance window holds changes.

use super::alarm::AlarmTransition;
use super::decide::Live;
use super::handler::{RemediateError, Remediator};
use super::state::TargetState;
use crate::ports::{Alarms, Ledger, Notifier, Parameters, Scaling, Services};
use crate::runtime::Invocation;

impl<S, A, C, P, L, N> Remediator<'_, S, A, C, P, L, N>
where
    S: Services,
    A: Alarms,
    C: Scaling,
    P: Parameters,
    L: Ledger,
    N: Notifier,
{
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
