//! What is believed before anything is decided: the event's account and region, its clock, its
//! order among the alarm's changes, and — unless the policy turns it off — what CloudWatch says
//! about the alarm now. An event that fails here changes nothing.

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, Utc};

use super::{decide, decide_with, dur, suppression_notice, Decision, Held, Verdict};
use crate::model::{Action, AlarmState, AlarmStatus, Effect, ServiceStatus, Severity};
use crate::policy::Policy;
use crate::remediate::alarm::AlarmTransition;
use crate::remediate::diagnose::Diagnosis;
use crate::remediate::state::TargetState;
use crate::remediate::target::{resolve, Resolution};
use crate::runtime::Home;

/// How far ahead of our clock a state timestamp may be (clock skew) and still be believed.
pub const FUTURE_SKEW: Duration = Duration::minutes(5);

/// What CloudWatch said about the alarms of one decision.
#[derive(Debug, Clone, PartialEq)]
pub enum Live {
    /// Verification is off in the policy: the event is believed.
    Unverified,
    /// The live state of every alarm asked about that CloudWatch knows, by name.
    Checked(BTreeMap<String, AlarmStatus>),
}

impl Live {
    pub fn of(statuses: Vec<AlarmStatus>) -> Live {
        Live::Checked(statuses.into_iter().map(|s| (s.name.clone(), s)).collect())
    }
}

/// Everything a decision is made from besides the event itself.
#[derive(Debug, Clone, Copy)]
pub struct Facts<'a> {
    pub policy: &'a Policy,
    pub home: &'a Home,
    /// The service as ECS describes it (`None`: not looked up, or ECS does not know it).
    pub observed: Option<&'a ServiceStatus>,
    pub live: &'a Live,
    pub state: &'a TargetState,
    /// Why the maintenance window holds remediation now, if it does.
    pub window: Option<&'a str>,
    pub now: DateTime<Utc>,
}

/// Believe the event only as far as the facts allow, then decide.
pub fn judge(alarm: &AlarmTransition, f: Facts<'_>) -> Decision {
    judge_with(alarm, f, None)
}

