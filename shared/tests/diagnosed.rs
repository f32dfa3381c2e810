//! Diagnose before acting, what a finding does: every finding against every rule, once per
//! incident, the notice's three lines, the policy's checks and the post-mortem draft.

mod common;

use axiom_ops::model::{Action, AlarmState, Effect, Outcome, ServiceEvent, Severity, Sourced};
use axiom_ops::policy::Policy;
use axiom_ops::remediate::decide::{decide_with, Held, Verdict};
use axiom_ops::remediate::diagnose::{classify, Diagnosis, Finding};
use axiom_ops::remediate::state::{Incident, TargetState, TimelineEntry};
use chrono::{DateTime, Duration, Utc};
use common::evidence::{evidence, pulls, stopped, OOM, TD6, TD7};
use common::{alarm, svc, t0, CPU, DOWN};

fn policy_with(rollback: bool, scale_up: bool) -> Policy {
    let text = axiom_ops::policy::BUILT_IN
        .replace(
            "alarm = \"*-down-critical\"\naction = \"restart\"",
            &format!("alarm = \"*-down-critical\"\naction = \"restart\"\nrollback = {rollback}\nscale_up = {scale_up}"),
        )
        .replace(
            "alarm = \"*-cpu-critical\"\naction = \"scale_out\"",
            &format!("alarm = \"*-cpu-critical\"\naction = \"scale_out\"\nrollback = {rollback}\nscale_up = {scale_up}"),
        )
        + "\n[diagnosis.scale_up]\nfactor = 1.5\nmax_memory = 2048\n";
    Policy::from_toml(&text, "(test)").expect("policy with rollback/scale_up")
}

fn decided(
    name: &str,
    p: &Policy,
    dg: &Diagnosis,
    state: &TargetState,
) -> axiom_ops::remediate::decide::Decision {
    let mut observed = svc(3);
    observed.task_definition = Some(TD7.into());
    decide_with(
        &alarm(name, AlarmState::Alarm, t0()),
        p,
        Some(&observed),
        state,
        t0(),
        Some(dg),
    )
}

#[test]
fn every_finding_meets_every_rule_as_the_table_says() {
    let no_room = ServiceEvent {
        at: Some(t0()),
        message: "unable to place a task".into(),
    };
    let findings = [
        evidence(vec![], vec![], "stopped"),
        evidence(pulls(2), vec![], "available"),
        evidence(vec![stopped(Some(OOM), None, None, 1)], vec![], "available"),
        evidence(vec![], vec![no_room], "available"),
        evidence(vec![], vec![], "available"),
    ];
    for e in findings {
        let dg = classify(e);
        for (rollback, scale_up) in [(false, false), (true, false), (false, true), (true, true)] {
            let p = policy_with(rollback, scale_up);
            for name in [DOWN, CPU, "axiomcore-api-5xx-critical"] {
                let d = decided(name, &p, &dg, &TargetState::default());
                let blind = decide_with(
                    &alarm(name, AlarmState::Alarm, t0()),
                    &p,
                    Some(&svc(3)),
                    &TargetState::default(),
                    t0(),
                    None,
                );
                let what = format!(
                    "{:?} × {name} × rollback={rollback} scale_up={scale_up}: {}",
                    dg.finding, d.reason
                );
                match (&dg.finding, blind.ask) {
                    (Finding::DependencyDown { .. }, _) => {
                        assert_ne!(d.verdict, Verdict::Act, "{what}");
                        assert_eq!(d.severity, Severity::Sev1, "{what}");
                        assert!(
                            d.reason.contains("axiomcore-production is stopped"),
                            "{what}"
                        );
                    }
                    (Finding::CrashLoop { .. }, Action::Restart | Action::ScaleOut) if rollback => {
                        assert_eq!(d.verdict, Verdict::Act, "{what}");
                        assert_eq!(
                            d.effect,
                            Some(Effect::Rollback {
                                from: TD7.into(),
                                to: TD6.into()
                            }),
                            "{what}"
                        );
                    }
                    (Finding::CrashLoop { .. }, Action::Restart | Action::ScaleOut) => {
                        assert_eq!(
                            (d.verdict, d.held, d.severity),
                            (Verdict::NoAction, Some(Held::Diagnosed), Severity::Sev1),
                            "{what}"
                        );
                        assert!(
                            d.reason.contains("would not help")
                                && d.reason.contains("CannotPullContainerError"),
                            "{what}"
                        );
                    }
                    (Finding::OutOfMemory { .. }, Action::Restart | Action::ScaleOut)
                        if scale_up =>
                    {
                        assert_eq!(
                            d.effect,
                            Some(Effect::ScaleUp {
                                task_definition: TD7.into(),
                                from: 1024,
                                to: 2048
                            }),
                            "{what}"
                        );
                        assert!(d.reason.contains("OOM"), "{what}");
                    }
                    (Finding::OutOfMemory { .. }, Action::Restart | Action::ScaleOut) => {
                        assert_eq!(d.effect, blind.effect, "{what}");
                        assert!(d.reason.contains("OOM"), "{what}");
                    }
                    (Finding::NoRoom { .. }, Action::ScaleOut) => {
                        assert_eq!(
                            (d.verdict, d.held, d.severity),
                            (Verdict::NoAction, Some(Held::Diagnosed), Severity::Sev1),
                            "{what}"
                        );
                    }
                    _ => {
                        assert_eq!(
                            (d.verdict, &d.effect),
                            (blind.verdict, &blind.effect),
                            "{what}"
                        );
                    }
                }
            }
        }
    }
}

