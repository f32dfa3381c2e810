//! The restore drill against moto, driven as its state machine drives it (each output fed back
//! until `done`): it restores the newest managed snapshot to `<db>-drill-<date>`, measures the
//! RTO, checks the instance and the newest secret backup, deletes the instance and announces;
//! it deletes what a crashed run left behind; an RTO over target and an aborted step fail it.

use aws_sdk_rds::types::Tag;
use axiom_ops::backup::BackupApp;
use axiom_ops::drill::DrillApp;
use axiom_ops::policy::Policy;
use axiom_ops::runtime::{Config, Invocation, Job};
use chrono::{DateTime, Duration, Utc};
use integration_tests::{event, Env, TestResult};
use serde_json::{json, Value};
use testkit::backup::{self as kit, BACKUP_BUCKET};

const DB: &str = "axiomcore-production";

fn config(env: &Env, policy: Option<Policy>) -> Config {
    let mut c: Config = env.config(false);
    c.backup_bucket = Some(BACKUP_BUCKET.to_owned());
    if let Some(p) = policy {
        c.policy = p;
    }
    c
}

fn inv(now: DateTime<Utc>) -> Invocation {
    let mut i = Invocation::local("drill-test", std::time::Duration::from_secs(60));
    i.now = now;
    i
}

/// The production database with one managed snapshot, and one backup of the secret.
async fn ready() -> Result<Env, Box<dyn std::error::Error + Send + Sync>> {
    let env = Env::start().await?;
    testkit::seed_database(&env.sdk, DB).await?;
    kit::seed_backup(&env.sdk, 64).await?;
    aws_sdk_rds::Client::new(&env.sdk)
        .create_db_snapshot()
        .db_instance_identifier(DB)
        .db_snapshot_identifier(format!("{DB}-auto-20261126-020000"))
        .tags(Tag::builder().key("managed-by").value("axiom-ops").build())
        .send()
        .await?;
    BackupApp::build(config(&env, None), &env.sdk)?
        .handle(&event("schedule-rule.json"), &inv(Utc::now()), false)
        .await?;
    Ok(env)
}

/// Runs the drill as the state machine would; `later` moves each step's clock on.
async fn drive(
    app: &DrillApp,
    first: Value,
    start: DateTime<Utc>,
    later: Duration,
) -> Result<Value, Box<dyn std::error::Error + Send + Sync>> {
    let mut payload = first;
    for n in 0..10 {
        let out = app.handle(&payload, &inv(start + later * n), false).await?;
        if out["done"] == true {
            return Ok(out);
        }
        payload = out;
    }
    Err("the drill did not finish in 10 steps".into())
}

