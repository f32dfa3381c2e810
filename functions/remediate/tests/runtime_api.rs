//! The `remediate` binary itself, run as Lambda runs it: under a Lambda Runtime API, with
//! `AWS_ENDPOINT_URL` pointing at moto and the DESIGN.md environment.

use std::path::Path;
use std::time::Duration;

use serde_json::Value;
use testkit::runtime_api::{Answer, FunctionProcess, RuntimeApi};
use testkit::{self as emulator, Moto, Seeded, CLUSTER};

type TestResult = Result<(), Box<dyn std::error::Error + Send + Sync>>;

fn event(name: &str) -> Value {
    emulator::sample(name).expect("a sample of events/")
}

fn spawn(
    api: &RuntimeApi,
    moto: &Moto,
    seeded: &Seeded,
    extra: &[(&str, &str)],
) -> std::io::Result<FunctionProcess> {
    let mut env = vec![
        ("OPS_TOPIC_ARN", seeded.topic_arn.as_str()),
        ("OPS_LEDGER_TABLE", seeded.table.as_str()),
    ];
    env.extend_from_slice(extra);
    FunctionProcess::spawn(
        Path::new(env!("CARGO_BIN_EXE_remediate")),
        api,
        &moto.endpoint(),
        &env,
    )
}

async fn desired(sdk: &aws_config::SdkConfig, service: &str) -> i32 {
    let ecs = aws_sdk_ecs::Client::new(sdk);
    let out = ecs
        .describe_services()
        .cluster(CLUSTER)
        .services(service)
        .send()
        .await
        .expect("describe");
    out.services()
        .first()
        .map(|s| s.desired_count())
        .unwrap_or(-1)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_binary_handles_every_sample_under_the_runtime_api() -> TestResult {
    let moto = Moto::start()?;
    let sdk = moto.sdk_config().await;
    let seeded = emulator::seed(&sdk).await?;
    let api = RuntimeApi::start().await?;
    let _f = spawn(&api, &moto, &seeded, &[])?;
    let wait = Duration::from_secs(60);

    // Every alarm a sample names exists in CloudWatch, in the state the sample reports.
    for name in ["sns-metric-alarm.json", "lambda-anomaly-alarm.json"] {
        emulator::agree(&sdk, &event(name)).await?;
    }
    let id = api.push(event("sns-metric-alarm.json"), Duration::from_secs(30));
    let Some(Answer::Response(r)) = api.answer(&id, wait).await else {
        panic!("no response")
    };
    assert_eq!(r["results"][0]["outcome"], "done", "{r}");
    assert_eq!(desired(&sdk, "api").await, 5);

    // The same transition by the other two paths: acknowledged as duplicates.
    for name in ["lambda-metric-alarm.json", "eventbridge-metric-alarm.json"] {
        let id = api.push(event(name), Duration::from_secs(30));
        let Some(Answer::Response(r)) = api.answer(&id, wait).await else {
            panic!("{name}: no response")
        };
        assert_eq!(r["results"][0]["duplicate"], true, "{name}: {r}");
    }
    assert_eq!(desired(&sdk, "api").await, 5);

    let id = api.push(
        event("eventbridge-config-change.json"),
        Duration::from_secs(30),
    );
    let Some(Answer::Response(r)) = api.answer(&id, wait).await else {
        panic!("no response")
    };
    assert!(r["ignored"].is_string(), "{r}");

    // A payload that is none of these fails the invocation (Lambda retries, then the DLQ).
    let id = api.push(event("not-an-alarm.json"), Duration::from_secs(30));
    let Some(Answer::Error(e)) = api.answer(&id, wait).await else {
        panic!("expected an error")
    };
    assert!(
        e["errorMessage"]
            .as_str()
            .is_some_and(|m| m.contains("expected one of: a CloudWatch alarm")),
        "{e}"
    );
    // Lambda's errorType names the kind of failure.
    assert_eq!(e["errorType"], "ParseError", "{e}");

    let id = api.push(event("lambda-anomaly-alarm.json"), Duration::from_secs(30));
    let Some(Answer::Response(r)) = api.answer(&id, wait).await else {
        panic!("no response")
    };
    assert_eq!(
        r["results"][0]["target"], "axiomcore-production/frontend",
        "{r}"
    );
    assert_eq!(desired(&sdk, "frontend").await, 4);
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_configuration_fails_the_cold_start_naming_it() -> TestResult {
    let moto = Moto::start()?;
    let sdk = moto.sdk_config().await;
    let seeded = emulator::seed(&sdk).await?;
    let api = RuntimeApi::start().await?;
    for (var, value) in [
        ("OPS_DRY_RUN", "perhaps"),
        ("OPS_POLICY_FILE", "/nonexistent/policy.toml"),
        ("OPS_LEDGER_TABLE", ""),
    ] {
        let out = spawn(&api, &moto, &seeded, &[(var, value)])?.wait()?;
        assert!(
            !out.status.success(),
            "{var}={value} must fail the cold start"
        );
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains(var), "{var}: {stderr}");
    }
    assert!(
        api.first_poll().is_none(),
        "no event was taken with a bad configuration"
    );
    Ok(())
}
