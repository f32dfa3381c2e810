//! `remediate` believes CloudWatch, not the event: forged, foreign, stale, out-of-order and
//! unknown events change nothing; a lost OK is closed by the reconcile tick; a failure at any
//! point after the change still ends with it recorded and announced once.

use std::time::Duration;

use axiom_ops::runtime::{Invocation, Job};
use integration_tests::{
    api_pk, cpu_alarm_now, event, eventbridge, first, inv_home as inv, inv_home_later as inv_later,
    proxied, Env, TestResult,
};
use serde_json::{json, Value};
use testkit::fault_proxy::Fault;
use testkit::{ACCOUNT, REGION};

const CPU: &str = "axiomcore-api-cpu-critical";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forged_foreign_stale_and_unknown_events_change_nothing() -> TestResult {
    let env = Env::start().await?;
    let app = env.app();
    let d0 = env.primary_deployment("api").await;

    // CloudWatch has no such alarm.
    let r = app
        .handle(
            &eventbridge(CPU, "ALARM", "2026-11-20T03:00:00.000+0000"),
            &inv(),
            false,
        )
        .await?;
    assert_eq!(first(&r)["held_by"], "unknown_alarm", "{r}");
    let mut cases: Vec<(&str, Value)> = Vec::new();
    // Another account, another region.
    env.set_alarm(CPU, "ALARM").await;
    let mut other_account = eventbridge(CPU, "ALARM", "2026-11-20T03:01:00.000+0000");
    other_account["account"] = json!("999999999999");
    other_account["resources"] = json!([format!(
        "arn:aws:cloudwatch:us-east-1:999999999999:alarm:{CPU}"
    )]);
    cases.push(("other account", other_account));
    let mut other_region = eventbridge(CPU, "ALARM", "2026-11-20T03:02:00.000+0000");
    other_region["region"] = json!("eu-west-1");
    cases.push(("other region", other_region));
    // A name without the policy's prefix, with api's dimensions.
    env.set_alarm("billing-down-critical", "ALARM").await;
    let mut billing = event("eventbridge-metric-alarm.json");
    billing["detail"]["alarmName"] = json!("billing-down-critical");
    cases.push(("not our alarm", billing));
    // Far in the future.
    cases.push((
        "future",
        eventbridge(CPU, "ALARM", "2100-01-01T00:00:00.000+0000"),
    ));
    for (what, ev) in cases {
        let r = app.handle(&ev, &inv(), false).await?;
        let r = first(&r);
        assert_eq!(r["outcome"], "no_action", "{what}: {r}");
        assert!(r["after"].is_null() || r["after"] == 3, "{what}: {r}");
    }
    // CloudWatch says OK now: an ALARM event is stale.
    env.set_alarm(CPU, "OK").await;
    let r = app
        .handle(
            &eventbridge(CPU, "ALARM", "2026-11-20T03:03:00.000+0000"),
            &inv(),
            false,
        )
        .await?;
    assert_eq!(first(&r)["held_by"], "stale", "{r}");
    assert_eq!(env.desired("api").await, 3);
    assert_eq!(env.primary_deployment("api").await, d0);

    // The future event did not become the newest handled: a real one still acts.
    env.set_alarm(CPU, "ALARM").await;
    let r = app
        .handle(&env.agree(cpu_alarm_now()).await, &inv(), false)
        .await?;
    assert_eq!(first(&r)["outcome"], "done", "{r}");
    assert_eq!(env.desired("api").await, 5);

    let notices = env.inbox().await;
    let subjects: Vec<&str> = notices.iter().map(|n| n.subject.as_str()).collect();
    assert!(
        subjects
            .iter()
            .any(|s| s.contains("no such alarm in CloudWatch")),
        "{subjects:?}"
    );
    assert!(
        subjects
            .iter()
            .any(|s| s.contains("another account or region")),
        "{subjects:?}"
    );
    assert!(
        !subjects.iter().any(|s| s.contains("stale")),
        "stale events are recorded, not announced: {subjects:?}"
    );
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ok_then_a_late_alarm_is_superseded() -> TestResult {
    let env = Env::start().await?;
    let app = env.app();
    let alarm = env.agree(event("eventbridge-metric-alarm.json")).await;
    app.handle(&alarm, &inv(), false).await?;
    assert_eq!(env.desired("api").await, 5);
    let ok = env.agree(event("eventbridge-metric-ok.json")).await;
    let r = app.handle(&ok, &inv(), false).await?;
    assert_eq!(first(&r)["action"], "restore", "{r}");
    assert_eq!(env.desired("api").await, 3);

    // An ALARM between the two, delivered late (a DLQ replay), while CloudWatch is in ALARM again.
    env.set_alarm(CPU, "ALARM").await;
    let r = app
        .handle(
            &eventbridge(CPU, "ALARM", "2026-11-20T03:10:00.000+0000"),
            &inv(),
            false,
        )
        .await?;
    assert_eq!(first(&r)["held_by"], "superseded", "{r}");
    assert_eq!(env.desired("api").await, 3, "no scale-out");
    assert!(
        env.inbox()
            .await
            .iter()
            .all(|n| !n.subject.contains("superseded")),
        "superseded transitions are not announced"
    );
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn input_from_outside_is_cleaned_and_bounded() -> TestResult {
    let env = Env::start().await?;
    let app = env.app();
    // A newline in the alarm name must not forge a line of the notice body.
    let forged = eventbridge(
        "axiomcore-api-down-critical\nAction:   restart → done",
        "ALARM",
        "2026-11-20T03:00:00.000+0000",
    );
    app.handle(&forged, &inv(), false).await?;
    let notices = env.inbox().await;
    assert_eq!(notices.len(), 1);
    let name = notices[0].message["alarm"]["name"]
        .as_str()
        .unwrap_or_default();
    assert!(!name.chars().any(char::is_control), "{name:?}");
    assert!(!notices[0].subject.chars().any(char::is_control));

    // A 5 MB payload is not echoed back.
    let big = json!({ "detail-type": "CloudWatch Alarm State Change", "source": "aws.cloudwatch",
        "detail": { "alarmName": 5, "state": "x".repeat(5 << 20) } });
    let e = app.handle(&big, &inv(), false).await.expect_err("rejected");
    assert!(e.to_string().len() < 1_000, "{} chars", e.to_string().len());

    // SQS records get the same message as any other wrong event.
    let sqs = json!({ "Records": [{ "eventSource": "aws:sqs", "body": "{}" }] });
    let e = app.handle(&sqs, &inv(), false).await.expect_err("rejected");
    assert!(
        e.to_string().contains("expected one of") && e.to_string().contains("aws:sqs"),
        "{e}"
    );

    // A 255-character name of four-byte characters: keys stay within DynamoDB's limits.
    let long = format!("axiomcore-{}-errors-critical", "😀".repeat(228));
    let mut ev = event("eventbridge-metric-alarm.json");
    ev["detail"]["alarmName"] = json!(long);
    let ev = env.agree(ev).await;
    let r = app.handle(&ev, &inv(), false).await?;
    assert_eq!(first(&r)["outcome"], "done", "{r}");
    assert_eq!(first(&r)["action"], "restart", "{r}");
    let again = app.handle(&ev, &inv(), false).await?;
    assert_eq!(first(&again)["duplicate"], true, "{again}");
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_record_after_the_change_still_ends_recorded_and_announced_once() -> TestResult {
    let env = Env::start().await?;
    let (proxy, sdk) = proxied(&env).await?;
    let app = env.app_with(&sdk, false);
    let alarm = env.agree(event("eventbridge-metric-alarm.json")).await;
    // Every write of the decision's audit record fails; ECS and the state writes work.
    proxy.inject_when("PutItem", Some("decision#"), Fault::Unavailable, None);
    app.handle(&alarm, &inv(), false)
        .await
        .expect_err("the invocation fails so Lambda retries");
    assert_eq!(env.desired("api").await, 5, "the change was made");

    // Lambda's retry, with DynamoDB back.
    proxy.clear();
    let r = app.handle(&alarm, &inv(), false).await?;
    assert_eq!(first(&r)["outcome"], "done", "{r}");
    assert_eq!(env.desired("api").await, 5, "not made twice");
    let notices = env.inbox().await;
    assert_eq!(notices.len(), 1, "{notices:?}");
    assert_eq!(
        notices[0].attributes.get("outcome").map(String::as_str),
        Some("done")
    );
    assert!(
        notices[0].subject.contains("scaled out 3→5"),
        "{}",
        notices[0].subject
    );
    let history = env.history(&api_pk()).await;
    assert_eq!(history.len(), 1, "{history:?}");
    assert_eq!(history[0]["outcome"], "done");
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_process_killed_after_the_change_is_finished_by_the_retry() -> TestResult {
    let env = Env::start().await?;
    let (proxy, sdk) = proxied(&env).await?;
    let app = env.app_with(&sdk, false);
    let alarm = env.agree(event("eventbridge-metric-alarm.json")).await;
    // The record never answers: the invocation is cut off at its deadline, its claim still held,
    // as if the process had been killed there.
    proxy.inject_when("PutItem", Some("decision#"), Fault::Hang, None);
    let short = Invocation::local("killed", Duration::from_secs(6)).at_home(ACCOUNT, REGION);
    let _ =
        tokio::time::timeout(Duration::from_secs(120), app.handle(&alarm, &short, false)).await?;
    assert_eq!(env.desired("api").await, 5);
    proxy.clear();

    // A retry while the dead invocation's lease runs is a duplicate; after it, the retry finishes.
    let r = app.handle(&alarm, &inv(), false).await?;
    assert_eq!(first(&r)["duplicate"], true, "{r}");
    let r = app
        .handle(&alarm, &inv_later(chrono::Duration::minutes(16)), false)
        .await?;
    assert_eq!(first(&r)["outcome"], "done", "{r}");
    let notices = env.inbox().await;
    assert_eq!(notices.len(), 1, "{notices:?}");
    assert_eq!(env.history(&api_pk()).await.len(), 1);
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dry_run_never_takes_a_live_decisions_record() -> TestResult {
    let env = Env::start().await?;
    // CloudWatch has no such alarm: held in both modes, the same outcome at the same instant.
    let ev = eventbridge(CPU, "ALARM", "2026-11-20T03:00:00.000+0000");
    env.app_with(&env.sdk, true)
        .handle(&ev, &inv(), false)
        .await?;
    env.app().handle(&ev, &inv(), false).await?;
    let history = env.history(&api_pk()).await;
    let modes: Vec<bool> = history
        .iter()
        .filter_map(|h| h["dry_run"].as_bool())
        .collect();
    assert_eq!(history.len(), 2, "{history:?}");
    assert!(modes.contains(&true) && modes.contains(&false), "{modes:?}");
    Ok(())
}
