//! What `remediate` believes before it decides: account and region, the event's clock, the order
//! of an alarm's changes, and CloudWatch's live view. Pure, so every branch is exercised here.

mod common;

use axiom_ops::model::{Action, AlarmState, Severity, Target};
use axiom_ops::remediate::alarm::AlarmKind;
use axiom_ops::remediate::decide::{decide, judge, Facts, Held, Live, Verdict, FUTURE_SKEW};
use axiom_ops::remediate::state::TargetState;
use axiom_ops::runtime::Home;
use chrono::Duration;
use common::*;
use proptest::prelude::*;

#[test]
fn a_confirmed_alarm_acts_exactly_as_before() {
    let a = alarm(CPU, AlarmState::Alarm, t0());
    let d = judged(
        &a,
        &live(&[(CPU, AlarmState::Alarm)]),
        &TargetState::default(),
        t0(),
    );
    let p = policy();
    let plain = decide(&a, &p, Some(&svc(3)), &TargetState::default(), t0());
    assert_eq!(
        (d.verdict, d.effect, d.ask),
        (plain.verdict, plain.effect, plain.ask)
    );
    assert_eq!(d.verdict, Verdict::Act);
    // And the transition is remembered as the newest handled.
    let next = d.state.expect("state to write");
    assert_eq!(next.seen(CPU), Some(t0()));
}

#[test]
fn another_account_or_region_changes_nothing_and_is_announced() {
    let mut by_account = alarm(CPU, AlarmState::Alarm, t0());
    by_account.account = Some("999999999999".into());
    let mut by_arn = alarm(CPU, AlarmState::Alarm, t0());
    by_arn.alarm_arn = Some(format!(
        "arn:aws:cloudwatch:us-east-1:999999999999:alarm:{CPU}"
    ));
    let mut by_region = alarm(CPU, AlarmState::Alarm, t0());
    by_region.region = Some("eu-west-1".into());
    for a in [by_account, by_arn, by_region] {
        let d = judged(
            &a,
            &live(&[(CPU, AlarmState::Alarm)]),
            &TargetState::default(),
            t0(),
        );
        assert_eq!(
            (d.verdict, d.held, d.effect.clone()),
            (Verdict::NoAction, Some(Held::Foreign), None)
        );
        assert!(d.notify && d.state.is_none(), "{d:?}");
        assert!(d.reason.contains("not this function's"), "{}", d.reason);
    }
}

#[test]
fn a_local_run_without_a_home_checks_no_account() {
    let mut a = alarm(CPU, AlarmState::Alarm, t0());
    a.account = Some("999999999999".into());
    let p = policy();
    let observed = svc(3);
    let d = judge(
        &a,
        Facts {
            policy: &p,
            home: &Home::default(),
            observed: Some(&observed),
            live: &live(&[(CPU, AlarmState::Alarm)]),
            state: &TargetState::default(),
            window: None,
            now: t0(),
        },
    );
    assert_eq!(d.verdict, Verdict::Act);
}

#[test]
fn dimensions_are_believed_only_on_our_alarms_and_cluster() {
    let mut billing = alarm("billing-down-critical", AlarmState::Alarm, t0());
    billing
        .dimensions
        .insert("ServiceName".into(), "api".into());
    let mut other_cluster = alarm(CPU, AlarmState::Alarm, t0());
    other_cluster
        .dimensions
        .insert("ClusterName".into(), "staging".into());
    for a in [billing, other_cluster] {
        let l = live(&[(a.alarm_name.as_str(), AlarmState::Alarm)]);
        let d = judged(&a, &l, &TargetState::default(), t0());
        assert_eq!(
            (d.verdict, d.held, d.effect.clone()),
            (Verdict::NoAction, Some(Held::NotAllowlisted), None),
            "{d:?}"
        );
        assert!(d.state.is_none());
    }
}

#[test]
fn a_timestamp_in_the_future_is_not_believed_and_not_remembered() {
    for ahead in [FUTURE_SKEW + Duration::seconds(1), Duration::days(365 * 70)] {
        let a = alarm(CPU, AlarmState::Alarm, t0() + ahead);
        let d = judged(
            &a,
            &live(&[(CPU, AlarmState::Alarm)]),
            &TargetState::default(),
            t0(),
        );
        assert_eq!(
            (d.verdict, d.held, d.effect),
            (Verdict::NoAction, Some(Held::Future), None)
        );
        assert!(
            d.state.is_none(),
            "nothing is written, so it never becomes the newest"
        );
    }
    // Within the skew it is a clock difference, and believed.
    let a = alarm(CPU, AlarmState::Alarm, t0() + FUTURE_SKEW);
    let d = judged(
        &a,
        &live(&[(CPU, AlarmState::Alarm)]),
        &TargetState::default(),
        t0(),
    );
    assert_eq!(d.verdict, Verdict::Act);
}

