//! Dry runs without surprises: every notice of a dry run, from every job, says so in its subject
//! and carries `outcome=dry_run`, whatever its decision was.

use axiom_ops::maintenance::MaintenanceApp;
use axiom_ops::runtime::Job;
use axiom_ops::snapshot::SnapshotApp;
use integration_tests::{event, eventbridge, inv_home as inv, Env, TestResult};
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_dry_run_notice_of_every_job_is_marked() -> TestResult {
    let env = Env::start().await?;
    // remediate: an act, and a decision that is not one (CloudWatch has no such alarm).
    let remediate = env.app_with(&env.sdk, true);
    remediate
        .handle(
            &env.agree(event("eventbridge-metric-alarm.json")).await,
            &inv(),
            false,
        )
        .await?;
    remediate
        .handle(
            &eventbridge(
                "axiomcore-api-down-critical",
                "ALARM",
                "2026-11-20T03:00:00.000+0000",
            ),
            &inv(),
            false,
        )
        .await?;
    // snapshot: the database does not exist here, so the run fails — as a dry run.
    let snapshot = SnapshotApp::build(env.config(true), &env.sdk)?;
    let _ = snapshot
        .handle(&event("schedule-rule.json"), &inv(), false)
        .await;
    // maintenance: the advance notice, and a window's first step, asked as a dry run.
    let maintenance = MaintenanceApp::build(env.config(true), &env.sdk)?;
    maintenance
        .handle(&json!({ "action": "notice" }), &inv(), false)
        .await?;

    let notices = env.inbox().await;
    assert!(notices.len() >= 4, "{notices:?}");
    for n in &notices {
        assert!(n.subject.contains("(dry run)"), "{}", n.subject);
        assert_eq!(
            n.attributes.get("outcome").map(String::as_str),
            Some("dry_run"),
            "{}",
            n.subject
        );
    }
    assert!(
        notices.iter().any(|n| n.subject.contains("snapshot")),
        "{notices:?}"
    );
    assert_eq!(env.desired("api").await, 3);
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_operators_dry_run_consumes_nothing_and_starts_from_the_live_state() -> TestResult {
    let env = Env::start().await?;
    let alarm = env.agree(event("eventbridge-metric-alarm.json")).await;
    let preview = || {
        let mut c = env.config(false);
        c.preview = true;
        c.print_notices = true;
        axiom_ops::remediate::App::build(c, &env.sdk)
    };
    // Twice in a row: the same decision, not a duplicate; nothing written, nothing published.
    let a = preview()?.handle(&alarm, &inv(), false).await?;
    let b = preview()?.handle(&alarm, &inv(), false).await?;
    assert_eq!(a["results"][0]["outcome"], "dry_run", "{a}");
    assert_eq!(a["results"][0]["after"], 5);
    assert_eq!(b["results"][0]["outcome"], "dry_run", "{b}");
    assert_eq!(b["results"][0]["after"], 5, "{b}");
    assert!(env.history(&integration_tests::api_pk()).await.is_empty());
    assert!(env.inbox().await.is_empty(), "printed, not published");
    assert_eq!(env.desired("api").await, 3);

    // The live function acts; a preview of the same transition now sees what it did.
    env.app().handle(&alarm, &inv(), false).await?;
    assert_eq!(env.desired("api").await, 5);
    let c = preview()?.handle(&alarm, &inv(), false).await?;
    assert_ne!(
        c["results"][0]["outcome"], "dry_run",
        "already acted on live: {c}"
    );
    Ok(())
}
