//! The judgment: a pure function of (alarm, observed service, ledger state, policy, now).
//!
//! It plans the action, applies every guard (allowlist, bounds, resume-after-unknown, cooldown,
//! circuit breaker) and returns the state to write before anything is done. Nothing here talks
//! to AWS, so every branch is tested directly.

mod diagnosed;
mod gate;
mod on_alarm;
mod on_ok;
mod retry;

pub use diagnosed::wants_evidence;
pub use gate::{judge, judge_with, Facts, Live, FUTURE_SKEW};

use chrono::{DateTime, Duration, Utc};
use serde::Serialize;

use super::alarm::{AlarmState, AlarmTransition};
use super::diagnose::Diagnosis;
use super::state::{ActionRecord, ActionStatus, Incident, TargetState};
use super::target::{resolve, Resolution};
use crate::model::{Action, Effect, ServiceStatus, Severity, Target};
use crate::policy::{Policy, ServiceBounds};

/// The facts of one decision about an allowlisted service that ECS knows.
#[derive(Clone, Copy)]
pub(super) struct Situation<'a> {
    pub alarm: &'a AlarmTransition,
    pub target: &'a Target,
    pub bounds: &'a ServiceBounds,
    pub observed: &'a ServiceStatus,
    pub policy: &'a Policy,
    pub now: DateTime<Utc>,
    /// Why the service is failing, when evidence was read.
    pub diagnosis: Option<&'a Diagnosis>,
}

/// What the matching rule asks for (no rule: a SEV3 notice).
#[derive(Clone, Copy)]
pub(super) struct Asked {
    pub action: Action,
    pub scale_by: i32,
    pub severity: Severity,
    pub rollback: bool,
    pub scale_up: bool,
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
    /// The event names another account or region than the function's.
    Foreign,
    /// Its state timestamp is in the future: not believed.
    Future,
    /// Older than the newest change of the alarm already handled.
    Superseded,
    /// CloudWatch has no alarm of that name.
    UnknownAlarm,
    /// A composite whose actions CloudWatch is holding back.
    ActionsSuppressed,
    /// CloudWatch says the alarm is in another state now, since the event.
    Stale,
    /// CloudWatch's answer is older than the event: not decided now, asked again on retry.
    Lagging,
    /// A human paused automation on the target.
    Paused,
    /// The evidence says the change would not help (a crash loop, the database down, no room).
    Diagnosed,
    /// The maintenance window is on.
    Window,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Decision {
    pub target: Option<Target>,
    /// What was asked for: the notice's `action` attribute.
    pub ask: Action,
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
    /// Application Auto Scaling's (min, max) to set before the effect: raised with a scale-out
    /// so target tracking cannot undo it mid-incident, put back with the close.
    pub bounds: Option<(i32, i32)>,
    /// What the evidence said, when it was read (recorded and announced with the decision).
    pub diagnosis: Option<Diagnosis>,
}

impl Decision {
    fn bare(
        target: Option<Target>,
        ask: Action,
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
            bounds: None,
            diagnosis: None,
        }
    }
}

pub(super) use crate::policy::duration::chrono as dur;

pub(super) fn human(d: Duration) -> String {
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
    decide_with(alarm, policy, observed, state, now, None)
}

/// [`decide`], knowing why the service is failing; the decision carries the diagnosis.
pub fn decide_with(
    alarm: &AlarmTransition,
    policy: &Policy,
    observed: Option<&ServiceStatus>,
    state: &TargetState,
    now: DateTime<Utc>,
    diagnosis: Option<&Diagnosis>,
) -> Decision {
    let mut d = decide_inner(alarm, policy, observed, state, now, diagnosis);
    d.diagnosis = diagnosis.cloned();
    d
}

fn decide_inner(
    alarm: &AlarmTransition,
    policy: &Policy,
    observed: Option<&ServiceStatus>,
    state: &TargetState,
    now: DateTime<Utc>,
    diagnosis: Option<&Diagnosis>,
) -> Decision {
    let asked = policy
        .rule_for(&alarm.alarm_name)
        .map(|r| Asked {
            action: r.action,
            scale_by: r.scale_by,
            severity: r.severity,
            rollback: r.rollback,
            scale_up: r.scale_up,
        })
        .unwrap_or(Asked {
            action: Action::Notify,
            scale_by: 0,
            severity: Severity::Sev3,
            rollback: false,
            scale_up: false,
        });
    let (ask, severity) = (asked.action, asked.severity);
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
        Resolution::Untrusted(t, why) => {
            let reason = format!(
                "{t} is outside the policy's allowlist for {}: {why}",
                alarm.alarm_name
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
            let mut d = Decision::bare(None, Action::Notify, Verdict::NoAction, severity, reason);
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
            return retry::resume(alarm, target, observed, next, prev.clone(), severity);
        }
        // Done, but the invocation that did it failed later (its record or notice): reached
        // only when the claim was free again, so this retry records and announces it as done.
        let mut d = Decision::bare(
            Some(target),
            prev.kind,
            Verdict::AlreadyDone,
            severity,
            if prev.reason.is_empty() {
                format!("{} was acted on ({})", alarm.alarm_name, prev.kind.as_str())
            } else {
                prev.reason.clone()
            },
        );
        d.notify = true;
        d.before = match prev.effect {
            Effect::SetDesired { from, .. } => Some(from),
            _ => Some(observed.desired),
        };
        d.after = match prev.effect {
            Effect::SetDesired { to, .. } => Some(to),
            _ => Some(observed.desired),
        };
        d.incident_id = state.incident.as_ref().map(|i| i.id.clone());
        d.state = Some(state.clone());
        return d;
    }

    let situation = Situation {
        alarm,
        target: &target,
        bounds,
        observed,
        policy,
        now,
        diagnosis,
    };
    match alarm.state {
        AlarmState::Alarm => on_alarm::on_alarm(situation, next, asked),
        AlarmState::Ok => on_ok::on_ok(situation, next),
        AlarmState::InsufficientData => {
            let mut d = Decision::bare(
                Some(target),
                Action::None,
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

/// Reserves the decided change in the state written before acting: what a retry finishes, and
/// what cooldowns and the circuit breaker count.
pub(super) fn reserve(
    next: &mut TargetState,
    kind: Action,
    alarm: &AlarmTransition,
    d: &Decision,
    effect: Effect,
    now: DateTime<Utc>,
) {
    next.actions.push(ActionRecord {
        kind,
        at: now,
        event_key: alarm.event_key(),
        effect,
        status: ActionStatus::Pending,
        reason: d.reason.clone(),
        bounds: d.bounds,
    });
}

/// At most one suppression notice per target per cooldown window: a storm stays one message.
pub(super) fn suppression_notice(
    state: &mut TargetState,
    window: Duration,
    now: DateTime<Utc>,
) -> bool {
    match state.last_suppression_notice {
        Some(last) if now - last < window => false,
        _ => {
            state.last_suppression_notice = Some(now);
            true
        }
    }
}

pub(super) fn first_line(s: &str) -> &str {
    let line = s.lines().next().unwrap_or("");
    match line.char_indices().nth(160) {
        Some((i, _)) => &line[..i],
        None => line,
    }
}
