//! `remediate` end to end against moto: ECS changed, ledger written, notices read back from SNS
//! through an SQS subscription.

use axiom_ops::model::Target;
use axiom_ops::remediate::state::target_pk;
use axiom_ops::runtime::Job;
use integration_tests::{event, eventbridge, first, invocation, Env, TestResult};
use serde_json::Value;

fn api_pk() -> String {
    target_pk(&Target::new("axiomcore-production", "api"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_transition_by_three_paths_acts_once() -> TestResult {
    let env = Env::start().await?;
    let app = env.app();
    assert_eq!(env.desired("api").await, 3);

    let mut reports = Vec::new();
    for name in [
        "lambda-metric-alarm.json",
        "eventbridge-metric-alarm.json",
        "sns-metric-alarm.json",
    ] {
        reports.push(
            app.handle(&env.agree(event(name)).await, &invocation(), false)
                .await?,
        );
    }
    assert_eq!(first(&reports[0])["outcome"], "done");
    assert_eq!(first(&reports[0])["action"], "scale_out");
    assert_eq!(first(&reports[1])["duplicate"], true);
    assert_eq!(first(&reports[2])["duplicate"], true);
    assert_eq!(env.desired("api").await, 5, "scaled out by 2, once");

    let notices = env.inbox().await;
    assert_eq!(notices.len(), 1, "one notice: {notices:?}");
    let n = &notices[0];
    assert!(
        n.subject
            .starts_with("[SEV2] axiomcore-production/api scaled out 3→5"),
        "{}",
        n.subject
    );
    assert!(n.subject.chars().count() <= 100);
    assert_eq!(
        n.attributes.get("severity").map(String::as_str),
        Some("SEV2")
    );
    assert_eq!(
        n.attributes.get("action").map(String::as_str),
        Some("scale_out")
    );
    assert_eq!(
        n.attributes.get("outcome").map(String::as_str),
        Some("done")
    );
    assert_eq!(
        n.attributes.get("target").map(String::as_str),
        Some("axiomcore-production/api")
    );
    // The SQS subscriber gets the JSON body, with the ledger keys and the incident id.
    assert_eq!(n.message["desired"]["before"], 3);
    assert_eq!(n.message["desired"]["after"], 5);
    assert_eq!(n.message["ledger"]["pk"], api_pk());
    assert!(n.message["incident_id"]
        .as_str()
        .is_some_and(|s| s.starts_with("axiomcore-production/api@")));

    let history = env.history(&api_pk()).await;
    assert_eq!(history.len(), 1, "one decision recorded: {history:?}");
    assert_eq!(history[0]["outcome"], "done");
    assert_eq!(history[0]["before"], 3);
    assert_eq!(history[0]["after"], 5);
    assert_eq!(history[0]["request_id"], "test-request");
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_sample_is_handled_and_bad_input_changes_nothing() -> TestResult {
    let env = Env::start().await?;
    let app = env.app();
    let mut names: Vec<String> = std::fs::read_dir(integration_tests::events_dir())?
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| {
            n.ends_with(".json")
                && ![
                    "schedule-",
                    "maintenance-",
                    "certwatch-",
                    "backup-",
                    "drill-",
                ]
                .iter()
                .any(|other_job| n.starts_with(other_job))
        })
        .collect();
    names.sort();

    // Rejected first, while the world is known: nothing may change.
    let before = (
        env.desired("api").await,
        env.primary_deployment("api").await,
    );
    let err = app
        .handle(
            &env.agree(event("not-an-alarm.json")).await,
            &invocation(),
            false,
        )
        .await
        .expect_err("not an alarm");
    assert!(
        err.to_string()
            .contains("expected one of: a CloudWatch alarm"),
        "{err}"
    );
    assert_eq!(
        (
            env.desired("api").await,
            env.primary_deployment("api").await
        ),
        before
    );
    assert!(env.inbox().await.is_empty());

    let ignored = app
        .handle(
            &env.agree(event("eventbridge-config-change.json")).await,
            &invocation(),
            false,
        )
        .await?;
    assert!(
        ignored["ignored"]
            .as_str()
            .is_some_and(|s| s.contains("Configuration Change")),
        "{ignored}"
    );

    for name in names
        .iter()
        .filter(|n| *n != "not-an-alarm.json" && *n != "eventbridge-config-change.json")
    {
        let report = app
            .handle(&env.agree(event(name)).await, &invocation(), false)
            .await;
        let report = report.map_err(|e| format!("{name}: {e}"))?;
        if name == "reconcile-tick.json" {
            assert!(
                report["reconcile"]["results"].is_array(),
                "{name}: {report}"
            );
            continue;
        }
        let r = first(&report);
        assert!(
            r.get("outcome").is_some() || r["duplicate"] == true,
            "{name}: {report}"
        );
    }
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn restart_forces_a_new_deployment_then_cooldown_holds_the_next() -> TestResult {
    let env = Env::start().await?;
    let app = env.app();
    let d0 = env.primary_deployment("api").await;

    let r = app
        .handle(
            &env.agree(eventbridge(
                "axiomcore-api-down-critical",
                "ALARM",
                "2026-11-20T03:00:00.000+0000",
            ))
            .await,
            &invocation(),
            false,
        )
        .await?;
    assert_eq!(first(&r)["outcome"], "done", "{r}");
    assert_eq!(first(&r)["severity"], "SEV1");
    let d1 = env.primary_deployment("api").await;
    assert_ne!(d0, d1, "a new PRIMARY deployment");

    // Another restart alarm two minutes later: within the 10-minute cooldown.
    let r = app
        .handle(
            &env.agree(eventbridge(
                "axiomcore-api-errors-critical",
                "ALARM",
                "2026-11-20T03:02:00.000+0000",
            ))
            .await,
            &invocation(),
            false,
        )
        .await?;
    assert_eq!(first(&r)["outcome"], "suppressed", "{r}");
    assert_eq!(env.primary_deployment("api").await, d1, "no second restart");

    let notices = env.inbox().await;
    let subjects: Vec<&str> = notices.iter().map(|n| n.subject.as_str()).collect();
    assert_eq!(notices.len(), 2, "{subjects:?}");
    assert!(
        subjects
            .iter()
            .any(|s| s.starts_with("[SEV1] axiomcore-production/api restarted")),
        "{subjects:?}"
    );
    assert!(
        subjects.iter().any(|s| s.contains("restart suppressed")),
        "{subjects:?}"
    );
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn incident_closes_restores_the_count_and_tells_the_story() -> TestResult {
    let env = Env::start().await?;
    let app = env.app();
    app.handle(
        &env.agree(event("eventbridge-metric-alarm.json")).await,
        &invocation(),
        false,
    )
    .await?;
    assert_eq!(env.desired("api").await, 5);
    let r = app
        .handle(
            &env.agree(event("eventbridge-metric-ok.json")).await,
            &invocation(),
            false,
        )
        .await?;
    assert_eq!(first(&r)["action"], "restore", "{r}");
    assert_eq!(first(&r)["outcome"], "done", "{r}");
    assert_eq!(
        env.desired("api").await,
        3,
        "back to the pre-incident count"
    );

    let notices = env.inbox().await;
    let close = notices
        .iter()
        .find(|n| n.attributes.get("action").map(String::as_str) == Some("restore"))
        .expect("a close notice");
    assert!(close.subject.contains("resolved in"), "{}", close.subject);
    let story = &close.message["closed_incident"];
    assert_eq!(story["pre_incident_desired"], 3);
    assert!(story["seconds_to_resolve"].as_i64().is_some_and(|s| s > 0));
    let timeline = story["timeline"].as_array().expect("timeline");
    assert!(timeline
        .iter()
        .any(|e| e["what"].as_str().is_some_and(|w| w.contains("ALARM"))));
    assert!(timeline.iter().any(|e| e["outcome"] == "done"));
    assert_eq!(env.history(&api_pk()).await.len(), 2);
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_invocations_for_one_target_act_once() -> TestResult {
    let env = Env::start().await?;
    let (a, b) = (env.app(), env.app());
    // Two different alarms asking for a scale-out of api at the same moment.
    let cpu = env
        .agree(eventbridge(
            "axiomcore-api-cpu-critical",
            "ALARM",
            "2026-11-20T04:00:00.000+0000",
        ))
        .await;
    let lat = env
        .agree(eventbridge(
            "axiomcore-api-latency-critical",
            "ALARM",
            "2026-11-20T04:00:00.500+0000",
        ))
        .await;
    let inv = invocation();
    let (ra, rb) = tokio::join!(a.handle(&cpu, &inv, false), b.handle(&lat, &inv, false));
    let outcomes = [
        first(&ra?)["outcome"].clone(),
        first(&rb?)["outcome"].clone(),
    ];
    assert!(
        outcomes.contains(&Value::from("done")) && outcomes.contains(&Value::from("suppressed")),
        "{outcomes:?}"
    );
    assert_eq!(env.desired("api").await, 5, "one scale-out");

    // The same event twice at once: one handles it, the other sees a duplicate.
    let down = env
        .agree(eventbridge(
            "axiomcore-frontend-down-critical",
            "ALARM",
            "2026-11-20T04:01:00.000+0000",
        ))
        .await;
    let d0 = env.primary_deployment("frontend").await;
    let (ra, rb) = tokio::join!(a.handle(&down, &inv, false), b.handle(&down, &inv, false));
    let (ra, rb) = (ra?, rb?);
    let dups = [
        first(&ra)["duplicate"] == true,
        first(&rb)["duplicate"] == true,
    ];
    assert_eq!(dups.iter().filter(|d| **d).count(), 1, "{ra} {rb}");
    assert_ne!(env.primary_deployment("frontend").await, d0);
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dry_run_changes_nothing_and_says_what_it_would_do() -> TestResult {
    let env = Env::start().await?;
    let dry = env.app_with(&env.sdk, true);
    let d0 = env.primary_deployment("api").await;
    let r = dry
        .handle(
            &env.agree(event("eventbridge-metric-alarm.json")).await,
            &invocation(),
            false,
        )
        .await?;
    assert_eq!(first(&r)["outcome"], "dry_run", "{r}");
    assert_eq!(first(&r)["after"], 5);
    let r = dry
        .handle(
            &env.agree(eventbridge(
                "axiomcore-api-down-critical",
                "ALARM",
                "2026-11-20T03:06:00.000+0000",
            ))
            .await,
            &invocation(),
            false,
        )
        .await?;
    assert_eq!(first(&r)["outcome"], "dry_run", "{r}");
    assert_eq!(env.desired("api").await, 3);
    assert_eq!(env.primary_deployment("api").await, d0);
    let notices = env.inbox().await;
    assert_eq!(notices.len(), 2);
    assert!(notices
        .iter()
        .all(|n| n.attributes.get("outcome").map(String::as_str) == Some("dry_run")));
    assert!(
        notices
            .iter()
            .any(|n| n.subject.contains("would scale-out 3→5 (dry run)")),
        "{notices:?}"
    );

    // A dry run shares nothing with the live ledger: the same event, live, still acts.
    let live = env.app();
    let r = live
        .handle(
            &env.agree(event("eventbridge-metric-alarm.json")).await,
            &invocation(),
            false,
        )
        .await?;
    assert_eq!(first(&r)["outcome"], "done", "{r}");
    assert_eq!(env.desired("api").await, 5);
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn alarm_storm_acts_the_guarded_number_of_times() -> TestResult {
    let env = Env::start().await?;
    let app = env.app();
    // 40 CPU alarm transitions (distinct timestamps) for api, as from a flapping alarm.
    for i in 0..40 {
        let ts = format!("2026-11-20T05:00:{:02}.000+0000", i);
        app.handle(
            &env.agree(eventbridge("axiomcore-api-cpu-critical", "ALARM", &ts))
                .await,
            &invocation(),
            false,
        )
        .await?;
    }
    assert_eq!(
        env.desired("api").await,
        5,
        "one scale-out within the cooldown"
    );
    let notices = env.inbox().await;
    let by_outcome = |o: &str| {
        notices
            .iter()
            .filter(|n| n.attributes.get("outcome").map(String::as_str) == Some(o))
            .count()
    };
    assert_eq!(by_outcome("done"), 1);
    assert_eq!(
        by_outcome("suppressed"),
        1,
        "one suppression notice per cooldown window"
    );
    assert_eq!(
        env.history(&api_pk()).await.len(),
        40,
        "every decision is recorded"
    );
    Ok(())
}
