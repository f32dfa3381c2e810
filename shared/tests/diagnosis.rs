//! Diagnose before acting, the pure half: the classifier (evidence → finding) and redaction.

mod common;

use axiom_ops::model::{Evidence, ServiceEvent, Sourced, StoppedTask};
use axiom_ops::redact::{redact, redact_clip, MASK};
use axiom_ops::remediate::diagnose::{classify, Failure, Finding};
use chrono::Duration;
use common::evidence::{evidence, pulls, stopped, OOM, PULL, TD6, TD7};
use common::t0;
use proptest::prelude::*;

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
fn a_settled_deployment_without_a_rollout_state_is_not_a_fresh_one() {
    let mut e = evidence(pulls(2), vec![], "available");
    if let Sourced::Read(h) = &mut e.service {
        h.deployments[0].rollout = None;
        h.deployments[0].created_at = Some(t0() - Duration::days(3));
    }
    assert_eq!(classify(e.clone()).finding, Finding::Unclear);
    if let Sourced::Read(h) = &mut e.service {
        h.deployments[0].created_at = Some(t0() - Duration::minutes(30));
    }
    assert!(matches!(classify(e).finding, Finding::CrashLoop { .. }));
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
