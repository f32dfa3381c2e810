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
    // `AXIOM_OPS_REMEDIATE_BIN` runs these against another build (the release one).
    let bin = std::env::var("AXIOM_OPS_REMEDIATE_BIN")
        .unwrap_or_else(|_| env!("CARGO_BIN_EXE_remediate").to_owned());
    FunctionProcess::spawn(Path::new(&bin), api, &moto.endpoint(), &env)
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
        // What Lambda sets: a function reads no other source for them.
        ("AWS_REGION", ""),
        ("AWS_ACCESS_KEY_ID", ""),
    ] {
        let out = spawn(&api, &moto, &seeded, &[(var, value)])?
            .wait(Duration::from_secs(30))
            .map_err(|e| format!("{var}={value}: {e}"))?;
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

/// The outcome and hold of the one decision in a response.
fn decided(r: &Value) -> (String, String) {
    let d = &r["results"][0];
    (
        d["outcome"].as_str().unwrap_or("-").to_owned(),
        d["held_by"].as_str().unwrap_or("-").to_owned(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forged_foreign_stale_and_out_of_order_events_change_nothing() -> TestResult {
    let moto = Moto::start()?;
    let sdk = moto.sdk_config().await;
    let seeded = emulator::seed(&sdk).await?;
    let api = RuntimeApi::start().await?;
    let _f = spawn(&api, &moto, &seeded, &[])?;
    let wait = Duration::from_secs(60);
    let send = |ev: Value| {
        let id = api.push(ev, Duration::from_secs(30));
        let api = &api;
        async move {
            match api.answer(&id, wait).await {
                Some(Answer::Response(r)) => r,
                other => panic!("no response: {other:?}"),
            }
        }
    };
    let alarm = event("eventbridge-metric-alarm.json");
    let at = |ts: &str| {
        let mut v = alarm.clone();
        v["detail"]["state"]["timestamp"] = ts.into();
        v
    };

    // CloudWatch has no such alarm yet.
    let r = send(alarm.clone()).await;
    assert_eq!(
        decided(&r),
        ("no_action".into(), "unknown_alarm".into()),
        "{r}"
    );
    emulator::set_alarm(&sdk, "axiomcore-api-cpu-critical", "ALARM").await?;
    let mut foreign = at("2026-11-20T03:04:41.000+0000");
    foreign["account"] = "999999999999".into();
    let r = send(foreign).await;
    assert_eq!(decided(&r), ("no_action".into(), "foreign".into()), "{r}");
    let r = send(at("9999-01-01T00:00:00.000+0000")).await;
    assert_eq!(decided(&r), ("no_action".into(), "future".into()), "{r}");
    assert_eq!(desired(&sdk, "api").await, 3);

    // Confirmed by CloudWatch: acts as before.
    let r = send(at("2026-11-20T03:04:42.000+0000")).await;
    assert_eq!(decided(&r).0, "done", "{r}");
    assert_eq!(desired(&sdk, "api").await, 5);
    // OK, then a late ALARM from before it: superseded, nothing scaled.
    emulator::set_alarm(&sdk, "axiomcore-api-cpu-critical", "OK").await?;
    let r = send(event("eventbridge-metric-ok.json")).await;
    assert_eq!(r["results"][0]["action"], "restore", "{r}");
    assert_eq!(desired(&sdk, "api").await, 3);
    emulator::set_alarm(&sdk, "axiomcore-api-cpu-critical", "ALARM").await?;
    let r = send(at("2026-11-20T03:10:00.000+0000")).await;
    assert_eq!(
        decided(&r),
        ("no_action".into(), "superseded".into()),
        "{r}"
    );
    assert_eq!(desired(&sdk, "api").await, 3);

    // CloudWatch went OK after the event: the event is stale.
    let event_time = (chrono::Utc::now() - chrono::Duration::seconds(1))
        .format("%Y-%m-%dT%H:%M:%S%.3f+0000")
        .to_string();
    emulator::set_alarm(&sdk, "axiomcore-api-cpu-critical", "OK").await?;
    let r = send(at(&event_time)).await;
    assert_eq!(decided(&r), ("no_action".into(), "stale".into()), "{r}");
    assert_eq!(desired(&sdk, "api").await, 3);

    // The reconcile tick is a schedule's event, not an error.
    let r = send(event("reconcile-tick.json")).await;
    assert!(r["reconcile"]["results"].is_array(), "{r}");
    Ok(())
}
