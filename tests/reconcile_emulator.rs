//! The reconcile tick against the emulator: a lost OK closed and restored, an old incident
//! escalated once, kept notices sent after their invocation died.

use axiom_ops::remediate::App;
use axiom_ops::runtime::Job;
use integration_tests::{
    cpu_alarm_now, event, first, inv_home as inv, inv_home_later as inv_later, proxied, Env,
    TestResult,
};
use serde_json::json;
use testkit::fault_proxy::{Fault, FaultProxy};

const CPU: &str = "axiomcore-api-cpu-critical";

type Setup<T> = Result<T, Box<dyn std::error::Error + Send + Sync>>;

/// An alarm acted on while SNS is down: the change is made, its notice kept with the claim, the
/// invocation failed. The proxy still refuses `Publish`.
async fn scaled_out_with_the_notice_unsent() -> Setup<(Env, FaultProxy, App)> {
    let env = Env::start().await?;
    let (proxy, sdk) = proxied(&env).await?;
    let app = env.app_with(&sdk, false);
    let alarm = env.agree(cpu_alarm_now()).await;
    proxy.inject("Publish", Fault::Unavailable, None);
    app.handle(&alarm, &inv(), false)
        .await
        .expect_err("the publish failed");
    Ok((env, proxy, app))
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_notice_lost_with_its_invocation_is_sent_by_the_tick() -> TestResult {
    let (env, proxy, app) = scaled_out_with_the_notice_unsent().await?;
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_resend_that_fails_is_sent_by_a_later_tick() -> TestResult {
    let (env, proxy, app) = scaled_out_with_the_notice_unsent().await?;
    // The tick's resend fails too: the notice must stay kept.
    let tick = event("reconcile-tick.json");
    app.handle(&tick, &inv_later(chrono::Duration::minutes(16)), false)
        .await
        .expect_err("the resend failed");
    proxy.clear();
    assert!(env.inbox().await.is_empty());
    let r = app
        .handle(&tick, &inv_later(chrono::Duration::minutes(40)), false)
        .await?;
    assert_eq!(r["reconcile"]["notices_resent"], 1, "{r}");
    assert_eq!(env.inbox().await.len(), 1);
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lost_ok_of_an_alarm_named_only_by_its_dimensions_is_closed_too() -> TestResult {
    let env = Env::start().await?;
    let app = env.app();
    // The name's <service> part is not api; its ECS dimensions name api.
    let name = "axiomcore-checkout-cpu-critical";
    let mut alarm = cpu_alarm_now();
    alarm["detail"]["alarmName"] = json!(name);
    let alarm = env.agree(alarm).await;
    let r = app.handle(&alarm, &inv(), false).await?;
    assert_eq!(first(&r)["target"], "axiomcore-production/api", "{r}");
    assert_eq!(env.desired("api").await, 5);
    env.set_alarm(name, "OK").await;
    let r = app
        .handle(&event("reconcile-tick.json"), &inv(), false)
        .await?;
    assert_eq!(r["reconcile"]["results"][0]["action"], "restore", "{r}");
    assert_eq!(env.desired("api").await, 3);
    Ok(())
}