#[test]
fn a_late_older_transition_is_superseded_silently() {
    let mut state = TargetState::default();
    state.saw(CPU, t0() + Duration::minutes(10));
    let a = alarm(CPU, AlarmState::Alarm, t0());
    let d = judged(
        &a,
        &live(&[(CPU, AlarmState::Alarm)]),
        &state,
        t0() + Duration::minutes(11),
    );
    assert_eq!(
        (d.verdict, d.held, d.effect),
        (Verdict::NoAction, Some(Held::Superseded), None)
    );
    assert!(!d.notify && d.state.is_none());
}

#[test]
fn ok_then_a_late_alarm_does_not_scale_or_reopen() {
    // ALARM(t0) acted, OK(t2) closed and restored; then ALARM(t1) arrives late.
    let mut state = incident(&[CPU], Some(5));
    state.saw(CPU, t0());
    let ok = alarm(CPU, AlarmState::Ok, t0() + Duration::minutes(20));
    let d = judged(
        &ok,
        &live(&[(CPU, AlarmState::Ok)]),
        &state,
        t0() + Duration::minutes(20),
    );
    let state = d.state.expect("close written");
    assert!(state.incident.is_none());
    let late = alarm(CPU, AlarmState::Alarm, t0() + Duration::minutes(5));
    // Even should CloudWatch be in ALARM again by now, the late copy is older than what was handled.
    for cw in [AlarmState::Ok, AlarmState::Alarm] {
        let d = judged(
            &late,
            &live(&[(CPU, cw)]),
            &state,
            t0() + Duration::minutes(21),
        );
        assert_eq!(d.held, Some(Held::Superseded));
        assert_eq!(d.effect, None);
    }
}

#[test]
fn an_alarm_cloudwatch_does_not_know_is_announced_once_per_window() {
    let a = alarm(CPU, AlarmState::Alarm, t0());
    let d = judged(&a, &live(&[]), &TargetState::default(), t0());
    assert_eq!(
        (d.verdict, d.held, d.effect),
        (Verdict::NoAction, Some(Held::UnknownAlarm), None)
    );
    assert!(d.notify && d.reason.contains("CloudWatch has no alarm named"));
    assert_eq!(d.severity, Severity::Sev3);
    let state = d.state.expect("the rate limit is remembered");
    let again = alarm(CPU, AlarmState::Alarm, t0() + Duration::minutes(1));
    let d = judged(&again, &live(&[]), &state, t0() + Duration::minutes(1));
    assert_eq!(d.held, Some(Held::UnknownAlarm));
    assert!(!d.notify, "rate-limited like suppressions");
}

#[test]
fn suppressed_composite_actions_are_held_and_the_suppressor_named() {
    let mut in_event = alarm(DOWN, AlarmState::Alarm, t0());
    in_event.kind = AlarmKind::Composite;
    in_event.suppressed_by = Some("WaitPeriod".into());
    in_event.suppressor = Some("axiomcore-api-deploying-warning".into());
    // Named in the event: held even before CloudWatch is asked (a composite it does not list).
    for l in [live(&[]), live(&[(DOWN, AlarmState::Alarm)])] {
        let d = judged(&in_event, &l, &TargetState::default(), t0());
        assert_eq!(
            (d.verdict, d.held, d.effect),
            (Verdict::Suppressed, Some(Held::ActionsSuppressed), None)
        );
        assert!(
            d.reason.contains("axiomcore-api-deploying-warning") && d.reason.contains("WaitPeriod"),
            "{}",
            d.reason
        );
        assert!(d.notify);
    }
    // Named only by DescribeAlarms.
    let mut s = status(DOWN, AlarmState::Alarm);
    s.composite = true;
    s.suppressed_by = Some("ExtensionPeriod".into());
    s.suppressor = Some("axiomcore-api-deploying-warning".into());
    let d = judged(
        &alarm(DOWN, AlarmState::Alarm, t0()),
        &Live::of(vec![s]),
        &TargetState::default(),
        t0(),
    );
    assert_eq!(d.held, Some(Held::ActionsSuppressed));
    assert!(d.reason.contains("ExtensionPeriod"));
}

#[test]
fn a_stale_event_changes_nothing() {
    let a = alarm(CPU, AlarmState::Alarm, t0());
    let mut ok_now = status(CPU, AlarmState::Ok);
    ok_now.updated = Some(t0() + Duration::minutes(3));
    let d = judged(
        &a,
        &Live::of(vec![ok_now]),
        &TargetState::default(),
        t0() + Duration::minutes(4),
    );
    assert_eq!(
        (d.verdict, d.held, d.effect),
        (Verdict::NoAction, Some(Held::Stale), None)
    );
    assert!(!d.notify);
    // The event's own time is remembered, not CloudWatch's: a real change between the two is
    // not taken for an old one.
    let state = d.state.expect("remembered as handled");
    assert_eq!(state.seen(CPU), Some(t0()));
}

