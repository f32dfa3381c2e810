//! Humans first: a pause or the maintenance window holds a change (announced once per hold), and
//! a pause past its end is over.

mod common;

use axiom_ops::model::{AlarmState, Effect};
use axiom_ops::policy::Policy;
use axiom_ops::remediate::decide::{judge, Decision, Facts, Held, Verdict};
use axiom_ops::remediate::state::{Pause, TargetState};
use chrono::Duration;
use common::*;

fn with(state: &TargetState, window: Option<&str>, minutes: i64) -> Decision {
    let p = Policy::built_in().expect("policy");
    let h = home();
    let observed = svc(3);
    let at = t0() + Duration::minutes(minutes);
    judge(
        &alarm(CPU, AlarmState::Alarm, at),
        Facts {
            policy: &p,
            home: &h,
            observed: Some(&observed),
            live: &live(&[(CPU, AlarmState::Alarm)]),
            state,
            window,
            now: at,
        },
    )
}

fn paused(until_min: i64) -> TargetState {
    TargetState {
        pause: Some(Pause {
            by: "arn:aws:iam::123456789012:user/oncall".into(),
            reason: "on it".into(),
            since: t0(),
            until: t0() + Duration::minutes(until_min),
        }),
        ..TargetState::default()
    }
}

#[test]
fn a_pause_holds_the_change_and_is_announced_once() {
    let d = with(&paused(60), None, 1);
    assert_eq!(
        (d.verdict, d.held, d.effect),
        (Verdict::Suppressed, Some(Held::Paused), None)
    );
    assert!(d.notify);
    assert!(
        d.reason
            .starts_with("held: paused by arn:aws:iam::123456789012:user/oncall until")
            && d.reason.contains("would have scale_out 3→5"),
        "{}",
        d.reason
    );
    let next = d.state.expect("state");
    assert!(
        next.actions.is_empty(),
        "no reservation is left to be finished"
    );
    let again = with(&next, None, 20);
    assert_eq!(again.held, Some(Held::Paused));
    assert!(!again.notify, "announced once per pause");
}

#[test]
fn a_pause_past_its_end_is_over_and_says_so() {
    let d = with(&paused(60), None, 61);
    assert_eq!(d.verdict, Verdict::Act);
    assert!(matches!(d.effect, Some(Effect::SetDesired { .. })));
    assert!(d.reason.starts_with("automation is back"), "{}", d.reason);
    assert!(d.state.is_some_and(|s| s.pause.is_none()));
}

#[test]
fn the_window_holds_the_change_once_per_window() {
    let d = with(
        &TargetState::default(),
        Some("window 2026-12-06 in progress"),
        1,
    );
    assert_eq!(
        (d.verdict, d.held, d.effect),
        (Verdict::Suppressed, Some(Held::Window), None)
    );
    assert!(d.notify && d.reason.contains("maintenance window"));
    let next = d.state.expect("state");
    let again = with(&next, Some("window 2026-12-06 in progress"), 30);
    assert!(!again.notify);
    // A pause and a window: the pause is named (a human asked for it).
    let d = with(&paused(60), Some("window"), 1);
    assert_eq!(d.held, Some(Held::Paused));
}

fn scaled_incident() -> TargetState {
    let mut s = incident(&[CPU], Some(5));
    if let Some(i) = s.incident.as_mut() {
        i.scaling_before = Some((2, 10));
    }
    s
}

fn ok_at(state: &TargetState, desired: i32, minutes: i64) -> Decision {
    let p = Policy::built_in().expect("policy");
    let h = home();
    let observed = svc(desired);
    let at = t0() + Duration::minutes(minutes);
    judge(
        &alarm(CPU, AlarmState::Ok, at),
        Facts {
            policy: &p,
            home: &h,
            observed: Some(&observed),
            live: &live(&[(CPU, AlarmState::Ok)]),
            state,
            window: None,
            now: at,
        },
    )
}

#[test]
fn a_held_close_keeps_its_incident_and_the_next_ok_restores_both() {
    let mut state = scaled_incident();
    state.pause = paused(60).pause;
    let d = ok_at(&state, 5, 10);
    assert_eq!(
        (d.verdict, d.held),
        (Verdict::Suppressed, Some(Held::Paused))
    );
    let kept = d.state.expect("state");
    let inc = kept
        .incident
        .as_ref()
        .expect("the incident is kept for its restore");
    assert!(inc.firing.is_empty() && inc.scaling_before == Some((2, 10)));
    // After the pause, an OK (the tick's, of this moment) closes it and puts everything back.
    let d = ok_at(&kept, 5, 70);
    assert_eq!(d.verdict, Verdict::Act, "{d:?}");
    assert_eq!(d.effect, Some(Effect::SetDesired { from: 5, to: 3 }));
    assert_eq!(d.bounds, Some((2, 10)));
}

#[test]
fn every_close_puts_auto_scalings_bounds_back() {
    // Target tracking scaled out above our 5: the count is left, the bounds go back.
    let d = ok_at(&scaled_incident(), 7, 10);
    assert_eq!(d.verdict, Verdict::Act, "{d:?}");
    assert_eq!(d.effect, Some(Effect::SetDesired { from: 7, to: 7 }));
    assert_eq!(d.bounds, Some((2, 10)));
}
