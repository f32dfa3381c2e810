//! Diagnose before acting, against the emulator: stopped tasks with their reasons, ERROR lines in
//! the service's log group, the database's status and the reports bucket are the emulator's own.
//! (It keeps no container exit codes, service events or rollout states: the classifier's tests
//! and the ECS adapter's `aws-smithy-mocks` test cover those.)

use std::time::{Duration, Instant};

use axiom_ops::runtime::Job;
use integration_tests::{eventbridge, first, inv_home, proxied, Env, TestResult};
use serde_json::Value;
use testkit::fault_proxy::Fault;

const DOWN: &str = "axiomcore-api-down-critical";
const MEMORY: &str = "axiomcore-api-memory-critical";
const PULL: &str = "CannotPullContainerError: pull image manifest has been retried 5 time(s): failed to resolve ref docker.io/axiomcore/api:1.1";
const OOM: &str = "OutOfMemoryError: Container killed due to memory usage";
const BUCKET: &str = "axiomcore-ops-reports";

fn stamp(ahead: chrono::Duration) -> String {
    (chrono::Utc::now() + ahead)
        .format("%Y-%m-%dT%H:%M:%S%.3f+0000")
        .to_string()
}

async fn stopped_tasks(env: &Env, reason: &str, n: usize) -> TestResult {
    testkit::stopped_tasks(&env.sdk, "api", reason, n).await
}

async fn alarm(env: &Env, name: &str) -> Value {
    env.agree(eventbridge(name, "ALARM", &stamp(chrono::Duration::zero())))
        .await
}

