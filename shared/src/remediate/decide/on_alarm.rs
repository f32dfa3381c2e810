//! An ALARM: join (or open) the service's incident, plan the rule's action, and hold it back when
//! a guard says so — at max, circuit open, cooldown.

use std::collections::BTreeSet;

use chrono::{DateTime, Utc};

use super::diagnosed::{steer, Steer};
use super::{
    dur, first_line, human, reserve, suppression_notice, Asked, Decision, Held, Situation, Verdict,
};
use crate::model::{Action, Effect, Outcome, Severity};
use crate::remediate::diagnose::Finding;
use crate::remediate::state::{Incident, TargetState, TimelineEntry, DEPLOYS};

/// An ALARM of an allowlisted, existing service: open or join the incident, then every guard.
pub(super) fn on_alarm(s: Situation<'_>, mut next: TargetState, rule: Asked) -> Decision {
    let Situation {
        alarm,
        target,
        bounds,
        observed,
        policy,
        now,
        diagnosis,
    } = s;
    let Asked {
        action: rule_action,
        scale_by,
        severity,
        ..
    } = rule;
    let ask = rule_action;
    // A notice-only alarm (warnings, certificates…) joins no incident: an incident is what
    // remediation opened and closes, and a warning that stays up must not hold it open.
    let (incident_id, circuit_open) = if !matches!(rule_action, Action::Restart | Action::ScaleOut)
    {
        if let Some(inc) = next.incident.as_mut() {
            inc.note(TimelineEntry {
                at: alarm.state_time,
                what: format!("{} ALARM (notice only)", alarm.alarm_name),
                outcome: Outcome::NoAction,
            });
        }
        (next.incident.as_ref().map(|i| i.id.clone()), false)
    } else {
        let incident = next.incident.get_or_insert_with(|| Incident {
            id: format!("{target}@{}", alarm.state_time.format("%Y%m%dT%H%M%S%.3fZ")),
            opened_at: alarm.state_time,
            pre_incident_desired: observed.desired,
            firing: BTreeSet::new(),
            fired: BTreeSet::new(),
            severity,
            circuit_open: false,
            last_set_desired: None,
            timeline: Vec::new(),
            elided: 0,
            scaling_before: None,
            detected_at: Some(now),
            rolled_back: false,
            scaled_up: false,
            diagnoses: Vec::new(),
        });
        incident.firing.insert(alarm.alarm_name.clone());
        incident.fired.insert(alarm.alarm_name.clone());
        incident.severity = incident.severity.most_urgent(severity);
        incident.note(TimelineEntry {
            at: alarm.state_time,
            what: format!("{} ALARM: {}", alarm.alarm_name, first_line(&alarm.reason)),
            outcome: Outcome::NoAction,
        });
        (Some(incident.id.clone()), incident.circuit_open)
    };

    if let (Some(dg), Some(inc)) = (diagnosis, next.incident.as_mut()) {
        inc.diagnosed(now, dg.headline());
    }

    let mut d = Decision::bare(
        Some(target.clone()),
        ask,
        Verdict::NoAction,
        severity,
        String::new(),
    );
    d.incident_id = incident_id;
    d.before = Some(observed.desired);
    d.notify = true;

    let guards = &policy.guards;
    let mut note = None;
    let instead = if matches!(rule_action, Action::Restart | Action::ScaleOut) {
        match steer(&s, rule, next.incident.as_ref()) {
            Steer::AsRule { note: n } => {
                note = n;
                None
            }
            Steer::Hold { severity, reason } => {
                d.held = Some(Held::Diagnosed);
                d.severity = d.severity.most_urgent(severity);
                note_held(
                    &mut next,
                    now,
                    format!("{} held: {}", rule_action.as_str(), first_line(&reason)),
                    Outcome::NoAction,
                );
                if let Some(inc) = next.incident.as_mut() {
                    inc.severity = inc.severity.most_urgent(severity);
                }
                d.reason = reason;
                d.after = Some(observed.desired);
                d.state = Some(next);
                return d;
            }
            Steer::Instead {
                kind,
                effect,
                reason,
            } => Some((kind, effect, reason)),
        }
    } else {
        None
    };
    let (kind, effect, cooldown) = match (&instead, rule_action) {
        // A rollback or scale-up deploys anew: the restart cooldown holds it too.
        (Some((kind, effect, _)), _) => (*kind, effect.clone(), Some(dur(guards.restart_cooldown))),
        (None, Action::Restart) => (
            Action::Restart,
            Effect::Restart,
            Some(dur(guards.restart_cooldown)),
        ),
        (None, Action::ScaleOut) => {
            // Application Auto Scaling's maximum caps us too: above it, target tracking would
            // scale straight back in.
            let max = observed
                .scaling
                .map_or(bounds.max, |(_, hi)| hi.min(bounds.max));
            if observed.desired >= max || max < bounds.min {
                d.reason = format!(
                    "{} is in ALARM but {} is already at its maximum of {max} tasks: no scale-out",
                    alarm.alarm_name, bounds.name
                );
                d.after = Some(observed.desired);
                d.held = Some(Held::AtMax);
                note_held(
                    &mut next,
                    now,
                    format!("scale-out held: already at max {max}"),
                    Outcome::NoAction,
                );
                d.state = Some(next);
                return d;
            }
            let to = observed
                .desired
                .saturating_add(scale_by)
                .clamp(bounds.min, max);
            if let Some((lo, hi)) = observed.scaling.filter(|(lo, _)| to > *lo) {
                // Target tracking may not scale in below the count we set while the incident
                // lasts; the close puts the first bounds back.
                d.bounds = Some((to, hi));
                if let Some(inc) = next.incident.as_mut() {
                    inc.scaling_before.get_or_insert((lo, hi));
                }
            }
            (
                Action::ScaleOut,
                Effect::SetDesired {
                    from: observed.desired,
                    to,
                },
                Some(dur(guards.scale_out_cooldown)),
            )
        }
        // Notify: the rule asks for a notice only (rules name nothing else).
        _ => {
            d.reason = format!(
                "{} is in ALARM; the policy asks for a notice only",
                alarm.alarm_name
            );
            if let Some(Finding::DependencyDown { database, status }) =
                diagnosis.map(|dg| &dg.finding)
            {
                d.severity = Severity::Sev1;
                d.reason = format!("{}; the database {database} is {status}", d.reason);
            }
            d.state = Some(next);
            return d;
        }
    };

    if circuit_open {
        d.verdict = Verdict::Suppressed;
        d.held = Some(Held::CircuitOpen);
        d.severity = Severity::Sev1;
        d.reason = format!(
            "remediation exhausted, a human is needed: the circuit for {} is open until the incident closes ({} asked for {})",
            bounds.name,
            alarm.alarm_name,
            kind.as_str()
        );
        d.notify = suppression_notice(&mut next, dur(guards.restart_cooldown), now);
        d.state = Some(next);
        return d;
    }

    let deploys = DEPLOYS.contains(&kind);
    if deploys {
        let window = dur(guards.circuit_window);
        let recent = next.deploys_since(now - window);
        if recent >= guards.circuit_max_restarts as usize {
            if let Some(inc) = next.incident.as_mut() {
                inc.circuit_open = true;
                inc.severity = Severity::Sev1;
            }
            next.last_suppression_notice = Some(now);
            d.verdict = Verdict::Suppressed;
            d.held = Some(Held::CircuitOpen);
            d.severity = Severity::Sev1;
            note_held(
                &mut next,
                now,
                format!("circuit opened after {recent} restarts: a human is needed"),
                Outcome::Suppressed,
            );
            d.reason = format!(
                "remediation exhausted, a human is needed: {recent} restarts of {} in the last {} did not clear it; no more actions until the incident closes",
                bounds.name,
                human(window)
            );
            d.state = Some(next);
            return d;
        }
    }

    let last = if deploys {
        next.last_deploy()
    } else {
        next.last(kind)
    };
    if let (Some(last), Some(cooldown)) = (last, cooldown) {
        let since = now - last.at;
        if since < cooldown {
            d.verdict = Verdict::Suppressed;
            d.held = Some(Held::Cooldown);
            d.reason = format!(
                "{} asked for {} but the last one was {} ago (cooldown {}): suppressed",
                alarm.alarm_name,
                kind.as_str(),
                human(since),
                human(cooldown)
            );
            d.notify = suppression_notice(&mut next, cooldown, now);
            note_held(
                &mut next,
                now,
                format!(
                    "{} suppressed (cooldown, last {} ago)",
                    kind.as_str(),
                    human(since)
                ),
                Outcome::Suppressed,
            );
            d.state = Some(next);
            return d;
        }
    }

    d.verdict = Verdict::Act;
    d.ask = kind;
    d.effect = Some(effect.clone());
    d.after = Some(match effect {
        Effect::SetDesired { to, .. } => to,
        _ => observed.desired,
    });
    d.reason = match (&effect, instead) {
        (_, Some((_, _, reason))) => reason,
        (Effect::SetDesired { from, to }, None) => format!(
            "{} is in ALARM: desired count {from}→{to} (max {}): {}",
            alarm.alarm_name,
            bounds.max,
            first_line(&alarm.reason)
        ),
        (_, None) => format!(
            "{} is in ALARM: {}",
            alarm.alarm_name,
            first_line(&alarm.reason)
        ),
    };
    if let Some(note) = note {
        d.reason = format!("{}; {note}", d.reason);
    }
    if let Some(inc) = next.incident.as_mut() {
        // Each at most once per incident: a second one is a human's call.
        inc.rolled_back |= kind == Action::Rollback;
        inc.scaled_up |= kind == Action::ScaleUp;
    }
    reserve(&mut next, kind, alarm, &d, effect, now);
    d.state = Some(next);
    d
}

/// Puts a held-back action on the incident's timeline, so its story shows the suppressions too.
pub(super) fn note_held(
    state: &mut TargetState,
    at: DateTime<Utc>,
    what: String,
    outcome: Outcome,
) {
    if let Some(inc) = state.incident.as_mut() {
        inc.note(TimelineEntry { at, what, outcome });
    }
}