async fn instance_exists(env: &Env, id: &str) -> bool {
    aws_sdk_rds::Client::new(&env.sdk)
        .describe_db_instances()
        .db_instance_identifier(id)
        .send()
        .await
        .is_ok()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_drill_restores_measures_checks_deletes_and_announces() -> TestResult {
    let env = ready().await?;
    // Left by a run that crashed last month.
    let leftover = format!("{DB}-drill-20261108");
    aws_sdk_rds::Client::new(&env.sdk)
        .restore_db_instance_from_db_snapshot()
        .db_snapshot_identifier(format!("{DB}-auto-20261126-020000"))
        .db_instance_identifier(&leftover)
        .tags(Tag::builder().key("axiom-ops:drill").value("true").build())
        .send()
        .await?;
    env.inbox().await;
    let app = DrillApp::build(config(&env, None), &env.sdk)?;
    let start = Utc::now();
    let out = drive(&app, json!({}), start, Duration::minutes(7)).await?;
    assert_eq!(out["passed"], true, "{out}");
    // Restore requested at the first step, seen available at the second, 7 minutes on.
    assert_eq!(out["rto_seconds"], 420, "{out}");
    let id = format!("{DB}-drill-{}", start.format("%Y%m%d"));
    assert_eq!(out["instance"], id.as_str());
    assert!(
        !instance_exists(&env, &id).await,
        "the drill instance is deleted"
    );
    assert!(
        !instance_exists(&env, &leftover).await,
        "the leftover is deleted"
    );
    assert!(instance_exists(&env, DB).await, "production is untouched");

    let notices = env.inbox().await;
    let drill: Vec<_> = notices
        .iter()
        .filter(|n| n.subject.contains("restore drill"))
        .collect();
    assert_eq!(
        drill.len(),
        1,
        "{:?}",
        notices.iter().map(|n| &n.subject).collect::<Vec<_>>()
    );
    assert!(
        drill[0].subject.starts_with("[SEV3]") && drill[0].subject.contains("RTO 7m"),
        "{}",
        drill[0].subject
    );
    let text = drill[0].message.to_string();
    assert!(
        text.contains("decrypts and its HMAC matches the live secret"),
        "{text}"
    );
    assert!(text.contains(&leftover), "{text}");

    // Done is done: the same input again announces nothing more.
    let again = app
        .handle(&out, &inv(start + Duration::hours(1)), false)
        .await?;
    assert_eq!(again["done"], true);
    assert!(env.inbox().await.is_empty());
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_rto_over_target_fails_the_drill() -> TestResult {
    let env = ready().await?;
    let app = DrillApp::build(config(&env, None), &env.sdk)?;
    let out = drive(&app, json!({}), Utc::now(), Duration::minutes(75)).await?;
    assert_eq!(out["passed"], false, "{out}");
    assert_eq!(out["rto_seconds"], 4500, "{out}");
    let notices = env.inbox().await;
    assert!(
        notices
            .iter()
            .any(|n| n.subject.starts_with("[SEV2]") && n.subject.contains("over the 1h target")),
        "{:?}",
        notices.iter().map(|n| &n.subject).collect::<Vec<_>>()
    );
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_aborted_drill_deletes_its_instance_and_fails() -> TestResult {
    let env = ready().await?;
    let app = DrillApp::build(config(&env, None), &env.sdk)?;
    let now = Utc::now();
    let first = app.handle(&json!({}), &inv(now), false).await?;
    let id = first["instance"].as_str().ok_or("instance")?.to_owned();
    assert!(instance_exists(&env, &id).await);
    let mut abort = first.clone();
    abort["abort"] = json!(true);
    abort["error"] = json!({"Error": "DrillStepFailed", "Cause": "ledger: throttled"});
    let out = drive(
        &app,
        abort,
        now + Duration::minutes(1),
        Duration::minutes(1),
    )
    .await?;
    assert_eq!(out["passed"], false, "{out}");
    assert!(!instance_exists(&env, &id).await);
    let notices = env.inbox().await;
    assert!(
        notices.iter().any(|n| n.subject.starts_with("[SEV2]")
            && n.message.to_string().contains("ledger: throttled")),
        "{:?}",
        notices.iter().map(|n| &n.subject).collect::<Vec<_>>()
    );

    // Every sample of events/ is an input it takes (read as a dry run: nothing restored).
    let mut shadow = config(&env, None);
    shadow.dry_run = true;
    let preview = DrillApp::build(shadow, &env.sdk)?;
    for name in ["drill-start.json", "drill-step.json", "drill-abort.json"] {
        let out = preview.handle(&event(name), &inv(now), false).await?;
        assert_eq!(out["dry_run"], true, "{name}: {out}");
    }

    // Bad input changes nothing and says what was expected.
    let err = app
        .handle(&json!({"drill": "last tuesday"}), &inv(now), false)
        .await
        .expect_err("refused");
    assert!(err.to_string().contains("YYYYMMDD"), "{err}");
    let err = app
        .handle(&json!({"databse": DB}), &inv(now), false)
        .await
        .expect_err("refused");
    assert!(err.to_string().contains("databse"), "{err}");
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_snapshot_to_restore_fails_loudly() -> TestResult {
    let env = Env::start().await?;
    testkit::seed_database(&env.sdk, DB).await?;
    let text = axiom_ops::policy::BUILT_IN.to_owned();
    let app = DrillApp::build(config(&env, Some(Policy::from_toml(&text, "t")?)), &env.sdk)?;
    let out = drive(&app, json!({}), Utc::now(), Duration::minutes(1)).await?;
    assert_eq!(out["passed"], false, "{out}");
    let notices = env.inbox().await;
    assert!(
        notices.iter().any(|n| n.subject.starts_with("[SEV2]")
            && n.message
                .to_string()
                .contains("no available managed snapshot")),
        "{:?}",
        notices.iter().map(|n| &n.subject).collect::<Vec<_>>()
    );
    Ok(())
}
