//! `remediate` believes CloudWatch, not the event: forged, foreign, stale, out-of-order and
//! unknown events change nothing; a lost OK is closed by the reconcile tick; a failure at any
//! point after the change still ends with it recorded and announced once.

use std::time::Duration;

use axiom_ops::model::Target;
use axiom_ops::remediate::state::target_pk;
use axiom_ops::runtime::{Invocation, Job};
use chrono::Utc;
use integration_tests::{event, eventbridge, first, Env, TestResult};
use serde_json::{json, Value};
use testkit::fault_proxy::{Fault, FaultProxy};
use testkit::{Moto, ACCOUNT, REGION};

const CPU: &str = "axiomcore-api-cpu-critical";

/// An invocation of the function deployed in the emulator's account and region.
fn inv() -> Invocation {
    Invocation::local("verify", Duration::from_secs(30)).at_home(ACCOUNT, REGION)
}

/// The same, `ahead` later (a tick long after, or a retry after the lease ran out).
fn inv_later(ahead: chrono::Duration) -> Invocation {
    let mut i = inv();
    i.now = Utc::now() + ahead;
    i
}

/// The CPU sample, as if CloudWatch had just changed state (incidents it opens are young).
fn cpu_alarm_now() -> Value {
    let mut v = event("eventbridge-metric-alarm.json");
    v["detail"]["state"]["timestamp"] =
        json!(Utc::now().format("%Y-%m-%dT%H:%M:%S%.3f+0000").to_string());
    v
}