#[test]
fn a_rollback_and_a_scale_up_happen_once_per_incident() {
    let p = policy_with(true, true);
    let dg = classify(evidence(pulls(2), vec![], "available"));
    let first = decided(DOWN, &p, &dg, &TargetState::default());
    assert_eq!(first.ask, Action::Rollback);
    let after = first.state.clone().expect("state");
    assert!(after.incident.as_ref().is_some_and(|i| i.rolled_back));
    let mut later = after.clone();
    later.actions.clear();
    let again = decided(DOWN, &p, &dg, &later);
    assert_eq!(
        (again.verdict, again.held),
        (Verdict::NoAction, Some(Held::Diagnosed))
    );
    assert!(
        again.reason.contains("already rolled back once"),
        "{}",
        again.reason
    );

    let oom = classify(evidence(
        vec![stopped(Some(OOM), None, None, 1)],
        vec![],
        "available",
    ));
    let first = decided(DOWN, &p, &oom, &TargetState::default());
    assert_eq!(first.ask, Action::ScaleUp);
    let mut later = first.state.clone().expect("state");
    later.actions.clear();
    let again = decided(DOWN, &p, &oom, &later);
    assert_eq!(
        (again.ask, again.effect),
        (Action::Restart, Some(Effect::Restart))
    );
}

#[test]
fn a_notice_only_critical_alarm_with_the_database_down_pages() {
    let p = policy_with(false, false);
    let dg = classify(evidence(vec![], vec![], "stopped"));
    let d = decided(
        "axiomcore-api-5xx-critical",
        &p,
        &dg,
        &TargetState::default(),
    );
    assert_eq!((d.ask, d.severity), (Action::Notify, Severity::Sev1));
}

#[test]
fn the_policy_says_what_is_wrong_with_a_diagnosis_setting() {
    let bad = |extra: &str, rule: &str| {
        let text = axiom_ops::policy::BUILT_IN.replace(
            "alarm = \"*-warning\"\naction = \"notify\"",
            &format!("alarm = \"*-warning\"\naction = \"notify\"\n{rule}"),
        ) + extra;
        Policy::from_toml(&text, "p.toml")
            .map(|_| ())
            .map_err(|e| e.to_string())
    };
    assert!(bad("", "rollback = true")
        .unwrap_err()
        .contains("rollback and scale_up go only with restart or scale_out"));
    let p = axiom_ops::policy::BUILT_IN.replace(
        "severity = \"SEV1\"",
        "severity = \"SEV1\"\nscale_up = true",
    );
    assert!(Policy::from_toml(&p, "p.toml")
        .unwrap_err()
        .to_string()
        .contains("needs [diagnosis.scale_up]"));
    assert!(bad("\n[diagnosis]\nbudget = \"0s\"\n", "")
        .unwrap_err()
        .contains("diagnosis.budget"));
    assert!(bad("\n[diagnosis]\nbudget = \"3s\"\n", "")
        .unwrap_err()
        .contains("at most 2s"));
    assert!(bad(
        "\n[diagnosis.scale_up]\nfactor = 1.0\nmax_memory = 2048\n",
        ""
    )
    .unwrap_err()
    .contains("factor"));
    assert!(bad("", "").is_ok());
}

