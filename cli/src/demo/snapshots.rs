//! The demo's snapshot part: the daily job of the last 45 days, one simulated day each (the
//! emulator's clock moved to 02:00 of that day), then what retention keeps and why.

use anyhow::anyhow;
use axiom_ops::adapters::rds::RdsSnapshots;
use axiom_ops::adapters::sdk::Budget;
use axiom_ops::ports::Snapshots;
use axiom_ops::runtime::{Invocation, Job};
use axiom_ops::snapshot::SnapshotApp;
use chrono::{DateTime, Duration, Utc};
use serde_json::Value;
use testkit as emulator;

use super::{section, Stage, Summary, SNAPSHOT_DAYS};
use crate::text;

pub async fn days(
    stage: &Stage,
    first_day: DateTime<Utc>,
    summary: &mut Summary,
) -> anyhow::Result<()> {
    let last_day = first_day + Duration::days(SNAPSHOT_DAYS - 1);
    section(&format!(
        "Backup & Recovery: snapshots from {} to {}",
        first_day.format("%Y-%m-%d"),
        last_day.format("%Y-%m-%d")
    ));
    stage.clock(first_day - Duration::hours(1))?;
    emulator::seed_database(&stage.sdk, "axiomcore-production")
        .await
        .map_err(|e| anyhow!("{e}"))?;
    let policy = stage.config.policy.clone();
    let app = SnapshotApp::build(stage.config.clone(), &stage.sdk)?;
    let rule = stage.sample("schedule-rule.json")?;
    let (mut created, mut deleted) = (0, 0);
    for d in 0..SNAPSHOT_DAYS {
        let t = first_day + Duration::days(d);
        // Lambda runs the job within a minute of its schedule's tick.
        stage.clock(t + Duration::seconds(30))?;
        let mut tick = rule.clone();
        tick["time"] = Value::from(t.format("%Y-%m-%dT%H:%M:%SZ").to_string());
        let mut inv = Invocation::local(
            &format!("snapshot-{d:02}"),
            std::time::Duration::from_secs(60),
        );
        inv.now = t + Duration::minutes(1);
        let r = app.handle(&tick, &inv, false).await?;
        let db = &r["databases"][0];
        created += usize::from(db["created"] == true);
        deleted += db["deleted"].as_array().map_or(0, Vec::len);
    }
    println!(
        "{}",
        text::wrap(
            &format!(
                "{SNAPSHOT_DAYS} daily runs of the snapshot job (02:00 UTC): {created} snapshots \
                 created, {deleted} deleted by retention."
            ),
            text::width(),
            ""
        )
    );
    let mut again = stage.sample("schedule-scheduler.json")?;
    again["time"] = Value::from(last_day.format("%Y-%m-%dT%H:%M:%SZ").to_string());
    let mut inv = Invocation::local("snapshot-again", std::time::Duration::from_secs(60));
    inv.now = last_day + Duration::minutes(1);
    let r = app.handle(&again, &inv, false).await?;
    let duplicate = r["databases"][0]["duplicate"] == true;
    println!(
        "The last tick again, by EventBridge Scheduler: {}.",
        if duplicate {
            "a duplicate, nothing done"
        } else {
            "handled again"
        }
    );

    let db = policy
        .database("axiomcore-production")
        .ok_or_else(|| anyhow!("policy lists no axiomcore-production"))?;
    let rds = RdsSnapshots::new(&aws_sdk_rds::Client::new(&stage.sdk), Budget::unbounded());
    let snaps = rds.list_managed(db).await?;
    println!("\n`axiom-ops retention axiomcore-production --plan` shows:\n");
    super::print_fitted(&crate::snapshots::render_plan(&policy, &snaps));
    summary.say(format!(
        "{SNAPSHOT_DAYS} days of daily snapshots: {created} created, {deleted} deleted by the \
         retention rules, {} kept; a tick delivered twice made one snapshot.",
        snaps.len()
    ));
    Ok(())
}