fn api_pk() -> String {
    target_pk(&Target::new("axiomcore-production", "api"))
}

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
async fn a_lost_ok_is_closed_and_restored_by_the_next_tick() -> TestResult {
    let env = Env::start().await?;
    let app = env.app();
    let alarm = env.agree(event("eventbridge-metric-alarm.json")).await;
    app.handle(&alarm, &inv(), false).await?;
    assert_eq!(env.desired("api").await, 5);

    // The alarm goes OK in CloudWatch; its OK event is lost.
    env.set_alarm(CPU, "OK").await;
    let tick = event("reconcile-tick.json");
    let r = app.handle(&tick, &inv(), false).await?;
    let results = r["reconcile"]["results"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert_eq!(results.len(), 1, "{r}");
    assert_eq!(results[0]["action"], "restore", "{r}");
    assert_eq!(results[0]["outcome"], "done", "{r}");
    assert_eq!(env.desired("api").await, 3);

    // Nothing left to do: a second tick (or a concurrent one) changes nothing.
    let r = app.handle(&tick, &inv(), false).await?;
    assert_eq!(r["reconcile"]["results"], json!([]), "{r}");
    let closes = env
        .inbox()
        .await
        .into_iter()
        .filter(|n| n.attributes.get("action").map(String::as_str) == Some("restore"))
        .count();
    assert_eq!(closes, 1);
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_incident_open_too_long_is_escalated_once() -> TestResult {
    let env = Env::start().await?;
    let app = env.app();
    let alarm = env.agree(cpu_alarm_now()).await;
    app.handle(&alarm, &inv(), false).await?;
    env.inbox().await;

    let tick = event("reconcile-tick.json");
    let r = app.handle(&tick, &inv(), false).await?;
    assert_eq!(r["reconcile"]["results"], json!([]), "not yet: {r}");
    // A day later it is still in ALARM.
    let later = inv_later(chrono::Duration::hours(25));
    app.handle(&tick, &later, false).await?;
    app.handle(&tick, &later, false).await?;
    let notices = env.inbox().await;
    assert_eq!(notices.len(), 1, "{notices:?}");
    assert!(
        notices[0]
            .subject
            .starts_with("[SEV2] axiomcore-production/api open for")
            && notices[0].subject.contains("a human is needed"),
        "{}",
        notices[0].subject
    );
    assert_eq!(env.desired("api").await, 5, "escalation changes nothing");
    Ok(())
}

async fn proxied(env: &Env) -> Result<(FaultProxy, aws_config::SdkConfig), testkit::BoxError> {
    let proxy = FaultProxy::start(env.moto.addr).await?;
    let sdk = Moto::sdk_config_for(&proxy.endpoint()).await;
    Ok((proxy, sdk))
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
async fn a_notice_lost_with_its_invocation_is_sent_by_the_tick() -> TestResult {
    let env = Env::start().await?;
    let (proxy, sdk) = proxied(&env).await?;
    let app = env.app_with(&sdk, false);
    let alarm = env.agree(cpu_alarm_now()).await;
    proxy.inject("Publish", Fault::Unavailable, None);
    app.handle(&alarm, &inv(), false)
        .await
        .expect_err("the publish failed");
    assert_eq!(env.desired("api").await, 5);
    assert!(env.inbox().await.is_empty());
    proxy.clear();

    // The event is never retried (its retries ran out); the tick after the lease sends the notice.
    let tick = event("reconcile-tick.json");
    let r = app
        .handle(&tick, &inv_later(chrono::Duration::minutes(16)), false)
        .await?;
    assert_eq!(r["reconcile"]["notices_resent"], 1, "{r}");
    let notices = env.inbox().await;
    assert_eq!(notices.len(), 1);
    assert!(notices[0].subject.contains("scaled out 3→5"));
    let r = app
        .handle(&tick, &inv_later(chrono::Duration::minutes(17)), false)
        .await?;
    assert_eq!(r["reconcile"]["notices_resent"], 0, "{r}");
    Ok(())
}

/// The emulator does not implement composite alarms (`PutCompositeAlarm`), so CloudWatch is the
/// SDK's own mock here; ECS, the ledger and the topic are still the emulator.
mod composite {
    use super::*;
    use aws_sdk_cloudwatch::operation::describe_alarms::DescribeAlarmsOutput;
    use aws_sdk_cloudwatch::types::{ActionsSuppressedBy, CompositeAlarm, StateValue};
    use aws_smithy_mocks::{mock, mock_client, RuleMode};
    use axiom_ops::adapters::cloudwatch::CloudWatchAlarms;
    use axiom_ops::adapters::dynamodb::DynamoLedger;
    use axiom_ops::adapters::ecs::EcsServices;
    use axiom_ops::adapters::sdk::Budget;
    use axiom_ops::adapters::sns::SnsNotifier;
    use axiom_ops::model::AlarmState;
    use axiom_ops::policy::Policy;
    use axiom_ops::ports::Alarms;
    use axiom_ops::remediate::Remediator;

    const MEMORY: &str = "axiomcore-api-memory-critical";
    const SUPPRESSOR: &str = "axiomcore-api-deploying-warning";

    fn composite(suppressed: Option<ActionsSuppressedBy>) -> aws_smithy_mocks::Rule {
        mock!(aws_sdk_cloudwatch::Client::describe_alarms).then_output(move || {
            DescribeAlarmsOutput::builder()
                .composite_alarms(
                    CompositeAlarm::builder()
                        .alarm_name(MEMORY)
                        .state_value(StateValue::Alarm)
                        .set_actions_suppressed_by(suppressed.clone())
                        .actions_suppressor(SUPPRESSOR)
                        .build(),
                )
                .build()
        })
    }

    #[tokio::test]
    async fn a_composite_is_read_with_its_suppression() -> TestResult {
        let rule = composite(Some(ActionsSuppressedBy::WaitPeriod));
        let client = mock_client!(aws_sdk_cloudwatch, RuleMode::MatchAny, [&rule]);
        let got = CloudWatchAlarms::new(&client, Budget::unbounded())
            .describe(&[MEMORY.to_owned()])
            .await?;
        assert_eq!(got.len(), 1);
        assert!(got[0].composite);
        assert_eq!(got[0].state, AlarmState::Alarm);
        assert_eq!(got[0].suppressed_by.as_deref(), Some("WaitPeriod"));
        assert_eq!(got[0].suppressor.as_deref(), Some(SUPPRESSOR));
        Ok(())
    }

    async fn handle_composite(
        env: &Env,
        rule: &aws_smithy_mocks::Rule,
    ) -> Result<Value, axiom_ops::remediate::RemediateError> {
        let cw = mock_client!(aws_sdk_cloudwatch, RuleMode::MatchAny, [rule]);
        let policy = Policy::built_in().expect("policy");
        let budget = Budget::unbounded();
        let r = Remediator {
            policy: &policy,
            services: EcsServices::new(&aws_sdk_ecs::Client::new(&env.sdk), budget),
            alarms: CloudWatchAlarms::new(&cw, budget),
            ledger: DynamoLedger::new(
                &aws_sdk_dynamodb::Client::new(&env.sdk),
                &env.seeded.table,
                budget,
            ),
            notifier: SnsNotifier::new(
                &aws_sdk_sns::Client::new(&env.sdk),
                Some(&env.seeded.topic_arn),
                budget,
            ),
            dry_run: false,
        };
        r.handle(&event("eventbridge-composite-alarm.json"), &inv())
            .await
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_composite_whose_actions_cloudwatch_holds_changes_nothing() -> TestResult {
        let env = Env::start().await?;
        let d0 = env.primary_deployment("api").await;
        let r = handle_composite(&env, &composite(Some(ActionsSuppressedBy::Alarm))).await?;
        assert_eq!(first(&r)["outcome"], "suppressed", "{r}");
        assert_eq!(first(&r)["held_by"], "actions_suppressed", "{r}");
        assert_eq!(env.primary_deployment("api").await, d0, "no restart");
        let notices = env.inbox().await;
        assert_eq!(notices.len(), 1);
        assert_eq!(
            notices[0].attributes.get("outcome").map(String::as_str),
            Some("suppressed")
        );
        assert!(
            notices[0].message["reason"]
                .as_str()
                .is_some_and(|r| r.contains(SUPPRESSOR)),
            "{:?}",
            notices[0].message
        );
        Ok(())
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_composite_in_alarm_and_not_suppressed_acts() -> TestResult {
        let env = Env::start().await?;
        let d0 = env.primary_deployment("api").await;
        let r = handle_composite(&env, &composite(None)).await?;
        assert_eq!(first(&r)["outcome"], "done", "{r}");
        assert_eq!(first(&r)["action"], "restart", "{r}");
        assert_ne!(env.primary_deployment("api").await, d0, "restarted");
        Ok(())
    }
}