/// The one notice of the run, by its subject's alarm.
async fn notice(env: &Env) -> testkit::Received {
    let mut inbox = env.inbox().await;
    assert_eq!(inbox.len(), 1, "{inbox:?}");
    inbox.remove(0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_image_that_does_not_pull_is_not_restarted_and_pages_sev1() -> TestResult {
    let env = Env::start().await?;
    stopped_tasks(&env, PULL, 2).await?;
    let before = env.primary_deployment("api").await;
    let r = env
        .app()
        .handle(&alarm(&env, DOWN).await, &inv_home(), false)
        .await?;
    let d = first(&r);
    assert_eq!(
        (&d["outcome"], &d["held_by"], &d["severity"]),
        (
            &Value::from("no_action"),
            &Value::from("diagnosed"),
            &Value::from("SEV1")
        ),
        "{r}"
    );
    assert!(
        d["reason"]
            .as_str()
            .is_some_and(|s| s.contains("a restart would not help")
                && s.contains("CannotPullContainerError")),
        "{r}"
    );
    assert_eq!(
        env.primary_deployment("api").await,
        before,
        "nothing restarted"
    );
    let n = notice(&env).await;
    assert_eq!(
        n.attributes.get("severity").map(String::as_str),
        Some("SEV1")
    );
    assert_eq!(
        n.message["diagnosis"]["finding"]["kind"], "crash_loop",
        "{}",
        n.message
    );
    assert_eq!(n.message["diagnosis"]["finding"]["stops"], 2);
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_oom_killed_service_is_restarted_and_the_notice_says_oom() -> TestResult {
    let env = Env::start().await?;
    stopped_tasks(&env, OOM, 1).await?;
    let before = env.primary_deployment("api").await;
    let r = env
        .app()
        .handle(&alarm(&env, MEMORY).await, &inv_home(), false)
        .await?;
    let d = first(&r);
    assert_eq!(
        (&d["outcome"], &d["action"]),
        (&Value::from("done"), &Value::from("restart")),
        "{r}"
    );
    assert!(
        d["reason"].as_str().is_some_and(|s| s.contains("OOM")),
        "{r}"
    );
    assert_ne!(env.primary_deployment("api").await, before, "restarted");
    let n = notice(&env).await;
    assert!(
        n.message["reason"]
            .as_str()
            .is_some_and(|s| s.contains("OOM")),
        "{}",
        n.message
    );
    assert_eq!(n.message["diagnosis"]["finding"]["kind"], "out_of_memory");
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_the_database_stopped_nothing_changes_on_ecs_and_sev1_names_it() -> TestResult {
    let env = Env::start().await?;
    testkit::seed_database(&env.sdk, "axiomcore-production").await?;
    aws_sdk_rds::Client::new(&env.sdk)
        .stop_db_instance()
        .db_instance_identifier("axiomcore-production")
        .send()
        .await?;
    let before = env.primary_deployment("api").await;
    let app = env.app();
    for name in [DOWN, "axiomcore-api-cpu-critical"] {
        let r = app
            .handle(&alarm(&env, name).await, &inv_home(), false)
            .await?;
        let d = first(&r);
        assert_eq!(
            (&d["outcome"], &d["severity"]),
            (&Value::from("no_action"), &Value::from("SEV1")),
            "{r}"
        );
        assert!(
            d["reason"]
                .as_str()
                .is_some_and(|s| s.contains("the database axiomcore-production is stopped")),
            "{r}"
        );
    }
    assert_eq!(env.primary_deployment("api").await, before, "no restart");
    assert_eq!(env.desired("api").await, 3, "no scale-out");
    let inbox = env.inbox().await;
    assert_eq!(inbox.len(), 2);
    assert!(inbox
        .iter()
        .all(|n| n.message["diagnosis"]["finding"]["kind"] == "dependency_down"));
    Ok(())
}

async fn log_line(env: &Env, group: &str, message: &str) -> TestResult {
    let logs = aws_sdk_cloudwatchlogs::Client::new(&env.sdk);
    logs.create_log_group().log_group_name(group).send().await?;
    logs.create_log_stream()
        .log_group_name(group)
        .log_stream_name("api/api/1")
        .send()
        .await?;
    let event = aws_sdk_cloudwatchlogs::types::InputLogEvent::builder()
        .timestamp(chrono::Utc::now().timestamp_millis())
        .message(message)
        .build()?;
    logs.put_log_events()
        .log_group_name(group)
        .log_stream_name("api/api/1")
        .log_events(event)
        .send()
        .await?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_error_line_reaches_the_notice_redacted() -> TestResult {
    let env = Env::start().await?;
    log_line(
        &env,
        "/aws/ecs/axiomcore/api",
        "ERROR payment gateway refused: password=hunter2 Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2ln\n",
    )
    .await?;
    let r = env
        .app()
        .handle(&alarm(&env, DOWN).await, &inv_home(), false)
        .await?;
    assert_eq!(
        first(&r)["outcome"],
        "done",
        "nothing known against a restart: {r}"
    );
    let n = notice(&env).await;
    let body = n.message.to_string();
    let line = &n.message["diagnosis"]["evidence"]["logs"]["read"][0]["message"];
    assert_eq!(
        line, "ERROR payment gateway refused: password=[REDACTED] Authorization: Bearer [REDACTED]",
        "{body}"
    );
    assert!(
        !body.contains("hunter2") && !body.contains("eyJzdWIi"),
        "{body}"
    );
    let ledger = env.history(&integration_tests::api_pk()).await;
    assert!(!serde_json::to_string(&ledger)?.contains("hunter2"));
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn evidence_that_does_not_come_in_time_is_left_out_and_said() -> TestResult {
    let env = Env::start().await?;
    let (proxy, sdk) = proxied(&env).await?;
    proxy.inject("Logs_20140328.FilterLogEvents", Fault::Hang, None);
    let app = env.app_with(&sdk, false);
    let event = alarm(&env, DOWN).await;
    let started = Instant::now();
    let r = app.handle(&event, &inv_home(), false).await?;
    // Not a speed assertion: a hung source that held the decision would take the SDK's
    // whole operation timeout, or forever.
    assert!(
        started.elapsed() < Duration::from_secs(20),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(first(&r)["outcome"], "done", "{r}");
    let n = notice(&env).await;
    assert_eq!(
        n.message["diagnosis"]["evidence"]["logs"]["left_out"], "no answer within the 2s budget",
        "{}",
        n.message
    );
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_closed_incident_has_its_post_mortem_in_the_bucket() -> TestResult {
    let env = Env::start().await?;
    let s3 = axiom_ops::remediate::s3_client(&env.sdk);
    s3.create_bucket().bucket(BUCKET).send().await?;
    stopped_tasks(&env, OOM, 1).await?;
    let mut config = env.config(false);
    config.report_bucket = Some(BUCKET.into());
    let app = axiom_ops::remediate::App::build(config, &env.sdk)?;
    let r = app
        .handle(&alarm(&env, MEMORY).await, &inv_home(), false)
        .await?;
    assert_eq!(first(&r)["outcome"], "done", "{r}");
    env.set_alarm(MEMORY, "OK").await;
    let ok = eventbridge(MEMORY, "OK", &stamp(chrono::Duration::seconds(5)));
    let r = app.handle(&ok, &inv_home(), false).await?;
    assert!(first(&r)["closed_incident"].is_string(), "{r}");

    let listed = s3
        .list_objects_v2()
        .bucket(BUCKET)
        .prefix("postmortems/axiomcore-production/api/")
        .send()
        .await?;
    let keys: Vec<&str> = listed.contents().iter().filter_map(|o| o.key()).collect();
    assert_eq!(keys.len(), 1, "{keys:?}");
    let object = s3.get_object().bucket(BUCKET).key(keys[0]).send().await?;
    assert_eq!(
        object.server_side_encryption().map(|e| e.as_str()),
        Some("aws:kms")
    );
    let text = String::from_utf8(object.body.collect().await?.to_vec())?;
    for part in [
        "# Post-mortem (draft): axiomcore-production/api",
        "## Timeline (UTC)",
        "out of memory",
        "Time to resolve",
        "## Follow-up actions",
    ] {
        assert!(text.contains(part), "{part}:\n{text}");
    }
    let close = env.inbox().await.pop().ok_or("no close notice")?;
    assert_eq!(
        close.message["postmortem"]["stored"],
        format!("s3://{BUCKET}/{}", keys[0]),
        "{}",
        close.message
    );
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_draft_the_bucket_refused_is_owed_and_written_by_the_next_tick() -> TestResult {
    let env = Env::start().await?;
    stopped_tasks(&env, OOM, 1).await?;
    // The bucket is named but does not exist yet: every write is refused.
    let mut config = env.config(false);
    config.report_bucket = Some(BUCKET.into());
    let app = axiom_ops::remediate::App::build(config, &env.sdk)?;
    app.handle(&alarm(&env, MEMORY).await, &inv_home(), false)
        .await?;
    env.set_alarm(MEMORY, "OK").await;
    let ok = eventbridge(MEMORY, "OK", &stamp(chrono::Duration::seconds(5)));
    let r = app.handle(&ok, &inv_home(), false).await?;
    assert!(first(&r)["closed_incident"].is_string(), "{r}");
    let close = env.inbox().await.pop().ok_or("no close notice")?;
    assert!(
        close.message["postmortem"]["stored"].is_null(),
        "{}",
        close.message
    );
    assert!(
        close.message["postmortem"]["not_stored"]
            .as_str()
            .is_some_and(|s| s.contains("writing it failed") && s.contains("reconcile tick")),
        "{}",
        close.message
    );

    let s3 = axiom_ops::remediate::s3_client(&env.sdk);
    s3.create_bucket().bucket(BUCKET).send().await?;
    let tick = integration_tests::event("reconcile-tick.json");
    let r = app.handle(&tick, &inv_home(), false).await?;
    let written = &r["reconcile"]["results"][0]["postmortem"]["stored"];
    assert!(
        written.as_str().is_some_and(|s| s.starts_with(&format!(
            "s3://{BUCKET}/postmortems/axiomcore-production/api/"
        ))),
        "{r}"
    );
    let keys = s3
        .list_objects_v2()
        .bucket(BUCKET)
        .send()
        .await?
        .key_count();
    assert_eq!(keys, Some(1));
    // Written once: the next tick owes nothing.
    let r = app.handle(&tick, &inv_home(), false).await?;
    assert!(!r.to_string().contains("postmortem"), "{r}");
    Ok(())
}
