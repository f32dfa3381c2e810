//! Retries of an action a transition already reserved: finished whatever came since, and redone
//! only while CloudWatch still agrees.

mod common;

use axiom_ops::model::{Action, AlarmState, Effect, ServiceStatus};
use axiom_ops::policy::Policy;
use axiom_ops::remediate::decide::{decide, judge, Facts, Held, Verdict};
use axiom_ops::remediate::state::{ActionRecord, ActionStatus, TargetState};
use chrono::Duration;
use common::*;

fn reserved(a: &axiom_ops::remediate::alarm::AlarmTransition, status: ActionStatus) -> TargetState {
    let mut state = incident(&[CPU], None);
    state.actions.push(ActionRecord {
        kind: Action::ScaleOut,
        at: t0(),
        event_key: a.event_key(),
        effect: Effect::SetDesired { from: 3, to: 5 },
        status,
        reason: "scale out".into(),
        bounds: None,
    });
    state
}

fn judged_at(
    a: &axiom_ops::remediate::alarm::AlarmTransition,
    cw: AlarmState,
    state: &TargetState,
    desired: i32,
) -> axiom_ops::remediate::decide::Decision {
    let p = Policy::built_in().expect("policy");
    let h = home();
    let observed = svc(desired);
    judge(
        a,
        Facts {
            policy: &p,
            home: &h,
            observed: Some(&observed),
            live: &live(&[(CPU, cw)]),
            state,
            window: None,
            now: t0() + Duration::minutes(11),
        },
    )
}

#[test]
fn a_retry_of_a_reserved_action_is_finished_whatever_came_since() {
    let a = alarm(CPU, AlarmState::Alarm, t0());
    for status in [ActionStatus::Done, ActionStatus::Unknown] {
        let mut state = reserved(&a, status);
        // A newer change was handled since, and CloudWatch says OK now.
        state.saw(CPU, t0() + Duration::minutes(10));
        let d = judged_at(&a, AlarmState::Ok, &state, 5);
        assert!(
            !matches!(d.held, Some(Held::Superseded | Held::Stale)),
            "{status:?}: {d:?}"
        );
        assert_eq!(
            d.verdict,
            Verdict::AlreadyDone,
            "{status:?}: ECS shows it done"
        );
        assert!(d.notify, "{status:?}: the retry ends announced");
    }
}

#[test]
fn an_unfinished_action_is_redone_only_while_cloudwatch_agrees() {
    let a = alarm(CPU, AlarmState::Alarm, t0());
    let state = reserved(&a, ActionStatus::Unknown);
    // ECS shows it did not happen (still 3).
    let d = judged_at(&a, AlarmState::Alarm, &state, 3);
    assert_eq!(
        (d.verdict, d.effect),
        (Verdict::Act, Some(Effect::SetDesired { from: 3, to: 5 }))
    );
    let d = judged_at(&a, AlarmState::Ok, &state, 3);
    assert_eq!(
        (d.verdict, d.effect, d.held),
        (Verdict::NoAction, None, Some(Held::Stale))
    );
    assert!(d.notify, "the unknown outcome's end is announced");
    let next = d.state.expect("the action is given up");
    assert_eq!(
        next.action_for(&a.event_key()).map(|r| r.status),
        Some(ActionStatus::Failed)
    );
}

#[test]
fn a_done_scale_out_is_confirmed_even_after_its_incident_closed() {
    // The scale-out happened; its invocation died before settling; the incident closed since.
    let a = alarm(CPU, AlarmState::Alarm, t0());
    let mut state = reserved(&a, ActionStatus::Pending);
    state.incident = None;
    let p = Policy::built_in().expect("policy");
    let d = decide(&a, &p, Some(&svc(5)), &state, t0() + Duration::minutes(20));
    assert_eq!(d.verdict, Verdict::AlreadyDone, "{d:?}");
}

#[test]
fn a_close_undoes_a_scale_out_whose_invocation_died_before_settling() {
    let a = alarm(CPU, AlarmState::Alarm, t0());
    let state = reserved(&a, ActionStatus::Pending);
    let ok = alarm(CPU, AlarmState::Ok, t0() + Duration::minutes(20));
    let p = Policy::built_in().expect("policy");
    let scaled: ServiceStatus = svc(5);
    let d = decide(&ok, &p, Some(&scaled), &state, t0() + Duration::minutes(20));
    assert_eq!((d.ask, d.verdict), (Action::Restore, Verdict::Act), "{d:?}");
    assert_eq!(d.effect, Some(Effect::SetDesired { from: 5, to: 3 }));
    // It did not happen (ECS still at 3): nothing to undo.
    let d = decide(&ok, &p, Some(&svc(3)), &state, t0() + Duration::minutes(20));
    assert_eq!(d.verdict, Verdict::NoAction, "{d:?}");
}
