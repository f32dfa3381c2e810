//! The judgment: a pure function of (alarm, observed service, ledger state, policy, now).
//!
//! It plans the action, applies every guard (allowlist, bounds, resume-after-unknown, cooldown,
//! circuit breaker) and returns the state to write before anything is done. Nothing here talks
//! to AWS, so every branch is tested directly.

use std::collections::BTreeSet;

use chrono::{DateTime, Duration, Utc};
use serde::Serialize;

use crate::alarm::{AlarmState, AlarmTransition};
use crate::policy::{Policy, RuleAction, ServiceBounds, Severity};
use crate::state::{
    ActionKind, ActionRecord, ActionStatus, Effect, Incident, TargetState, TimelineEntry,
};
use crate::target::{resolve, Resolution, Target};

/// What ECS says about the service right now.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct ServiceStatus {
    pub desired: i32,
    pub running: i32,
    /// When the PRIMARY deployment was created: a restart made after `t` shows a later one.
    pub primary_since: Option<DateTime<Utc>>,
    /// Deployments in flight: one, with `running == desired`, is a steady state.
    pub deployments: usize,
}

impl ServiceStatus {
    pub fn steady(&self) -> bool {
        self.deployments <= 1 && self.running == self.desired
    }
}

/// What the policy and the guards let happen.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// Make the change in `effect`.
    Act,
    /// A retried action that turns out to have happened already: record it done.
    AlreadyDone,
    /// A guard held it back.
    Suppressed,
    /// Nothing to change.
    NoAction,
}

/// Which guard or fact held an action back: the headline says it in a word.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Held {
    NotAllowlisted,
    NoSuchService,
    AtMax,
    Cooldown,
    CircuitOpen,
    ChangedOutside,
}

/// The `action` attribute of the notification: what was asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Ask {
    Restart,
    ScaleOut,
    Restore,
    Notify,
    None,
}