#[test]
fn cloudwatch_not_caught_up_decides_nothing_and_writes_nothing() {
    // The event says ALARM at 03:00; CloudWatch still says OK, since 02:59.
    let a = alarm(CPU, AlarmState::Alarm, t0());
    let mut behind = status(CPU, AlarmState::Ok);
    behind.updated = Some(t0() - Duration::minutes(1));
    let d = judged(&a, &Live::of(vec![behind]), &TargetState::default(), t0());
    assert_eq!(
        (d.verdict, d.held, d.effect),
        (Verdict::NoAction, Some(Held::Lagging), None)
    );
    assert!(d.state.is_none() && !d.notify);
}

#[test]
fn restore_only_when_every_alarm_of_the_incident_is_ok_in_cloudwatch() {
    // CPU and latency fired; latency's OK was lost, CPU's OK arrives: the incident closes.
    let state = incident(&[CPU, LATENCY], Some(5));
    let ok = alarm(CPU, AlarmState::Ok, t0() + Duration::minutes(30));
    let now = t0() + Duration::minutes(30);
    let observed = svc(5);
    let p = policy();
    let h = home();
    let facts = |l| Facts {
        policy: &p,
        home: &h,
        observed: Some(&observed),
        live: l,
        state: &state,
        window: None,
        now,
    };
    let both_ok = live(&[(CPU, AlarmState::Ok), (LATENCY, AlarmState::Ok)]);
    let d = judge(&ok, facts(&both_ok));
    assert_eq!((d.verdict, d.ask), (Verdict::Act, Action::Restore), "{d:?}");

    // Latency is still in ALARM in CloudWatch: the incident stays open, nothing restored.
    let latency_firing = live(&[(CPU, AlarmState::Ok), (LATENCY, AlarmState::Alarm)]);
    let d = judge(&ok, facts(&latency_firing));
    assert_eq!(d.verdict, Verdict::NoAction);
    assert!(d.state.and_then(|s| s.incident).is_some());

    // Only CPU fired, but latency's ALARM event never came while CloudWatch has it firing and it
    // was part of the incident: kept open too.
    let mut one = incident(&[CPU], Some(5));
    if let Some(i) = one.incident.as_mut() {
        i.fired.insert(LATENCY.into());
    }
    let d = judge(
        &ok,
        Facts {
            state: &one,
            ..facts(&latency_firing)
        },
    );
    assert_eq!(d.verdict, Verdict::NoAction);
}

#[test]
fn verification_off_believes_the_event() {
    let a = alarm(CPU, AlarmState::Alarm, t0());
    let d = judged(&a, &Live::Unverified, &TargetState::default(), t0());
    assert_eq!(d.verdict, Verdict::Act);
}

fn any_state() -> impl Strategy<Value = AlarmState> {
    prop_oneof![
        Just(AlarmState::Ok),
        Just(AlarmState::Alarm),
        Just(AlarmState::InsufficientData)
    ]
}

proptest! {
    /// Whatever CloudWatch says, an event it contradicts, does not know, or that names another
    /// account never changes the service.
    #[test]
    fn no_change_unless_cloudwatch_agrees(
        event in any_state(),
        cw in proptest::option::of(any_state()),
        foreign in any::<bool>(),
        name in prop::sample::select(vec![CPU, DOWN, LATENCY]),
    ) {
        let mut a = alarm(name, event, t0());
        if foreign { a.account = Some("999999999999".into()); }
        let l = match cw { Some(s) => live(&[(name, s)]), None => live(&[]) };
        let d = judged(&a, &l, &TargetState::default(), t0());
        if foreign || cw != Some(event) {
            prop_assert!(d.effect.is_none() && d.verdict != Verdict::Act, "{:?}", d);
        }
    }

    /// One forged far-future event must not silence the alarm: the next real transition acts.
    #[test]
    fn a_forged_future_event_never_silences_an_alarm(ahead_min in 6i64..5_000_000, later_min in 1i64..60) {
        let forged = alarm(CPU, AlarmState::Alarm, t0() + Duration::minutes(ahead_min));
        let d = judged(&forged, &live(&[(CPU, AlarmState::Alarm)]), &TargetState::default(), t0());
        let state = d.state.unwrap_or_default();
        let real = alarm(CPU, AlarmState::Alarm, t0() + Duration::minutes(later_min));
        let d = judged(&real, &live(&[(CPU, AlarmState::Alarm)]), &state, t0() + Duration::minutes(later_min));
        prop_assert_eq!(d.verdict, Verdict::Act);
    }
}

#[test]
fn target_of_a_foreign_event_is_still_named_for_the_record() {
    let mut a = alarm(CPU, AlarmState::Alarm, t0());
    a.region = Some("eu-west-1".into());
    let d = judged(
        &a,
        &live(&[(CPU, AlarmState::Alarm)]),
        &TargetState::default(),
        t0(),
    );
    assert_eq!(d.target, Some(Target::new("axiomcore-production", "api")));
}
