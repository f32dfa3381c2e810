//! `axiom-ops snapshot <db>` and `axiom-ops retention <db> --plan`.

use anyhow::{anyhow, bail, Context};
use axiom_ops::adapters::rds::RdsSnapshots;
use axiom_ops::adapters::sdk::{config as sdk_config, Budget};
use axiom_ops::retention::{deletions, plan, Verdict};

use crate::output::Output;
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
pub async fn manual(db_id: &str, out: Output) -> anyhow::Result<()> {
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
    let new = created == Created::New;
    let doc = serde_json::json!({ "database": db_id, "snapshot": id, "created": new });
    out.print(&doc, || {
        format!(
            "{id} of {db_id}: {}\n",
            if new { "creating" } else { "already there" }
        )
    })
}

pub async fn retention(db_id: &str, plan_only: bool, out: Output) -> anyhow::Result<()> {
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
    out.print(&plan_doc(&config.policy, &snaps), || {
        render_plan(&config.policy, &snaps)
    })
}

/// Retention's verdict on every available managed snapshot, and which are deleted this run.
fn verdicts(
    policy: &Policy,
    snaps: &[axiom_ops::model::SnapInfo],
) -> (Vec<Verdict>, Vec<String>, usize) {
    let sp = &policy.snapshots;
    let verdicts = plan(
        &axiom_ops::snapshot::candidates(snaps),
        &sp.keep,
        Utc::now(),
    );
    let (doomed, deferred) = deletions(&verdicts, sp.max_deletions);
    let doomed = doomed.iter().map(|d| d.id.clone()).collect();
    (verdicts, doomed, deferred)
}

fn verdict_of(v: &Verdict, doomed: &[String]) -> &'static str {
    if v.keep() {
        "keep"
    } else if doomed.contains(&v.id) {
        "delete"
    } else {
        "deferred"
    }
}

/// The plan as JSON: the rules, and each snapshot's verdict and the rules that keep it.
fn plan_doc(policy: &Policy, snaps: &[axiom_ops::model::SnapInfo]) -> serde_json::Value {
    let (verdicts, doomed, deferred) = verdicts(policy, snaps);
    let k = &policy.snapshots.keep;
    let mut rows: Vec<serde_json::Value> = verdicts
        .iter()
        .map(|v| {
            serde_json::json!({
                "snapshot": v.id,
                "created": v.created.to_rfc3339(),
                "verdict": verdict_of(v, &doomed),
                "kept_by": v.reasons.iter().map(|r| r.as_str()).collect::<Vec<_>>(),
            })
        })
        .collect();
    rows.extend(snaps.iter().filter(|s| s.status != "available").map(|s| {
        serde_json::json!({ "snapshot": s.id, "created": null, "verdict": "keep", "kept_by": [], "status": s.status })
    }));
    serde_json::json!({
        "keep": { "last": k.last, "hourly": k.hourly, "daily": k.daily, "weekly": k.weekly,
                  "monthly": k.monthly, "yearly": k.yearly, "within": k.within.map(|w| w.to_string()) },
        "max_deletions": policy.snapshots.max_deletions,
        "snapshots": rows,
        "deferred": deferred,
    })
}

/// Every managed snapshot, what retention would do with it, and which rule keeps it.
pub fn render_plan(policy: &Policy, snaps: &[axiom_ops::model::SnapInfo]) -> String {
    let sp = &policy.snapshots;
    let (verdicts, doomed, deferred) = verdicts(policy, snaps);
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
        let verdict = verdict_of(v, &doomed);
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
