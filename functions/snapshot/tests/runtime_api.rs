//! The `snapshot` binary itself under a Lambda Runtime API, against moto with a moving clock:
//! both schedule shapes, one snapshot per tick, and a loud failure on a missing database.

use std::path::Path;
use std::time::Duration;

use chrono::{TimeZone, Utc};
use serde_json::Value;
use testkit::runtime_api::{Answer, FunctionProcess, RuntimeApi};
use testkit::{self as emulator, Moto, Seeded};

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
        Path::new(env!("CARGO_BIN_EXE_snapshot")),
        api,
        &moto.endpoint(),
        &env,
    )
}

async fn managed_count(sdk: &aws_config::SdkConfig) -> usize {
    let rds = aws_sdk_rds::Client::new(sdk);
    let out = rds
        .describe_db_snapshots()
        .db_instance_identifier("axiomcore-production")
        .snapshot_type("manual")
        .send()
        .await
        .expect("describe");
    out.db_snapshots()
        .iter()
        .filter(|s| s.tag_list().iter().any(|t| t.key() == Some("managed-by")))
        .count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_binary_takes_both_schedule_shapes_and_fails_loudly_on_a_missing_database() -> TestResult
{
    let start = Utc
        .with_ymd_and_hms(2026, 11, 26, 2, 0, 0)
        .single()
        .ok_or("time")?;
    let moto = Moto::start_frozen(start)?;
    let sdk = moto.sdk_config().await;
    let seeded = emulator::seed(&sdk).await?;
    emulator::seed_database(&sdk, "axiomcore-production").await?;
    let api = RuntimeApi::start().await?;
    let wait = Duration::from_secs(60);
    {
        let _f = spawn(&api, &moto, &seeded, &[])?;
        for (name, day) in [
            ("schedule-rule.json", 26),
            ("schedule-scheduler.json", 27),
            ("schedule-scheduler.json", 27),
        ] {
            moto.set_clock(
                Utc.with_ymd_and_hms(2026, 11, day, 2, 0, 0)
                    .single()
                    .ok_or("time")?,
            )?;
            let id = api.push(event(name), Duration::from_secs(60));
            let Some(Answer::Response(r)) = api.answer(&id, wait).await else {
                panic!("{name}: no response")
            };
            assert_eq!(r["databases"][0]["database"], "axiomcore-production", "{r}");
        }
        assert_eq!(
            managed_count(&sdk).await,
            2,
            "one snapshot per tick; the repeated tick made none"
        );
    }

    // A policy naming a database that does not exist.
    let dir = std::env::temp_dir().join(format!("snapshot-policy-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let policy = dir.join("policy.toml");
    std::fs::write(
        &policy,
        axiom_ops::policy::BUILT_IN
            .replace(
                "id = \"axiomcore-production\"",
                "id = \"axiomcore-missing\"",
            )
            .replace(
                "database = \"axiomcore-production\"",
                "database = \"axiomcore-missing\"",
            ),
    )?;
    // A Runtime API of its own: the first process, stopped above, may have left a poll open on
    // the first one, which would take the event to a process that is gone.
    let api = RuntimeApi::start().await?;
    let _f = spawn(
        &api,
        &moto,
        &seeded,
        &[("OPS_POLICY_FILE", policy.to_str().ok_or("path")?)],
    )?;
    let id = api.push(event("schedule-rule.json"), Duration::from_secs(60));
    let Some(Answer::Error(e)) = api.answer(&id, wait).await else {
        panic!("expected the invocation to fail")
    };
    assert!(
        e["errorMessage"]
            .as_str()
            .is_some_and(|m| m.contains("axiomcore-missing")),
        "{e}"
    );
    assert_eq!(
        managed_count(&sdk).await,
        2,
        "nothing deleted, nothing created"
    );
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}
