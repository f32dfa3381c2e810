//! Diagnose before acting: the classifier (evidence → finding), what a finding does to each
//! rule's change, redaction, and the post-mortem draft. All pure.

mod common;

use axiom_ops::model::Outcome;
use axiom_ops::model::{
    Action, AlarmState, ContainerExit, DbHealth, Deployment, Effect, Evidence, LogLine,
    ServiceEvent, ServiceHistory, Severity, Sourced, StoppedTask,
};
use axiom_ops::policy::Policy;
use axiom_ops::redact::{redact, redact_clip, MASK};
use axiom_ops::remediate::decide::{decide_with, Held, Verdict};
use axiom_ops::remediate::diagnose::{classify, Diagnosis, Failure, Finding};
use axiom_ops::remediate::state::{Incident, TargetState, TimelineEntry};
use chrono::{DateTime, Duration, Utc};
use common::{alarm, svc, t0, CPU, DOWN};
use proptest::prelude::*;

const TD7: &str = "arn:aws:ecs:us-east-1:123456789012:task-definition/axiomcore-api:7";
const TD6: &str = "arn:aws:ecs:us-east-1:123456789012:task-definition/axiomcore-api:6";
const PULL: &str = "CannotPullContainerError: pull image manifest has been retried 5 time(s)";
const OOM: &str = "OutOfMemoryError: Container killed due to memory usage";

fn deployments() -> Vec<Deployment> {
    let d = |status: &str, td: &str, ago: i64| Deployment {
        id: format!("ecs-svc/{ago}"),
        status: status.into(),
        rollout: Some(
            if status == "PRIMARY" {
                "IN_PROGRESS"
            } else {
                "COMPLETED"
            }
            .into(),
        ),
        task_definition: td.into(),
        created_at: Some(t0() - Duration::minutes(ago)),
        failed_tasks: 0,
        desired: 3,
        running: 3,
    };
    vec![d("PRIMARY", TD7, 10), d("ACTIVE", TD6, 600)]
}

fn stopped(reason: Option<&str>, code: Option<&str>, exit: Option<i32>, ago: i64) -> StoppedTask {
    StoppedTask {
        id: format!("task-{ago}"),
        task_definition: TD7.into(),
        started_at: Some(t0() - Duration::minutes(ago) - Duration::seconds(30)),
        stopped_at: Some(t0() - Duration::minutes(ago)),
        stop_code: code.map(str::to_owned),
        stopped_reason: reason.map(str::to_owned),
        containers: vec![ContainerExit {
            name: "api".into(),
            exit_code: exit,
            reason: None,
        }],
    }
}

fn evidence(tasks: Vec<StoppedTask>, events: Vec<ServiceEvent>, db: &str) -> Evidence {
    Evidence {
        at: t0(),
        service: Sourced::Read(ServiceHistory {
            deployments: deployments(),
            events,
            stopped: tasks,
            task_memory: Some(1024),
        }),
        log_group: "/aws/ecs/axiomcore/api".into(),
        logs: Sourced::Read(vec![LogLine {
            at: Some(t0()),
            message: "ERROR db connect failed".into(),
        }]),
        databases: vec![Sourced::Read(DbHealth {
            id: "axiomcore-production".into(),
            status: db.into(),
        })],
    }
}

fn pulls(n: usize) -> Vec<StoppedTask> {
    (0..n)
        .map(|i| stopped(Some(PULL), Some("TaskFailedToStart"), None, 1 + i as i64))
        .collect()
}