/// [`judge`], knowing why the service is failing: the evidence read once the alarm is believed.
pub fn judge_with(
    alarm: &AlarmTransition,
    f: Facts<'_>,
    diagnosis: Option<&Diagnosis>,
) -> Decision {
    let asked = f.policy.rule_for(&alarm.alarm_name);
    let ask = asked.map_or(Action::Notify, |r| r.action);
    let stop = |held: Held, severity: Severity, reason: String| {
        let target = resolve(alarm, f.policy).target().cloned();
        let mut d = Decision::bare(target, ask, Verdict::NoAction, severity, reason);
        d.held = Some(held);
        d
    };

    if let Some(why) = foreign(alarm, f.home) {
        let mut d = stop(
            Held::Foreign,
            Severity::Sev3,
            format!("{} {why}: not acted on", alarm.alarm_name),
        );
        d.notify = true;
        return d;
    }
    if alarm.state_time > f.now + FUTURE_SKEW {
        return stop(
            Held::Future,
            Severity::Sev3,
            format!(
                "{} changed state at {}, in the future (now {}): not believed",
                alarm.alarm_name,
                alarm.state_time.to_rfc3339(),
                f.now.to_rfc3339()
            ),
        );
    }
    if !matches!(resolve(alarm, f.policy), Resolution::Allowed(..)) {
        return decide(alarm, f.policy, None, &TargetState::default(), f.now);
    }
    // A retry of an action this transition already reserved is finished by `decide` (confirmed,
    // redone, or left because its situation changed), whatever came since: its record and
    // notice must not be lost to a later transition or to CloudWatch having moved on.
    if f.state.action_for(&alarm.event_key()).is_some() {
        let d = decide(alarm, f.policy, f.observed, f.state, f.now);
        let mut d = hold(d, alarm, &f);
        // Confirming it done needs nothing more; redoing it needs CloudWatch to still agree.
        if let (Verdict::Act, Live::Checked(live)) = (d.verdict, f.live) {
            let now = live.get(&alarm.alarm_name).map(|s| s.state);
            if now != Some(alarm.state) {
                let said = now.map_or("nothing (no such alarm)".to_owned(), |s| s.to_string());
                d.verdict = Verdict::NoAction;
                d.effect = None;
                d.held = Some(Held::Stale);
                d.reason = format!(
                    "retry of {}: not redone, CloudWatch says {said} now",
                    alarm.alarm_name
                );
                if let Some(next) = d.state.as_mut() {
                    next.give_up(&alarm.event_key());
                }
            }
        }
        return d;
    }
    if let Some(newest) = f
        .state
        .seen(&alarm.alarm_name)
        .filter(|n| alarm.state_time < *n)
    {
        return stop(
            Held::Superseded,
            Severity::Sev3,
            format!(
                "{} {} at {} is older than its change at {} already handled: superseded",
                alarm.alarm_name,
                alarm.state,
                alarm.state_time.to_rfc3339(),
                newest.to_rfc3339()
            ),
        );
    }

    let mut state = f.state.clone();
    if let Live::Checked(live) = f.live {
        let window = dur(f.policy.guards.restart_cooldown);
        let now = live.get(&alarm.alarm_name);
        let held = match now {
            // The event's own word that CloudWatch holds its actions back is believed first.
            _ if alarm.suppressed_by.is_some() && alarm.state == AlarmState::Alarm => {
                held_by_cloudwatch(alarm, now)
            }
            None => Some((
                Held::UnknownAlarm,
                Verdict::NoAction,
                format!(
                    "CloudWatch has no alarm named {}: not acted on",
                    alarm.alarm_name
                ),
            )),
            Some(_) => held_by_cloudwatch(alarm, now),
        };
        if let Some((held, verdict, reason)) = held {
            let mut d = stop(held, Severity::Sev3, reason);
            d.verdict = verdict;
            if held == Held::Lagging {
                // Nothing is decided on a view older than the event: the handler retries.
                return d;
            }
            if held == Held::Stale {
                state.saw(&alarm.alarm_name, alarm.state_time.min(f.now));
            } else if alarm.state == AlarmState::Alarm {
                // Rate-limited like suppressions: a storm of them is one message.
                d.notify = suppression_notice(&mut state, window, f.now);
            }
            if state != *f.state {
                d.state = Some(state);
            }
            return d;
        }
        agree_on_firing(&mut state, live, alarm);
    }

    let d = decide_with(alarm, f.policy, f.observed, &state, f.now, diagnosis);
    let mut d = hold(d, alarm, &f);
    if let Some(next) = d.state.as_mut() {
        // Within the clock skew an event may be ahead of us; what is remembered never is.
        next.saw(&alarm.alarm_name, alarm.state_time.min(f.now));
    }
    d
}

/// Humans first: while the target is paused, or the maintenance window is on, a change is held —
/// recorded, announced once per hold. A pause past its end is over, and the decision says
/// automation is back.
fn hold(mut d: Decision, alarm: &AlarmTransition, f: &Facts<'_>) -> Decision {
    let Some(state) = d.state.as_mut() else {
        return d;
    };
    let mut back = None;
    if let Some(p) = state.pause.take() {
        if p.until > f.now {
            state.pause = Some(p);
        } else {
            back = Some(format!(
                "automation is back (the pause by {} ended at {})",
                p.by,
                p.until.to_rfc3339()
            ));
        }
    }
    if state.pause.is_none() && f.window.is_none() {
        // No hold now: the next one is announced again.
        state.hold_announced = None;
    }
    let window = f.window.filter(|_| d.verdict == Verdict::Act);
    if d.verdict != Verdict::Act || (state.pause.is_none() && window.is_none()) {
        if let Some(back) = back {
            d.reason = format!("{back}; {}", d.reason);
            d.notify = true;
        }
        return d;
    }
    let (held, why, key) = match (&state.pause, window) {
        (Some(p), _) => (
            Held::Paused,
            format!(
                "paused by {} until {} ({})",
                p.by,
                p.until.to_rfc3339(),
                p.reason
            ),
            format!("pause@{}", p.since.to_rfc3339()),
        ),
        (None, Some(w)) => (
            Held::Window,
            format!("maintenance window: {w}"),
            format!("window@{w}"),
        ),
        (None, None) => return d,
    };
    // The reservation goes: nothing was done, and a retry must not finish it.
    state.actions.retain(|a| a.event_key != alarm.event_key());
    if let Some(e) = &d.effect {
        state.not_done(e);
    }
    if let Some(closed) = d.closed.take() {
        state
            .postmortems_owed
            .retain(|o| o.incident.id != closed.id);
        // A held close keeps its incident (nothing firing, what to restore remembered): the
        // next OK of one of its alarms, or the reconcile tick, closes it once nothing holds.
        state.incident = Some(closed);
    }
    let would = match d.effect {
        Some(Effect::SetDesired { from, to }) => format!("{} {from}→{to}", d.ask.as_str()),
        _ => d.ask.as_str().to_owned(),
    };
    d.notify = state.hold_announced.as_deref() != Some(key.as_str()) || back.is_some();
    state.hold_announced = Some(key);
    d.reason = match back {
        Some(back) => format!("{back}; held: {why}: would have {would}"),
        None => format!("held: {why}: would have {would}"),
    };
    d.verdict = Verdict::Suppressed;
    d.held = Some(held);
    d.effect = None;
    d.bounds = None;
    d.after = d.before;
    d
}

