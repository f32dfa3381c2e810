//! The binary diagnoses before it acts, run as Lambda runs it (under a Runtime API, against the
//! emulator; `AXIOM_OPS_REMEDIATE_BIN` runs it against the release build): an image that does not
//! pull is not restarted, an OOM kill is restarted and said, a stopped database stops every ECS
//! change.

use std::path::Path;
use std::time::Duration;

use serde_json::{json, Value};
use testkit::runtime_api::FunctionProcess;
use testkit::runtime_api::{Answer, RuntimeApi};
use testkit::{self as emulator, Moto, CLUSTER};

type TestResult = Result<(), Box<dyn std::error::Error + Send + Sync>>;

/// An EventBridge ALARM of `name`, now, named (not dimensioned) like the guide's alarms.
fn alarm(name: &str) -> Result<Value, emulator::BoxError> {
    let mut v = emulator::sample("eventbridge-metric-alarm.json")?;
    v["detail"]["alarmName"] = json!(name);
    v["detail"]["state"]["timestamp"] = json!(chrono::Utc::now()
        .format("%Y-%m-%dT%H:%M:%S%.3f+0000")
        .to_string());
    v["resources"] = json!([format!(
        "arn:aws:cloudwatch:us-east-1:123456789012:alarm:{name}"
    )]);
    if let Some(c) = v["detail"]["configuration"].as_object_mut() {
        c.remove("metrics");
    }
    Ok(v)
}

async fn primary(ecs: &aws_sdk_ecs::Client) -> Result<String, emulator::BoxError> {
    let out = ecs
        .describe_services()
        .cluster(CLUSTER)
        .services("api")
        .send()
        .await?;
    Ok(out
        .services()
        .first()
        .and_then(|s| {
            s.deployments()
                .iter()
                .find(|d| d.status() == Some("PRIMARY"))
        })
        .and_then(|d| d.id())
        .unwrap_or_default()
        .to_owned())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_binary_diagnoses_before_it_acts() -> TestResult {
    let moto = Moto::start()?;
    let sdk = moto.sdk_config().await;
    let seeded = emulator::seed(&sdk).await?;
    emulator::seed_database(&sdk, "axiomcore-production").await?;
    let api = RuntimeApi::start().await?;
    let bin = std::env::var("AXIOM_OPS_REMEDIATE_BIN")
        .unwrap_or_else(|_| env!("CARGO_BIN_EXE_remediate").to_owned());
    let env = [
        ("OPS_TOPIC_ARN", seeded.topic_arn.as_str()),
        ("OPS_LEDGER_TABLE", seeded.table.as_str()),
    ];
    let _f = FunctionProcess::spawn(Path::new(&bin), &api, &moto.endpoint(), &env)?;
    let ecs = aws_sdk_ecs::Client::new(&sdk);
    let send = |name: &'static str| {
        let api = &api;
        let sdk = &sdk;
        async move {
            let ev = emulator::agree(sdk, &alarm(name)?).await?;
            let id = api.push(ev, Duration::from_secs(30));
            match api.answer(&id, Duration::from_secs(60)).await {
                Some(Answer::Response(r)) => {
                    Ok::<Value, emulator::BoxError>(r["results"][0].clone())
                }
                other => Err(format!("{name}: no response: {other:?}").into()),
            }
        }
    };

    // The image does not pull: a restart would not help.
    emulator::stopped_tasks(
        &sdk,
        "api",
        "CannotPullContainerError: pull image manifest has been retried 5 time(s)",
        2,
    )
    .await?;
    let d0 = primary(&ecs).await?;
    let d = send("axiomcore-api-down-critical").await?;
    assert_eq!(
        (&d["outcome"], &d["severity"], &d["held_by"]),
        (&json!("no_action"), &json!("SEV1"), &json!("diagnosed")),
        "{d}"
    );
    assert!(
        d["reason"]
            .as_str()
            .is_some_and(|r| r.contains("CannotPullContainerError")),
        "{d}"
    );
    assert_eq!(primary(&ecs).await?, d0, "not restarted");

    // OOM kills since, outnumbering the pull failures: restarted, and said.
    emulator::stopped_tasks(
        &sdk,
        "api",
        "OutOfMemoryError: Container killed due to memory usage",
        3,
    )
    .await?;
    let d = send("axiomcore-api-memory-critical").await?;
    assert_eq!(
        (&d["outcome"], &d["action"]),
        (&json!("done"), &json!("restart")),
        "{d}"
    );
    assert!(
        d["reason"].as_str().is_some_and(|r| r.contains("OOM")),
        "{d}"
    );
    let d1 = primary(&ecs).await?;
    assert_ne!(d1, d0, "restarted");

    // The database stops: no ECS change at all, SEV1 naming it.
    aws_sdk_rds::Client::new(&sdk)
        .stop_db_instance()
        .db_instance_identifier("axiomcore-production")
        .send()
        .await?;
    let d = send("axiomcore-api-cpu-critical").await?;
    assert_eq!(
        (&d["outcome"], &d["severity"]),
        (&json!("no_action"), &json!("SEV1")),
        "{d}"
    );
    assert!(
        d["reason"]
            .as_str()
            .is_some_and(|r| r.contains("the database axiomcore-production is stopped")),
        "{d}"
    );
    assert_eq!(primary(&ecs).await?, d1);
    let desired = ecs
        .describe_services()
        .cluster(CLUSTER)
        .services("api")
        .send()
        .await?;
    assert_eq!(
        desired.services().first().map(|s| s.desired_count()),
        Some(3),
        "no scale-out"
    );
    Ok(())
}
