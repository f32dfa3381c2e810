//! Humans stay in control, against the emulator: a pause and a maintenance window hold a
//! confirmed ALARM's change (announced once); a pause ends by itself; a scale-out shares the count
//! with Application Auto Scaling and the close puts both back.

use aws_sdk_applicationautoscaling::types::ServiceNamespace;
use axiom_ops::adapters::dynamodb::DynamoLedger;
use axiom_ops::adapters::sdk::Budget;
use axiom_ops::adapters::sns::SnsNotifier;
use axiom_ops::policy::Policy;
use axiom_ops::remediate::pause;
use axiom_ops::remediate::state::Pause;
use axiom_ops::runtime::Job;
use chrono::{Duration, Utc};
use integration_tests::{
    cpu_alarm_now, event, first, inv_home as inv, inv_home_later as inv_later, Env, TestResult,
};

const PARAM: &str = "/axiomcore/production/maintenance-mode";

fn ports(env: &Env) -> (DynamoLedger, SnsNotifier) {
    let b = Budget::unbounded();
    (
        DynamoLedger::new(
            &aws_sdk_dynamodb::Client::new(&env.sdk),
            &env.seeded.table,
            b,
        ),
        SnsNotifier::new(
            &aws_sdk_sns::Client::new(&env.sdk),
            Some(&env.seeded.topic_arn),
            b,
        ),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_paused_service_takes_no_action_and_the_pause_ends_by_itself() -> TestResult {
    let env = Env::start().await?;
    let app = env.app();
    let policy = Policy::built_in()?;
    let (ledger, notifier) = ports(&env);
    let api = pause::targets(&policy, "axiomcore-production/api")?;
    let now = Utc::now();
    pause::pause(
        &ledger,
        &notifier,
        &policy,
        &api,
        Pause {
            by: "arn:aws:iam::123456789012:user/oncall".into(),
            reason: "investigating a slow query".into(),
            since: now,
            until: now + Duration::hours(1),
        },
    )
    .await?;
    // A pause longer than the policy allows is refused.
    let too_long = Pause {
        by: "x".into(),
        reason: "y".into(),
        since: now,
        until: now + Duration::hours(48),
    };
    assert!(pause::pause(&ledger, &notifier, &policy, &api, too_long)
        .await
        .is_err());
    env.inbox().await;

    // Two confirmed ALARMs: nothing changes, the hold is announced once.
    let r = app
        .handle(&env.agree(cpu_alarm_now()).await, &inv(), false)
        .await?;
    assert_eq!(first(&r)["outcome"], "suppressed", "{r}");
    assert_eq!(first(&r)["held_by"], "paused", "{r}");
    let mut latency = cpu_alarm_now();
    latency["detail"]["alarmName"] = "axiomcore-api-latency-critical".into();
    app.handle(&env.agree(latency).await, &inv(), false).await?;
    assert_eq!(env.desired("api").await, 3);
    let notices = env.inbox().await;
    assert_eq!(notices.len(), 1, "{notices:?}");
    assert!(
        notices[0].subject.contains("held: paused"),
        "{}",
        notices[0].subject
    );
    assert!(notices[0].message["reason"]
        .as_str()
        .is_some_and(|r| r.contains("paused by arn:aws:iam::123456789012:user/oncall")));

    // Past its end, the tick says automation is back, once.
    let tick = event("reconcile-tick.json");
    app.handle(&tick, &inv_later(Duration::hours(2)), false)
        .await?;
    app.handle(&tick, &inv_later(Duration::hours(2)), false)
        .await?;
    let notices = env.inbox().await;
    let back: Vec<_> = notices
        .iter()
        .filter(|n| n.subject.contains("automation is back"))
        .collect();
    assert_eq!(back.len(), 1, "{notices:?}");
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_maintenance_window_holds_remediation() -> TestResult {
    let env = Env::start().await?;
    let app = env.app();
    aws_sdk_ssm::Client::new(&env.sdk)
        .put_parameter()
        .name(PARAM)
        .value("on")
        .r#type(aws_sdk_ssm::types::ParameterType::String)
        .send()
        .await?;
    let r = app
        .handle(&env.agree(cpu_alarm_now()).await, &inv(), false)
        .await?;
    assert_eq!(first(&r)["held_by"], "window", "{r}");
    assert_eq!(env.desired("api").await, 3);
    let notices = env.inbox().await;
    assert_eq!(notices.len(), 1);
    assert!(notices[0].subject.contains("held: maintenance window"));

    // Off again: the next confirmed ALARM acts.
    aws_sdk_ssm::Client::new(&env.sdk)
        .put_parameter()
        .name(PARAM)
        .value("off")
        .overwrite(true)
        .r#type(aws_sdk_ssm::types::ParameterType::String)
        .send()
        .await?;
    let mut later = cpu_alarm_now();
    later["detail"]["state"]["timestamp"] = (Utc::now() + Duration::seconds(1))
        .format("%Y-%m-%dT%H:%M:%S%.3f+0000")
        .to_string()
        .into();
    let r = app.handle(&env.agree(later).await, &inv(), false).await?;
    assert_eq!(first(&r)["outcome"], "done", "{r}");
    assert_eq!(env.desired("api").await, 5);
    Ok(())
}

async fn bounds(env: &Env) -> (i32, i32) {
    let out = aws_sdk_applicationautoscaling::Client::new(&env.sdk)
        .describe_scalable_targets()
        .service_namespace(ServiceNamespace::Ecs)
        .resource_ids("service/axiomcore-production/api")
        .send()
        .await
        .expect("describe");
    let t = out.scalable_targets().first().cloned().expect("registered");
    (t.min_capacity(), t.max_capacity())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_scale_out_shares_the_count_with_auto_scaling_and_the_close_puts_both_back() -> TestResult
{
    let env = Env::start().await?;
    let app = env.app();
    env.register_scalable_target("api", 2, 10).await?;
    let alarm = env.agree(event("eventbridge-metric-alarm.json")).await;
    let r = app.handle(&alarm, &inv(), false).await?;
    assert_eq!(first(&r)["outcome"], "done", "{r}");
    assert_eq!(env.desired("api").await, 5);
    assert_eq!(
        bounds(&env).await,
        (5, 10),
        "target tracking cannot scale in below 5"
    );

    let ok = env.agree(event("eventbridge-metric-ok.json")).await;
    let r = app.handle(&ok, &inv(), false).await?;
    assert_eq!(first(&r)["action"], "restore", "{r}");
    assert_eq!(bounds(&env).await, (2, 10), "the recorded bounds are back");
    assert_eq!(env.desired("api").await, 3, "and the pre-incident count");
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_live_window_in_the_ledger_holds_remediation_even_with_the_parameter_off() -> TestResult {
    use axiom_ops::maintenance::MaintenanceApp;
    let env = Env::start().await?;
    // The window's first step (maintenance mode on) is recorded in the ledger.
    let window = MaintenanceApp::build(env.config(false), &env.sdk)?;
    let out = window.handle(&serde_json::json!({}), &inv(), false).await?;
    assert_eq!(out["done"], false, "{out}");
    // Someone turns the parameter off by hand: the window is still in progress.
    aws_sdk_ssm::Client::new(&env.sdk)
        .put_parameter()
        .name(PARAM)
        .value("off")
        .overwrite(true)
        .r#type(aws_sdk_ssm::types::ParameterType::String)
        .send()
        .await?;
    env.inbox().await;
    let r = env
        .app()
        .handle(&env.agree(cpu_alarm_now()).await, &inv(), false)
        .await?;
    assert_eq!(first(&r)["held_by"], "window", "{r}");
    assert!(
        first(&r)["reason"]
            .as_str()
            .is_some_and(|s| s.contains("in progress")),
        "{r}"
    );
    assert_eq!(env.desired("api").await, 3);
    Ok(())
}