impl Ask {
    pub fn as_str(self) -> &'static str {
        match self {
            Ask::Restart => "restart",
            Ask::ScaleOut => "scale_out",
            Ask::Restore => "restore",
            Ask::Notify => "notify",
            Ask::None => "none",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Decision {
    pub target: Option<Target>,
    pub ask: Ask,
    pub verdict: Verdict,
    pub held: Option<Held>,
    pub effect: Option<Effect>,
    pub severity: Severity,
    /// Why, in a sentence an on-call engineer can read at 3 a.m.
    pub reason: String,
    /// Whether this decision is announced (suppression notices are rate-limited).
    pub notify: bool,
    /// The state to write before acting; `None` when there is no allowlisted target.
    #[serde(skip)]
    pub state: Option<TargetState>,
    /// The incident this decision closed, for its timeline.
    pub closed: Option<Incident>,
    pub incident_id: Option<String>,
    /// The service's desired count before and (if the effect succeeds) after.
    pub before: Option<i32>,
    pub after: Option<i32>,
}

impl Decision {
    fn bare(
        target: Option<Target>,
        ask: Ask,
        verdict: Verdict,
        severity: Severity,
        reason: String,
    ) -> Decision {
        Decision {
            target,
            ask,
            verdict,
            held: None,
            effect: None,
            severity,
            reason,
            notify: false,
            state: None,
            closed: None,
            incident_id: None,
            before: None,
            after: None,
        }
    }
}

/// Policy durations are validated to at most ten years, so this never saturates in practice.
fn dur(d: std::time::Duration) -> Duration {
    Duration::from_std(d).unwrap_or(Duration::days(3650))
}

fn human(d: Duration) -> String {
    let secs = d.num_seconds().max(0);
    if secs >= 3600 && secs % 3600 == 0 {
        format!("{}h", secs / 3600)
    } else if secs >= 60 {
        format!("{}m", secs / 60)
    } else {
        format!("{secs}s")
    }
}

/// Decides what to do about one alarm transition.
///
/// `observed` is `None` when the target is not allowlisted (nothing was looked up) or ECS does not
/// know the service. `state` is the target's ledger state (default for a first sight).
pub fn decide(
    alarm: &AlarmTransition,
    policy: &Policy,
    observed: Option<&ServiceStatus>,
    state: &TargetState,
    now: DateTime<Utc>,
) -> Decision {
    let rule = policy.rule_for(&alarm.alarm_name);
    let (rule_action, severity) = rule
        .map(|r| (r.action, r.severity))
        .unwrap_or((RuleAction::Notify, Severity::Sev3));
    let ask = match rule_action {
        RuleAction::Restart => Ask::Restart,
        RuleAction::ScaleOut { .. } => Ask::ScaleOut,
        RuleAction::Notify => Ask::Notify,
    };
    let announce = alarm.state == AlarmState::Alarm;

    let (target, bounds) = match resolve(alarm, policy) {
        Resolution::Allowed(t, b) => (t, b),
        Resolution::NotAllowed(t) => {
            let reason = format!(
                "{t} is not in the policy's allowlist ({}): no action",
                allowlist(policy)
            );
            let mut d = Decision::bare(Some(t), ask, Verdict::NoAction, severity, reason);
            d.held = Some(Held::NotAllowlisted);
            d.notify = announce;
            return d;
        }
        Resolution::Unknown => {
            let reason = format!(
                "{} names no ECS service (no ServiceName dimension, not `{}<service>-<signal>-<level>`): announced only",
                alarm.alarm_name, policy.alarm_prefix
            );
            let mut d = Decision::bare(None, Ask::Notify, Verdict::NoAction, severity, reason);
            d.notify = announce;
            return d;
        }
    };

    let Some(observed) = observed else {
        let reason = format!("ECS does not know the service {target}: nothing to act on");
        let mut d = Decision::bare(
            Some(target),
            ask,
            Verdict::NoAction,
            severity.most_urgent(Severity::Sev2),
            reason,
        );
        d.held = Some(Held::NoSuchService);
        d.notify = announce;
        return d;
    };

    let mut next = state.clone();
    next.prune(
        now,
        dur(policy.guards.circuit_window)
            .max(dur(policy.guards.restart_cooldown))
            .max(dur(policy.guards.scale_out_cooldown)),
    );

    // A retry of an action whose outcome was unknown (or failed) finishes it, guards or not:
    // the guards already let it through once.
    if let Some(prev) = state.action_for(&alarm.event_key()) {
        if prev.status != ActionStatus::Done {
            return resume(alarm, target, observed, next, prev.clone(), severity);
        }
        // Already acted on: the ledger's claim stops duplicates first; this keeps the decision
        // itself idempotent should one slip through.
        let mut d = Decision::bare(
            Some(target),
            ask,
            Verdict::NoAction,
            severity,
            format!(
                "{} was already acted on ({})",
                alarm.alarm_name,
                prev.kind.as_str()
            ),
        );
        // Reached only when the claim was free again: the notice may not have gone out.
        d.notify = alarm.state == AlarmState::Alarm || prev.kind == ActionKind::Restore;
        d.incident_id = state.incident.as_ref().map(|i| i.id.clone());
        d.state = Some(state.clone());
        return d;
    }

    match alarm.state {
        AlarmState::Alarm => on_alarm(
            alarm,
            target,
            bounds,
            observed,
            next,
            policy,
            rule_action,
            ask,
            severity,
            now,
        ),
        AlarmState::Ok => on_ok(alarm, target, bounds, observed, next, now),
        AlarmState::InsufficientData => {
            let mut d = Decision::bare(
                Some(target),
                Ask::None,
                Verdict::NoAction,
                Severity::Sev3,
                format!("{} has insufficient data: no action", alarm.alarm_name),
            );
            d.incident_id = next.incident.as_ref().map(|i| i.id.clone());
            d.state = Some(next);
            d
        }
    }
}

fn allowlist(policy: &Policy) -> String {
    let names: Vec<String> = policy
        .services
        .iter()
        .map(|s| format!("{}/{}", policy.cluster, s.name))
        .collect();
    names.join(", ")
}

fn resume(
    alarm: &AlarmTransition,
    target: Target,
    observed: &ServiceStatus,
    mut next: TargetState,
    prev: ActionRecord,
    severity: Severity,
) -> Decision {
    let ask = match prev.kind {
        ActionKind::Restart => Ask::Restart,
        ActionKind::ScaleOut => Ask::ScaleOut,
        ActionKind::Restore => Ask::Restore,
    };
    // A retry finishes its own job only while that job still makes sense: the alarm still
    // fires (or, for a restore, no new incident has opened) and nobody has moved the count since.
    let still_wanted = match prev.kind {
        ActionKind::Restore => next.incident.is_none(),
        ActionKind::Restart | ActionKind::ScaleOut => next
            .incident
            .as_ref()
            .is_some_and(|i| i.firing.contains(&alarm.alarm_name) && !i.circuit_open),
    };
    let moved = match prev.effect {
        Effect::SetDesired { from, to } => observed.desired != from && observed.desired != to,
        Effect::Restart => false,
    };
    if !still_wanted || moved {
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
    d.notify = true;
    d.before = Some(observed.desired);
    d.after = after;
    d.incident_id = next.incident.as_ref().map(|i| i.id.clone());
    d.state = Some(next);
    d
}

#[allow(clippy::too_many_arguments)]
fn on_alarm(
    alarm: &AlarmTransition,
    target: Target,
    bounds: &ServiceBounds,
    observed: &ServiceStatus,
    mut next: TargetState,
    policy: &Policy,
    rule_action: RuleAction,
    ask: Ask,
    severity: Severity,
    now: DateTime<Utc>,
) -> Decision {
    // A notice-only alarm (warnings, certificates…) joins no incident: an incident is what
    // remediation opened and closes, and a warning that stays up must not hold it open.
    let (incident_id, circuit_open) = if rule_action == RuleAction::Notify {
        if let Some(inc) = next.incident.as_mut() {
            inc.note(TimelineEntry {
                at: alarm.state_time,
                what: format!("{} ALARM (notice only)", alarm.alarm_name),
                outcome: crate::state::Outcome::NoAction,
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
        });
        incident.firing.insert(alarm.alarm_name.clone());
        incident.fired.insert(alarm.alarm_name.clone());
        incident.severity = incident.severity.most_urgent(severity);
        incident.note(TimelineEntry {
            at: alarm.state_time,
            what: format!("{} ALARM: {}", alarm.alarm_name, first_line(&alarm.reason)),
            outcome: crate::state::Outcome::NoAction,
        });
        (Some(incident.id.clone()), incident.circuit_open)
    };

    let mut d = Decision::bare(
        Some(target),
        ask,
        Verdict::NoAction,
        severity,
        String::new(),
    );
    d.incident_id = incident_id;
    d.before = Some(observed.desired);
    d.notify = true;

    let guards = &policy.guards;
    let (kind, effect, cooldown) = match rule_action {
        RuleAction::Notify => {
            d.reason = format!(
                "{} is in ALARM; the policy asks for a notice only",
                alarm.alarm_name
            );
            d.state = Some(next);
            return d;
        }
        RuleAction::Restart => (
            ActionKind::Restart,
            Effect::Restart,
            dur(guards.restart_cooldown),
        ),
        RuleAction::ScaleOut { by } => {
            if observed.desired >= bounds.max {
                d.reason = format!(
                    "{} is in ALARM but {} is already at its maximum of {} tasks: no scale-out",
                    alarm.alarm_name, bounds.name, bounds.max
                );
                d.after = Some(observed.desired);
                d.held = Some(Held::AtMax);
                note_held(
                    &mut next,
                    now,
                    format!("scale-out held: already at max {}", bounds.max),
                    crate::state::Outcome::NoAction,
                );
                d.state = Some(next);
                return d;
            }
            let to = observed
                .desired
                .saturating_add(by)
                .clamp(bounds.min, bounds.max);
            (
                ActionKind::ScaleOut,
                Effect::SetDesired {
                    from: observed.desired,
                    to,
                },
                dur(guards.scale_out_cooldown),
            )
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

    if kind == ActionKind::Restart {
        let window = dur(guards.circuit_window);
        let recent = next.count_since(ActionKind::Restart, now - window);
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
                crate::state::Outcome::Suppressed,
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

    if let Some(last) = next.last(kind) {
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
                crate::state::Outcome::Suppressed,
            );
            d.state = Some(next);
            return d;
        }
    }

    next.actions.push(ActionRecord {
        kind,
        at: now,
        event_key: alarm.event_key(),
        effect,
        status: ActionStatus::Pending,
    });
    d.verdict = Verdict::Act;
    d.effect = Some(effect);
    d.after = Some(match effect {
        Effect::SetDesired { to, .. } => to,
        Effect::Restart => observed.desired,
    });
    d.reason = match effect {
        Effect::Restart => format!(
            "{} is in ALARM: {}",
            alarm.alarm_name,
            first_line(&alarm.reason)
        ),
        Effect::SetDesired { from, to } => format!(
            "{} is in ALARM: desired count {from}→{to} (max {}): {}",
            alarm.alarm_name,
            bounds.max,
            first_line(&alarm.reason)
        ),
    };
    d.state = Some(next);
    d
}

/// Puts a held-back action on the incident's timeline, so its story shows the suppressions too.
fn note_held(
    state: &mut TargetState,
    at: DateTime<Utc>,
    what: String,
    outcome: crate::state::Outcome,
) {
    if let Some(inc) = state.incident.as_mut() {
        inc.note(TimelineEntry { at, what, outcome });
    }
}

/// At most one suppression notice per target per cooldown window: a storm stays one message.
fn suppression_notice(state: &mut TargetState, window: Duration, now: DateTime<Utc>) -> bool {
    match state.last_suppression_notice {
        Some(last) if now - last < window => false,
        _ => {
            state.last_suppression_notice = Some(now);
            true
        }
    }
}

fn on_ok(
    alarm: &AlarmTransition,
    target: Target,
    bounds: &ServiceBounds,
    observed: &ServiceStatus,
    mut next: TargetState,
    now: DateTime<Utc>,
) -> Decision {
    let mut d = Decision::bare(
        Some(target),
        Ask::None,
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
    if !incident.firing.remove(&alarm.alarm_name) {
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
        outcome: crate::state::Outcome::NoAction,
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
    d.ask = Ask::Restore;
    let restore_to = closed.pre_incident_desired.clamp(bounds.min, bounds.max);
    match closed.last_set_desired {
        None => {
            d.ask = Ask::None;
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
            let effect = Effect::SetDesired {
                from: observed.desired,
                to: restore_to,
            };
            next.actions.push(ActionRecord {
                kind: ActionKind::Restore,
                at: now,
                event_key: alarm.event_key(),
                effect,
                status: ActionStatus::Pending,
            });
            d.verdict = Verdict::Act;
            d.effect = Some(effect);
            d.after = Some(restore_to);
            d.reason = format!(
                "every alarm of the incident is OK again: desired count back to the pre-incident {} (min {})",
                closed.pre_incident_desired, bounds.min
            );
        }
    }
    d.closed = Some(closed);
    d.state = Some(next);
    d
}

fn first_line(s: &str) -> &str {
    let line = s.lines().next().unwrap_or("");
    match line.char_indices().nth(160) {
        Some((i, _)) => &line[..i],
        None => line,
    }
}
