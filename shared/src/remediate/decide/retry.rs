//! A retry of an action whose outcome was unknown: confirm it happened, redo it, or — when its
//! situation has changed — leave it and say so.

use super::{Decision, Held, Verdict};
use crate::model::{Action, Effect, ServiceStatus, Severity, Target};
use crate::remediate::alarm::AlarmTransition;
use crate::remediate::state::{ActionRecord, ActionStatus, TargetState};

/// A retry of an action whose outcome was unknown (or failed): finish it, guards or not — the
/// guards let it through once — unless its situation has changed.
pub(super) fn resume(
    alarm: &AlarmTransition,
    target: Target,
    observed: &ServiceStatus,
    mut next: TargetState,
    prev: ActionRecord,
    severity: Severity,
) -> Decision {
    let ask = prev.kind;
    // A retry finishes its own job only while that job still makes sense: the alarm still
    // fires (or, for a restore, no new incident has opened) and nobody has moved the count since.
    let still_wanted = match prev.kind {
        Action::Restore => next.incident.is_none(),
        // Restart, ScaleOut: the only other kinds an action record holds.
        _ => next
            .incident
            .as_ref()
            .is_some_and(|i| i.firing.contains(&alarm.alarm_name) && !i.circuit_open),
    };
    let moved = match prev.effect {
        Effect::SetDesired { from, to } => observed.desired != from && observed.desired != to,
        Effect::Restart => false,
    };
    // What happened is recorded as done whatever came since; only a redo needs the situation.
    let confirmed = match prev.effect {
        Effect::SetDesired { to, .. } => observed.desired == to,
        Effect::Restart => observed.primary_since.is_some_and(|since| since >= prev.at),
    };
    if !confirmed && (!still_wanted || moved) {
        if let Some(a) = next
            .actions
            .iter_mut()
            .find(|a| a.event_key == prev.event_key)
        {
            a.status = ActionStatus::Failed;
        }
        let why = if moved {
            format!(
                "desired count is now {}, set by someone else",
                observed.desired
            )
        } else {
            "the situation it was for has changed".to_owned()
        };
        let mut d = Decision::bare(
            Some(target),
            ask,
            Verdict::NoAction,
            severity,
            format!("retry of {}: not redone, {why}", alarm.alarm_name),
        );
        d.held = Some(Held::ChangedOutside);
        d.notify = true;
        d.before = Some(observed.desired);
        d.incident_id = next.incident.as_ref().map(|i| i.id.clone());
        d.state = Some(next);
        return d;
    }
    let (verdict, effect, reason) = match prev.effect {
        Effect::Restart => match observed.primary_since {
            Some(since) if since >= prev.at => (
                Verdict::AlreadyDone,
                None,
                format!(
                    "retry of {}: a new deployment started at {} after the first try, so the restart happened",
                    alarm.alarm_name,
                    since.format("%H:%M:%SZ")
                ),
            ),
            _ => (
                Verdict::Act,
                Some(Effect::Restart),
                format!("retry of {}: the earlier restart did not take effect; restarting", alarm.alarm_name),
            ),
        },
        Effect::SetDesired { to, .. } if observed.desired == to => (
            Verdict::AlreadyDone,
            None,
            format!("retry of {}: desired count is already {to}", alarm.alarm_name),
        ),
        Effect::SetDesired { to, .. } => (
            Verdict::Act,
            Some(Effect::SetDesired { from: observed.desired, to }),
            format!("retry of {}: setting desired count {}→{to} again", alarm.alarm_name, observed.desired),
        ),
    };
    if let Some(a) = next
        .actions
        .iter_mut()
        .find(|a| a.event_key == prev.event_key)
    {
        a.status = ActionStatus::Pending;
        if let Some(e) = effect {
            a.effect = e;
        }
    }
    let after = match prev.effect {
        Effect::SetDesired { to, .. } => Some(to),
        Effect::Restart => Some(observed.desired),
    };
    let mut d = Decision::bare(Some(target), ask, verdict, severity, reason);
    d.effect = effect;
    d.bounds = prev.bounds.filter(|_| verdict == Verdict::Act);
    d.notify = true;
    d.before = Some(observed.desired);
    d.after = after;
    d.incident_id = next.incident.as_ref().map(|i| i.id.clone());
    d.state = Some(next);
    d
}