#[test]
fn the_classifier_reads_the_runbooks() {
    let essential = "Essential container in task exited";
    let no_room = ServiceEvent {
        at: Some(t0() - Duration::minutes(2)),
        message: "(service api) was unable to place a task because no container instance met all of its requirements.".into(),
    };
    let cases: Vec<(&str, Evidence, Finding)> = vec![
        (
            "database stopped beats everything",
            evidence(pulls(3), vec![], "stopped"),
            Finding::DependencyDown {
                database: "axiomcore-production".into(),
                status: "stopped".into(),
            },
        ),
        (
            "one OOM kill",
            evidence(vec![stopped(Some(OOM), None, None, 1)], vec![], "available"),
            Finding::OutOfMemory {
                stops: 1,
                memory: Some(1024),
            },
        ),
        (
            "a 137 of the kernel is OOM",
            evidence(
                vec![stopped(
                    Some(essential),
                    Some("EssentialContainerExited"),
                    Some(137),
                    1,
                )],
                vec![],
                "available",
            ),
            Finding::OutOfMemory {
                stops: 1,
                memory: Some(1024),
            },
        ),
        (
            "a 137 of ECS stopping the task is not",
            evidence(
                vec![stopped(
                    Some("Scaling activity"),
                    Some("ServiceSchedulerInitiated"),
                    Some(137),
                    1,
                )],
                vec![],
                "available",
            ),
            Finding::Unclear,
        ),
        (
            "repeated pull failures since the deployment",
            evidence(pulls(2), vec![], "backing-up"),
            Finding::CrashLoop {
                failure: Failure::ImagePull,
                stops: 2,
                deployment: Some(TD7.into()),
                rollback_to: Some(TD6.into()),
                example: Some(PULL.into()),
            },
        ),
        (
            "one pull failure is not a loop",
            evidence(pulls(1), vec![], "available"),
            Finding::Unclear,
        ),
        (
            "stops older than the deployment say nothing of it",
            evidence(
                vec![
                    stopped(Some(PULL), None, None, 20),
                    stopped(Some(PULL), None, None, 12),
                ],
                vec![],
                "available",
            ),
            Finding::Unclear,
        ),
        (
            "the same exit code of an essential container",
            evidence(
                vec![
                    stopped(
                        Some(essential),
                        Some("EssentialContainerExited"),
                        Some(1),
                        1,
                    ),
                    stopped(
                        Some(essential),
                        Some("EssentialContainerExited"),
                        Some(1),
                        2,
                    ),
                    stopped(
                        Some(essential),
                        Some("EssentialContainerExited"),
                        Some(2),
                        3,
                    ),
                ],
                vec![],
                "available",
            ),
            Finding::CrashLoop {
                failure: Failure::Exit(1),
                stops: 2,
                deployment: Some(TD7.into()),
                rollback_to: Some(TD6.into()),
                example: Some(essential.into()),
            },
        ),
        (
            "no room to place tasks",
            evidence(vec![], vec![no_room.clone()], "available"),
            Finding::NoRoom {
                message: no_room.message.clone(),
            },
        ),
        (
            "an old placement failure is history",
            evidence(
                vec![],
                vec![ServiceEvent {
                    at: Some(t0() - Duration::minutes(40)),
                    ..no_room.clone()
                }],
                "available",
            ),
            Finding::Unclear,
        ),
    ];
    for (what, e, want) in cases {
        assert_eq!(classify(e).finding, want, "{what}");
    }
}

#[test]
fn a_source_left_out_is_not_a_finding_and_is_said() {
    let mut e = evidence(vec![], vec![], "available");
    e.databases = vec![Sourced::LeftOut(
        "axiomcore-production: no answer within the 2s budget".into(),
    )];
    e.logs = Sourced::LeftOut("no answer within the 2s budget".into());
    let dg = classify(e);
    assert_eq!(dg.finding, Finding::Unclear);
    let summary = dg.summary();
    assert!(summary.len() <= 3, "{summary:?}");
    assert!(summary
        .iter()
        .any(|l| l.contains("Left out") && l.contains("logs /aws/ecs/axiomcore/api")));
}

fn stop_strategy() -> impl Strategy<Value = StoppedTask> {
    let reasons = prop_oneof![
        Just(None),
        Just(Some(PULL)),
        Just(Some(OOM)),
        Just(Some("ResourceInitializationError: unable to pull secrets")),
        Just(Some("Task failed container health checks")),
        Just(Some("Essential container in task exited")),
        Just(Some("Scaling activity initiated by (deployment ecs-svc/1)")),
    ];
    let codes = prop_oneof![
        Just(None),
        Just(Some("EssentialContainerExited")),
        Just(Some("TaskFailedToStart")),
        Just(Some("ServiceSchedulerInitiated")),
        Just(Some("UserInitiated")),
    ];
    let exits = prop_oneof![Just(None), Just(Some(0)), Just(Some(1)), Just(Some(137))];
    (reasons, codes, exits, 0i64..30).prop_map(|(r, c, x, ago)| stopped(r, c, x, ago))
}

