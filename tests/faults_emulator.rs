//! Faults the emulator cannot make, injected by a proxy in front of it: throttling, 503 and an
//! endpoint that accepts and never answers.

use axiom_ops::runtime::Job;
use std::time::Duration;

use axiom_ops::runtime::Invocation;
use integration_tests::{event, first, invocation, Env, TestResult};
use testkit::fault_proxy::{Fault, FaultProxy};
use testkit::Moto;

const UPDATE_SERVICE: &str = "AmazonEC2ContainerServiceV20141113.UpdateService";
const DESCRIBE_SERVICES: &str = "AmazonEC2ContainerServiceV20141113.DescribeServices";

async fn proxied(
    env: &Env,
) -> Result<(FaultProxy, aws_config::SdkConfig), Box<dyn std::error::Error + Send + Sync>> {
    let proxy = FaultProxy::start(env.moto.addr).await?;
    let sdk = Moto::sdk_config_for(&proxy.endpoint()).await;
    Ok((proxy, sdk))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn throttling_is_retried_with_backoff_and_the_action_lands() -> TestResult {
    let env = Env::start().await?;
    let (proxy, sdk) = proxied(&env).await?;
    let app = env.app_with(&sdk, false);
    proxy.inject(UPDATE_SERVICE, Fault::Throttle, Some(2));
    let r = app
        .handle(
            &env.agree(event("eventbridge-metric-alarm.json")).await,
            &invocation(),
            false,
        )
        .await?;
    assert_eq!(first(&r)["outcome"], "done", "{r}");
    assert_eq!(proxy.counts().0, 2, "both throttles were met and retried");
    assert_eq!(env.desired("api").await, 5);
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn persistent_503_is_unknown_announced_failed_and_the_retry_finishes_it() -> TestResult {
    let env = Env::start().await?;
    let (proxy, sdk) = proxied(&env).await?;
    let app = env.app_with(&sdk, false);
    proxy.inject(UPDATE_SERVICE, Fault::Unavailable, None);
    let err = app
        .handle(
            &env.agree(event("eventbridge-metric-alarm.json")).await,
            &invocation(),
            false,
        )
        .await
        .expect_err("the invocation fails so Lambda retries");
    assert!(err.to_string().contains("unknown"), "{err}");
    assert_eq!(env.desired("api").await, 3);
    let notices = env.inbox().await;
    assert_eq!(notices.len(), 1);
    assert_eq!(
        notices[0].attributes.get("outcome").map(String::as_str),
        Some("failed")
    );
    assert!(
        notices[0].subject.contains("outcome unknown"),
        "{}",
        notices[0].subject
    );
    let history = env.history("target#axiomcore-production/api").await;
    assert_eq!(
        history.last().map(|h| h["outcome"].clone()),
        Some("unknown".into())
    );

    // AWS is back; Lambda retries the same event: the job is finished, not skipped, not doubled.
    proxy.clear();
    let r = app
        .handle(
            &env.agree(event("eventbridge-metric-alarm.json")).await,
            &invocation(),
            false,
        )
        .await?;
    assert_eq!(first(&r)["outcome"], "done", "{r}");
    assert_eq!(env.desired("api").await, 5);
    // And a third delivery is a duplicate.
    let r = app
        .handle(
            &env.agree(event("sns-metric-alarm.json")).await,
            &invocation(),
            false,
        )
        .await?;
    assert_eq!(first(&r)["duplicate"], true, "{r}");
    assert_eq!(env.desired("api").await, 5);
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hung_endpoint_is_cut_off_within_the_invocation_deadline() -> TestResult {
    let env = Env::start().await?;
    let (proxy, sdk) = proxied(&env).await?;
    let app = env.app_with(&sdk, false);
    proxy.inject(UPDATE_SERVICE, Fault::Hang, None);
    let inv = Invocation::local("hung", Duration::from_secs(8));
    // The outer bound only keeps a broken build from hanging the suite; it is not a timing claim.
    let res = tokio::time::timeout(
        Duration::from_secs(120),
        app.handle(
            &env.agree(event("eventbridge-metric-alarm.json")).await,
            &inv,
            false,
        ),
    )
    .await?;
    let err = res.expect_err("unknown outcome fails the invocation");
    assert!(err.to_string().contains("unknown"), "{err}");
    assert!(
        inv.deadline.is_some_and(|d| std::time::Instant::now() <= d),
        "returned before the deadline"
    );
    let history = env.history("target#axiomcore-production/api").await;
    assert_eq!(
        history.last().map(|h| h["outcome"].clone()),
        Some("unknown".into())
    );

    proxy.clear();
    let r = app
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
async fn when_ecs_cannot_be_read_nothing_changes_and_the_retry_acts() -> TestResult {
    let env = Env::start().await?;
    let (proxy, sdk) = proxied(&env).await?;
    let app = env.app_with(&sdk, false);
    proxy.inject(DESCRIBE_SERVICES, Fault::Throttle, None);
    let err = app
        .handle(
            &env.agree(event("eventbridge-metric-alarm.json")).await,
            &invocation(),
            false,
        )
        .await
        .expect_err("cannot observe");
    assert!(err.to_string().contains("describe"), "{err}");
    assert_eq!(env.desired("api").await, 3);
    assert!(
        env.inbox().await.is_empty(),
        "nothing happened, nothing announced"
    );
    proxy.clear();
    let r = app
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
