//! The reconcile tick (a schedule, every 5 minutes): what events missed, read from the live state
//! instead of waiting for an event that may never come.
//!
//! For every allowlisted service with an open incident: each firing alarm CloudWatch says is OK
//! is handled as the OK transition it missed (same key as the real event, so whichever comes
//! second is a duplicate; the last one closes and restores); an incident open longer than
//! `incident_max_age` is announced once. Then every kept notice whose invocation died before
//! sending it is sent. Every step goes through a claim: concurrent ticks do each thing once.

use std::collections::BTreeMap;

use serde_json::{json, Value};

use super::alarm::{AlarmKind, AlarmTransition, Delivery};
use super::decide::FUTURE_SKEW;
use super::handler::{Ports, RemediateError, Remediator};
use super::pause;
use super::state::{self, target_pk, Incident};
use crate::idempotency::{Handled, Settle};
use crate::model::{
    job_notice, key_part, Action, AlarmState, AlarmStatus, LedgerKeys, Outcome, Severity, Target,
};
use crate::ports::{Alarms, Ledger, Mode};
use crate::runtime::Invocation;

/// Kept notices sent per tick, at most: a backlog drains over several ticks, each bounded.
const OUTBOX_PER_TICK: i32 = 25;

impl<X: Ports> Remediator<'_, X> {
    /// One service's trouble does not stop the others: every part is tried, and the first error
    /// fails the tick at the end (its retry, or the next tick, tries again).
    pub(super) async fn reconcile(&self, inv: &Invocation) -> Result<Value, RemediateError> {
        let mut report = Vec::new();
        let mut first_error = None;
        for svc in &self.policy.services {
            let target = Target::new(self.policy.cluster.clone(), svc.name.clone());
            match self.reconcile_target(&target, inv).await {
                Ok(mut r) => report.append(&mut r),
                Err(e) => {
                    tracing::error!(%target, error = %e, "reconcile");
                    first_error.get_or_insert(e);
                }
            }
        }
        let mut resent = 0;
        match self
            .ledger
            .unsent(self.mode(), inv.now, OUTBOX_PER_TICK)
            .await
        {
            Ok(keys) => {
                for key in keys {
                    match self.once().resend(&key, inv).await {
                        Ok(true) => resent += 1,
                        Ok(false) => {}
                        Err(e) => {
                            tracing::error!(event_key = %key, error = %e, "resend");
                            first_error.get_or_insert(e.into());
                        }
                    }
                }
            }
            Err(e) => {
                first_error.get_or_insert(RemediateError::Ledger(e));
            }
        }
        tracing::info!(handled = report.len(), resent, "reconciled");
        match first_error {
            Some(e) => Err(e),
            None => Ok(json!({ "reconcile": { "results": report, "notices_resent": resent } })),
        }
    }

    async fn reconcile_target(
        &self,
        target: &Target,
        inv: &Invocation,
    ) -> Result<Vec<Value>, RemediateError> {
        let mut report = Vec::new();
        let stored = state::load(&self.ledger, self.mode(), target)
            .await
            .map_err(RemediateError::Ledger)?;
        if self.mode() == Mode::Live {
            let ended = pause::expire(&self.once(), target, &stored.state, inv)
                .await
                .map_err(|e| {
                    RemediateError::Contention(format!("{target}: ending its pause: {e}"))
                })?;
            report.extend(ended);
        }
        if !stored.state.postmortems_owed.is_empty() {
            // Still owed after a failure: the next tick tries again; the rest of this one goes on.
            match self.settle_postmortems(target).await {
                Ok(written) => report.extend(written.into_iter().map(|(id, p)| {
                    json!({ "target": target.to_string(), "incident": id, "postmortem": p })
                })),
                Err(e) => {
                    tracing::error!(%target, error = %e, "post-mortem drafts");
                    report.push(
                        json!({ "target": target.to_string(), "postmortem_error": e.to_string() }),
                    );
                }
            }
        }
        let Some(inc) = stored.state.incident else {
            return Ok(report);
        };
        // A close a hold kept back has nothing firing: its alarms are asked about instead.
        let names: Vec<String> = if inc.firing.is_empty() {
            inc.fired.iter().cloned().collect()
        } else {
            inc.firing.iter().cloned().collect()
        };
        let live = self
            .alarms
            .describe(&names)
            .await
            .map_err(RemediateError::Verify)?;
        for lost in lost_oks(target, &inc, &live, inv) {
            report.push(self.handle_alarm(&lost, inv).await?);
        }
        if let Some(r) = self.escalate(target, inv).await? {
            report.push(r);
        }
        Ok(report)
    }

    /// Announces, once, an incident open longer than the policy allows.
    async fn escalate(
        &self,
        target: &Target,
        inv: &Invocation,
    ) -> Result<Option<Value>, RemediateError> {
        let stored = state::load(&self.ledger, self.mode(), target)
            .await
            .map_err(RemediateError::Ledger)?;
        let Some(inc) = stored.state.incident else {
            return Ok(None);
        };
        let max_age = chrono::Duration::from_std(self.policy.guards.incident_max_age)
            .unwrap_or(chrono::Duration::MAX);
        let age = inv.now - inc.opened_at;
        if age < max_age {
            return Ok(None);
        }
        let key = format!("escalate#{}", key_part(&inc.id));
        let work = async {
            let keys = LedgerKeys {
                pk: target_pk(target),
                sk: format!(
                    "decision#{}#{key}",
                    inc.opened_at.format("%Y-%m-%dT%H:%M:%S%.3fZ")
                ),
            };
            let hours = age.num_hours();
            let firing: Vec<&str> = inc.firing.iter().map(String::as_str).collect();
            let reason = format!(
                "incident {} has been open for {hours} h and {} still in ALARM — a human is needed",
                inc.id,
                firing.join(", ")
            );
            let entry = json!({
                "at": inv.now.to_rfc3339(),
                "event_key": key,
                "target": target.to_string(),
                "action": Action::Notify.as_str(),
                "outcome": Outcome::NoAction.as_str(),
                "severity": Severity::Sev2,
                "reason": reason,
                "incident_id": inc.id,
                "request_id": inv.request_id,
                "dry_run": self.dry_run,
            });
            if let Err(e) = self.ledger.record(&keys.pk, &keys.sk, &entry).await {
                return Settle::Retry(RemediateError::Ledger(e), None);
            }
            let notice = job_notice(
                Severity::Sev2,
                Action::Notify,
                Outcome::NoAction,
                &target.to_string(),
                &format!("open for {hours} h and still in ALARM — a human is needed"),
                &format!("{reason}\n\nLedger:   pk={} sk={}", keys.pk, keys.sk),
                json!({ "version": 1, "incident_id": inc.id, "firing": firing, "ledger": keys }),
            );
            Settle::Done(entry, Some(notice))
        };
        Ok(match self.once().run(&key, inv, work).await? {
            Handled::Fresh(entry) => Some(entry),
            Handled::Duplicate | Handled::Renotified(_) => None,
        })
    }
}