fn closed_incident() -> (Incident, DateTime<Utc>) {
    let open = t0();
    let e = |m: i64, what: &str, outcome| TimelineEntry {
        at: open + Duration::minutes(m),
        what: what.into(),
        outcome,
    };
    let inc = Incident {
        id: "axiomcore-production/api@20261120T030000.000Z".into(),
        opened_at: open,
        pre_incident_desired: 3,
        firing: Default::default(),
        fired: [DOWN.to_owned()].into(),
        severity: Severity::Sev1,
        circuit_open: false,
        last_set_desired: None,
        timeline: vec![
            e(
                0,
                "axiomcore-api-down-critical ALARM: Threshold Crossed",
                Outcome::NoAction,
            ),
            e(
                1,
                "restart: axiomcore-api-memory-critical is in ALARM",
                Outcome::Done,
            ),
        ],
        elided: 0,
        scaling_before: None,
        detected_at: Some(open + Duration::seconds(20)),
        rolled_back: false,
        scaled_up: false,
        diagnoses: vec![(
            open + Duration::seconds(20),
            "out of memory: 2 task(s) killed".into(),
        )],
    };
    (inc, open + Duration::minutes(12))
}

#[test]
fn a_post_mortem_draft_has_every_section_and_the_three_times() {
    let (inc, resolved) = closed_incident();
    let target = axiom_ops::model::Target::new("axiomcore-production", "api");
    let md = axiom_ops::remediate::postmortem::render(
        &inc,
        &target,
        resolved,
        "every alarm OK (no_action)",
    );
    for heading in [
        "## Summary",
        "## Impact window",
        "## Timeline (UTC)",
        "## Actions and outcomes",
        "## Diagnoses",
        "## Time to detect, mitigate, resolve",
        "## Root cause",
        "## Follow-up actions",
    ] {
        assert!(md.contains(heading), "{heading} missing:\n{md}");
    }
    assert!(
        md.contains("Time to detect (alarm → axiom-ops): 20s"),
        "{md}"
    );
    assert!(
        md.contains("Time to mitigate (alarm → first change done): 1m00s"),
        "{md}"
    );
    assert!(
        md.contains("Time to resolve (alarm → every alarm OK): 12m00s"),
        "{md}"
    );
    assert!(md.contains("out of memory: 2 task(s) killed"), "{md}");
    assert_eq!(
        axiom_ops::remediate::postmortem::key(&target, &inc.id),
        "postmortems/axiomcore-production/api/20261120T030000.000Z.md"
    );
}

#[test]
fn the_notice_text_says_the_diagnosis_in_at_most_three_lines() {
    let p = policy_with(false, false);
    let mut e = evidence(pulls(2), vec![], "available");
    e.databases = vec![Sourced::LeftOut(
        "axiomcore-production: no answer within the 2s budget".into(),
    )];
    let dg = classify(e);
    let d = decided(DOWN, &p, &dg, &TargetState::default());
    let keys = axiom_ops::model::LedgerKeys {
        pk: "target#x".into(),
        sk: "decision#y".into(),
    };
    let n = axiom_ops::remediate::notice::build(
        &alarm(DOWN, AlarmState::Alarm, t0()),
        &d,
        Outcome::NoAction,
        &keys,
        None,
        t0(),
    );
    let said: Vec<&str> = n
        .text
        .lines()
        .filter(|l| {
            l.starts_with("Diagnosis:")
                || l.starts_with("Last ERROR:")
                || l.starts_with("Left out:")
        })
        .collect();
    assert_eq!(
        said,
        [
            "Diagnosis: crash loop: the image cannot be pulled (CannotPullContainerError) (2 stops since the deployment of axiomcore-api:7)",
            "Last ERROR: ERROR db connect failed",
            "Left out: RDS: axiomcore-production: no answer within the 2s budget",
        ],
        "{}",
        n.text
    );
    assert_eq!(n.json["diagnosis"]["finding"]["kind"], "crash_loop");
    assert_eq!(
        n.json["diagnosis"]["evidence"]["service"]["read"]["stopped"]
            .as_array()
            .map(Vec::len),
        Some(2)
    );
    assert!(
        n.subject.contains("no restart, a human is needed"),
        "{}",
        n.subject
    );
}
