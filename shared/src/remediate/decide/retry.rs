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
        // Restart, ScaleOut, Rollback, ScaleUp: the changes an alarm asks for.
        _ => next
            .incident
            .as_ref()
            .is_some_and(|i| i.firing.contains(&alarm.alarm_name) && !i.circuit_open),
    };
    let running = observed.task_definition.as_deref();
    let moved = match &prev.effect {
        Effect::SetDesired { from, to } => observed.desired != *from && observed.desired != *to,
        Effect::Rollback { from, to } => running.is_some_and(|r| r != from && r != to),
        Effect::Restart | Effect::ScaleUp { .. } => false,
    };
    // A deployment made after the first try: the restart (or the new revision) happened.
    let redeployed = observed.primary_since.is_some_and(|since| since >= prev.at);
    // What happened is recorded as done whatever came since; only a redo needs the situation.
    let confirmed = match &prev.effect {
        Effect::SetDesired { to, .. } => observed.desired == *to,
        Effect::Restart => redeployed,
        Effect::Rollback { to, .. } => running == Some(to.as_str()),
        Effect::ScaleUp {
            task_definition, ..
        } => redeployed && running.is_some_and(|r| r != task_definition),
    };
    if !confirmed && (!still_wanted || moved) {
        if let Some(a) = next
            .actions
            .iter_mut()
            .find(|a| a.event_key == prev.event_key)
        {
            a.status = ActionStatus::Failed;
        }
        let why = match (&prev.effect, moved) {
            (Effect::Rollback { .. }, true) => format!(
                "the service now runs {}, deployed by someone else",
                running.unwrap_or("another task definition")
            ),
            (_, true) => format!(
                "desired count is now {}, set by someone else",
                observed.desired
            ),
            (_, false) => "the situation it was for has changed".to_owned(),
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
    let name = &alarm.alarm_name;
    let (verdict, effect, reason) = match &prev.effect {
        Effect::Restart => match observed.primary_since {
            Some(since) if since >= prev.at => (
                Verdict::AlreadyDone,
                None,
                format!(
                    "retry of {name}: a new deployment started at {} after the first try, so the restart happened",
                    since.format("%H:%M:%SZ")
                ),
            ),
            _ => (
                Verdict::Act,
                Some(Effect::Restart),
                format!("retry of {name}: the earlier restart did not take effect; restarting"),
            ),
        },
        Effect::SetDesired { to, .. } if observed.desired == *to => (
            Verdict::AlreadyDone,
            None,
            format!("retry of {name}: desired count is already {to}"),
        ),
        Effect::SetDesired { to, .. } => (
            Verdict::Act,
            Some(Effect::SetDesired { from: observed.desired, to: *to }),
            format!("retry of {name}: setting desired count {}→{to} again", observed.desired),
        ),
        Effect::Rollback { .. } | Effect::ScaleUp { .. } if confirmed => (
            Verdict::AlreadyDone,
            None,
            format!(
                "retry of {name}: the service runs {} now, so the {} happened",
                running.unwrap_or("a new task definition"),
                prev.kind.as_str()
            ),
        ),
        e => (
            Verdict::Act,
            Some(e.clone()),
            format!("retry of {name}: the earlier {} did not take effect; again", prev.kind.as_str()),
        ),
    };
    if let Some(a) = next
        .actions
        .iter_mut()
        .find(|a| a.event_key == prev.event_key)
    {
        a.status = ActionStatus::Pending;
        if let Some(e) = &effect {
            a.effect = e.clone();
        }
    }
    let after = match prev.effect {
        Effect::SetDesired { to, .. } => Some(to),
        _ => Some(observed.desired),
    };
    if let Some(inc) = next.incident.as_mut() {
        // Redone or found done, it is the incident's one rollback or scale-up again (a failed
        // first try had given it back).
        match prev.effect {
            Effect::Rollback { .. } => inc.rolled_back = true,
            Effect::ScaleUp { .. } => inc.scaled_up = true,
            _ => {}
        }
    }
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