fn db_strategy() -> impl Strategy<Value = &'static str> {
    prop_oneof![
        Just("available"),
        Just("backing-up"),
        Just("stopped"),
        Just("rebooting"),
        Just("failed"),
    ]
}

proptest! {
    #[test]
    fn findings_follow_their_evidence(tasks in proptest::collection::vec(stop_strategy(), 0..6), db in db_strategy()) {
        let dg = classify(evidence(tasks.clone(), vec![], db));
        let serving = matches!(db, "available" | "backing-up");
        // Started since the newest deployment (ten minutes ago) and stopped in the last 15.
        let recent_since_deploy = |t: &StoppedTask| t.started_at.is_some_and(|s| s >= t0() - Duration::minutes(10));
        let is_oom = |t: &StoppedTask| {
            t.stopped_reason.as_deref() == Some(OOM)
                || (t.containers[0].exit_code == Some(137)
                    && !matches!(t.stop_code.as_deref(), Some("ServiceSchedulerInitiated" | "UserInitiated")))
        };
        let recent: Vec<&StoppedTask> = tasks.iter().filter(|t| recent_since_deploy(t)).collect();
        let ooms = recent.iter().filter(|t| is_oom(t)).count();
        // Image pull failures alone already make a loop when they outnumber the OOM kills.
        let pulls = recent.iter().filter(|t| !is_oom(t) && t.stopped_reason.as_deref() == Some(PULL)).count();
        let pull_loop = pulls >= 2 && pulls > ooms;
        match &dg.finding {
            Finding::DependencyDown { status, .. } => prop_assert!(!serving && status == db),
            Finding::OutOfMemory { stops, .. } => prop_assert!(serving && *stops == ooms && ooms > 0 && !pull_loop),
            Finding::CrashLoop { stops, .. } => prop_assert!(serving && *stops >= 2 && *stops > ooms),
            Finding::NoRoom { .. } => prop_assert!(false, "no events were given"),
            Finding::Unclear => prop_assert!(serving && ooms == 0 && !pull_loop),
        }
        prop_assert!(dg.summary().len() <= 3);
    }

    #[test]
    fn a_secret_after_its_key_never_leaves(
        key in prop_oneof![Just("password"), Just("DB_PASSWORD"), Just("api_key"), Just("x-auth-token"), Just("SECRET"), Just("client_secret")],
        sep in prop_oneof![Just("="), Just(": "), Just("=>"), Just(" = ")],
        secret in "[A-Za-z0-9!#%*]{1,40}",
    ) {
        let line = format!("ERROR login {key}{sep}{secret} rejected");
        prop_assert_eq!(redact(&line), format!("ERROR login {key}{sep}{MASK} rejected"));
        let json = format!("{{\"{key}\": \"{secret}\", \"user\": \"app\"}}");
        prop_assert_eq!(redact(&json), format!("{{\"{key}\": \"{MASK}\", \"user\": \"app\"}}"));
    }

    #[test]
    fn a_long_token_never_leaves(token in "[A-Za-z]{5,20}[0-9]{1,5}[A-Za-z0-9+/]{14,40}") {
        let line = format!("ERROR upstream rejected {token} (401)");
        prop_assert_eq!(redact(&line), format!("ERROR upstream rejected {MASK} (401)"));
    }

    #[test]
    fn a_clipped_line_is_one_bounded_line(text in "\\PC{0,600}", brk in "[\n\r\t]{0,3}") {
        let r = redact_clip(&format!("{text}{brk}{text}"), 300);
        prop_assert!(r.chars().count() <= 300);
        prop_assert!(!r.contains('\n') && !r.contains('\r'));
    }
}

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
