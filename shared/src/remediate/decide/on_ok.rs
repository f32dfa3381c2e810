//! An OK: the alarm leaves its incident; when the last one is OK the incident closes, and a
//! scale-out we made is undone unless someone changed the count since.

use super::{reserve, Decision, Held, Situation, Verdict};
use crate::model::{Action, Effect, Outcome, Severity};
use crate::remediate::state::{ActionStatus, OwedPostMortem, TargetState, TimelineEntry};

/// An OK: the alarm leaves the incident; the last one out closes it and undoes our scale-out.
pub(super) fn on_ok(s: Situation<'_>, mut next: TargetState) -> Decision {
    let Situation {
        alarm,
        target,
        bounds,
        observed,
        now,
        ..
    } = s;
    let mut d = Decision::bare(
        Some(target.clone()),
        Action::None,
        Verdict::NoAction,
        Severity::Sev3,
        String::new(),
    );
    d.before = Some(observed.desired);
    let Some(incident) = next.incident.as_mut() else {
        d.reason = format!(
            "{} is OK and no incident is open: nothing to do",
            alarm.alarm_name
        );
        d.state = Some(next);
        return d;
    };
    d.incident_id = Some(incident.id.clone());
    d.severity = incident.severity;
    // An incident whose close a pause or the window held has nothing firing: any OK of one of
    // its alarms closes it now.
    let pending_close = incident.firing.is_empty() && incident.fired.contains(&alarm.alarm_name);
    if !incident.firing.remove(&alarm.alarm_name) && !pending_close {
        d.reason = format!(
            "{} is OK; it did not fire in the open incident {}",
            alarm.alarm_name, incident.id
        );
        d.state = Some(next);
        return d;
    }
    incident.note(TimelineEntry {
        at: alarm.state_time,
        what: format!("{} OK", alarm.alarm_name),
        outcome: Outcome::NoAction,
    });
    if !incident.firing.is_empty() {
        d.reason = format!(
            "{} is OK; the incident stays open while {} still fire",
            alarm.alarm_name,
            incident
                .firing
                .iter()
                .cloned()
                .collect::<Vec<_>>()
                .join(", ")
        );
        d.state = Some(next);
        return d;
    }

    // Every alarm of the incident is OK again: close it, and undo our scale-out if it is ours.
    let closed = incident.clone();
    next.incident = None;
    d.notify = true;
    d.ask = Action::Restore;
    let restore_to = closed.pre_incident_desired.clamp(bounds.min, bounds.max);
    // A scale-out whose invocation died before settling it is ours too, if ECS shows its count.
    let pending = next
        .actions
        .iter()
        .rev()
        .filter(|a| a.kind == Action::ScaleOut && a.at >= closed.opened_at)
        .find(|a| matches!(a.status, ActionStatus::Pending | ActionStatus::Unknown))
        .and_then(|a| match a.effect {
            Effect::SetDesired { to, .. } if to == observed.desired => Some(to),
            _ => None,
        });
    match closed.last_set_desired.or(pending) {
        None => {
            d.ask = Action::None;
            d.reason = "every alarm of the incident is OK again; no scale-out to undo".to_owned();
        }
        Some(ours) if observed.desired != ours => {
            d.held = Some(Held::ChangedOutside);
            d.reason = format!(
                "every alarm of the incident is OK again; desired count is {} but we set {ours}: changed outside axiom-ops, left alone",
                observed.desired
            );
        }
        Some(_) if observed.desired == restore_to => {
            d.reason = format!(
                "every alarm of the incident is OK again; desired count is already {restore_to}"
            );
        }
        Some(_) => {
            d.verdict = Verdict::Act;
            d.effect = Some(Effect::SetDesired {
                from: observed.desired,
                to: restore_to,
            });
            d.after = Some(restore_to);
            d.reason = format!(
                "every alarm of the incident is OK again: desired count back to the pre-incident {} (min {})",
                closed.pre_incident_desired, bounds.min
            );
        }
    }
    // Application Auto Scaling's bounds we raised go back on every close, whatever became of the
    // count: left raised, they would hold it up for good.
    if let Some((lo, hi)) = closed.scaling_before {
        d.bounds = Some((lo, hi));
        if d.verdict != Verdict::Act {
            d.verdict = Verdict::Act;
            d.ask = Action::Restore;
            d.effect = Some(Effect::SetDesired {
                from: observed.desired,
                to: observed.desired,
            });
            d.after = Some(observed.desired);
            d.reason = format!("{}; Auto Scaling's bounds back to {lo}–{hi}", d.reason);
        }
    }
    if let (Verdict::Act, Some(effect)) = (d.verdict, d.effect.clone()) {
        reserve(&mut next, Action::Restore, alarm, &d, effect, now);
    }
    next.owe(OwedPostMortem {
        incident: closed.clone(),
        resolved: alarm.state_time,
        closing: d.reason.clone(),
    });
    d.closed = Some(closed);
    d.state = Some(next);
    d
}