/// The OK transitions events missed: firing alarms CloudWatch says are OK, at the time it says
/// they changed (the real event's key, so it and this are one transition).
fn lost_oks(
    target: &Target,
    inc: &Incident,
    live: &[AlarmStatus],
    inv: &Invocation,
) -> Vec<AlarmTransition> {
    let by_name: BTreeMap<&str, &AlarmStatus> = live.iter().map(|s| (s.name.as_str(), s)).collect();
    let pending_close = inc.firing.is_empty();
    let names = if pending_close {
        &inc.fired
    } else {
        &inc.firing
    };
    let lost = names
        .iter()
        .filter_map(|name| by_name.get(name.as_str()))
        .filter(|s| s.state == AlarmState::Ok);
    // A held close needs one OK, of this tick (its own key: the held one is claimed).
    let lost: Vec<&&AlarmStatus> = if pending_close {
        lost.take(1).collect()
    } else {
        lost.collect()
    };
    lost.into_iter()
        .map(|s| AlarmTransition {
            alarm_name: s.name.clone(),
            alarm_arn: None,
            state: AlarmState::Ok,
            previous_state: Some(AlarmState::Alarm),
            reason: "CloudWatch says OK; the OK event did not arrive (reconcile)".into(),
            description: None,
            // A clock ahead of ours is clamped, so the transition is believed.
            state_time: match s.updated {
                Some(t) if !pending_close => t.min(inv.now + FUTURE_SKEW),
                _ => inv.now,
            },
            kind: if s.composite {
                AlarmKind::Composite
            } else {
                AlarmKind::Metric
            },
            delivery: Delivery::Reconcile,
            // The target it is reconciled for, whatever its name says.
            dimensions: BTreeMap::from([
                ("ClusterName".to_owned(), target.cluster.clone()),
                ("ServiceName".to_owned(), target.service.clone()),
            ]),
            account: None,
            region: None,
            suppressed_by: None,
            suppressor: None,
        })
        .collect()
}
