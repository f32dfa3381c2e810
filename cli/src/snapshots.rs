//! `axiom-ops snapshot <db>` and `axiom-ops retention <db> --plan`.

use anyhow::{anyhow, bail, Context};
use axiom_ops::adapters::rds::RdsSnapshots;
use axiom_ops::adapters::sdk::{config as sdk_config, Budget};
use axiom_ops::retention::{deletions, plan};
use axiom_ops::runtime::Config;
use chrono::Utc;
use {axiom_ops::model::Created, axiom_ops::ports::Databases, axiom_ops::ports::Snapshots};
use {axiom_ops::model::Database, axiom_ops::policy::Policy};

fn database<'p>(policy: &'p Policy, id: &str) -> anyhow::Result<&'p Database> {
    policy.database(id).ok_or_else(|| {
        let listed: Vec<&str> = policy.databases.iter().map(|d| d.id.as_str()).collect();
        anyhow!(
            "{id} is not a database of the policy (it lists: {}); nothing was done",
            listed.join(", ")
        )
    })
}

/// The guide's on-demand snapshot: `axiomcore-manual-YYYYMMDD-HHMMSS`. Not tagged as managed, so
/// retention never deletes it.
pub async fn manual(db_id: &str) -> anyhow::Result<()> {
    let config = Config::from_env()?;
    let db = database(&config.policy, db_id)?;
    let rds = RdsSnapshots::new(
        &aws_sdk_rds::Client::new(&sdk_config().await),
        Budget::unbounded(),
    );
    if rds.database(db).await?.is_none() {
        bail!("{db_id} does not exist in this account and region");
    }
    let id = format!("axiomcore-manual-{}", Utc::now().format("%Y%m%d-%H%M%S"));
    let tags = [("created-by".to_owned(), "axiom-ops-cli".to_owned())];
    let created = rds
        .create(db, &id, &tags)
        .await
        .map_err(|e| anyhow!(e.message))?;
    println!(
        "{}",
        serde_json::json!({ "database": db_id, "snapshot": id, "created": created == Created::New })
    );
    Ok(())
}

pub async fn retention(db_id: &str, plan_only: bool) -> anyhow::Result<()> {
    if !plan_only {
        bail!("retention runs inside the scheduled snapshot job; `--plan` shows what it would keep and delete");
    }
    let config = Config::from_env()?;
    let db = database(&config.policy, db_id)?;
    let rds = RdsSnapshots::new(
        &aws_sdk_rds::Client::new(&sdk_config().await),
        Budget::unbounded(),
    );
    let snaps = rds.list_managed(db).await.context("listing snapshots")?;
    print!("{}", render_plan(&config.policy, &snaps));
    Ok(())
}

/// Every managed snapshot, what retention would do with it, and which rule keeps it.
pub fn render_plan(policy: &Policy, snaps: &[axiom_ops::model::SnapInfo]) -> String {
    let sp = &policy.snapshots;
    let verdicts = plan(
        &axiom_ops::snapshot::candidates(snaps),
        &sp.keep,
        Utc::now(),
    );
    let (doomed, deferred) = deletions(&verdicts, sp.max_deletions);
    let k = &sp.keep;
    let mut out = format!(
        "policy: keep last {} hourly {} daily {} weekly {} monthly {} yearly {}{}; at most {} deletions a run\n\n",
        k.last,
        k.hourly,
        k.daily,
        k.weekly,
        k.monthly,
        k.yearly,
        k.within.map(|w| format!(" within {w}")).unwrap_or_default(),
        sp.max_deletions
    );
    out.push_str(&format!(
        "{:<48} {:<20} {:<8} {}\n",
        "snapshot", "created (UTC)", "verdict", "kept by"
    ));
    for v in &verdicts {
        let verdict = if v.keep() {
            "keep"
        } else if doomed.iter().any(|d| d.id == v.id) {
            "delete"
        } else {
            "deferred"
        };
        let why: Vec<&str> = v.reasons.iter().map(|r| r.as_str()).collect();
        out.push_str(&format!(
            "{:<48} {:<20} {:<8} {}\n",
            v.id,
            v.created.format("%Y-%m-%d %H:%M:%S"),
            verdict,
            why.join(", ")
        ));
    }
    for s in snaps.iter().filter(|s| s.status != "available") {
        out.push_str(&format!(
            "{:<48} {:<20} {:<8} not available ({}): never a candidate\n",
            s.id, "-", "keep", s.status
        ));
    }
    out.push_str(&format!(
        "\n{} kept, {} to delete this run, {} deferred\n",
        verdicts.iter().filter(|v| v.keep()).count(),
        doomed.len(),
        deferred
    ));
    out
}