/// Another account or region than the function's, named by the event or its alarm ARN.
fn foreign(alarm: &AlarmTransition, home: &Home) -> Option<String> {
    let arn = alarm
        .alarm_arn
        .as_deref()
        .map(|a| a.split(':').collect::<Vec<_>>());
    let arn_field = |i: usize| arn.as_ref().and_then(|p| p.get(i).copied());
    let checks = [
        ("account", home.account.as_deref(), alarm.account.as_deref()),
        ("account", home.account.as_deref(), arn_field(4)),
        ("region", home.region.as_deref(), alarm.region.as_deref()),
        ("region", home.region.as_deref(), arn_field(3)),
    ];
    checks
        .into_iter()
        .find_map(|(what, ours, theirs)| match (ours, theirs) {
            (Some(ours), Some(theirs)) if ours != theirs => {
                Some(format!("names {what} {theirs}, not this function's {ours}"))
            }
            _ => None,
        })
}

/// Why CloudWatch (the event's word on suppression, or the live view) holds the event back.
fn held_by_cloudwatch(
    alarm: &AlarmTransition,
    live: Option<&AlarmStatus>,
) -> Option<(Held, Verdict, String)> {
    let suppressed = alarm
        .suppressed_by
        .as_deref()
        .or(live.and_then(|l| l.suppressed_by.as_deref()));
    if let (AlarmState::Alarm, Some(by)) = (alarm.state, suppressed) {
        let suppressor = alarm
            .suppressor
            .as_deref()
            .or(live.and_then(|l| l.suppressor.as_deref()))
            .unwrap_or("its actions suppressor");
        return Some((
            Held::ActionsSuppressed,
            Verdict::Suppressed,
            format!(
                "{}'s actions are suppressed by {suppressor} ({by}): not acted on",
                alarm.alarm_name
            ),
        ));
    }
    let live = live?;
    if live.state == alarm.state {
        return None;
    }
    match live.updated {
        // CloudWatch's answer predates the event it should confirm: its read has not caught up.
        Some(changed) if changed < alarm.state_time => Some((
            Held::Lagging,
            Verdict::NoAction,
            format!(
                "{} {} at {}: CloudWatch still says {} (since {}); asking again",
                alarm.alarm_name,
                alarm.state,
                alarm.state_time.to_rfc3339(),
                live.state,
                changed.to_rfc3339()
            ),
        )),
        _ => Some((
            Held::Stale,
            Verdict::NoAction,
            format!(
                "{} {} is stale: CloudWatch says {} now",
                alarm.alarm_name, alarm.state, live.state
            ),
        )),
    }
}

/// The incident's firing alarms as CloudWatch sees them now: one whose ALARM we missed is still
/// firing, one whose OK was lost no longer holds the incident open.
fn agree_on_firing(
    state: &mut TargetState,
    live: &BTreeMap<String, AlarmStatus>,
    alarm: &AlarmTransition,
) {
    let Some(inc) = state.incident.as_mut() else {
        return;
    };
    for name in inc.fired.clone() {
        if name == alarm.alarm_name {
            continue;
        }
        match live.get(&name).map(|s| s.state) {
            Some(AlarmState::Alarm) => {
                inc.firing.insert(name);
            }
            Some(AlarmState::Ok) => {
                inc.firing.remove(&name);
            }
            _ => {}
        }
    }
}
