//! `axiom-ops maintenance run [--dry-run]` and `axiom-ops maintenance status`.

use axiom_ops::runtime::Job;
use std::time::Duration;

use anyhow::{anyhow, Context};
use axiom_ops::maintenance::window::Window;
use axiom_ops::maintenance::{report_text, MaintenanceApp, PK};
use axiom_ops::ports::Ledger;
use axiom_ops::runtime::Invocation;
use serde_json::{json, Value};

/// Drives the window in-process exactly as the state machine does: invoke, wait what the step
/// asks, invoke again; on an error, the rollback loop. Prints one line per step.
pub async fn drive(app: &MaintenanceApp, dry_run: bool) -> anyhow::Result<Value> {
    let mut payload = json!({ "dry_run": dry_run });
    let mut last_phase = String::new();
    loop {
        let inv = Invocation::local("cli-maintenance", Duration::from_secs(120));
        let out = match app.handle(&payload, &inv, dry_run).await {
            Ok(out) => out,
            Err(e) => {
                println!("  step failed ({e}): rolling back");
                payload = json!({ "rollback": true, "window": payload.get("window").cloned().unwrap_or(Value::Null), "dry_run": dry_run });
                continue;
            }
        };
        let phase = out["phase"].as_str().unwrap_or("").to_owned();
        if phase != last_phase {
            println!("  → {phase}");
            last_phase = phase;
        }
        if out["done"] == true {
            return Ok(out);
        }
        let wait = out["wait_seconds"].as_u64().unwrap_or(0);
        tokio::time::sleep(Duration::from_secs(wait)).await;
        payload = out;
    }
}

pub async fn run(dry_run: bool) -> anyhow::Result<()> {
    let app = axiom_ops::runtime::from_env::<MaintenanceApp>().await?;
    println!(
        "maintenance window{}:",
        if dry_run { " (dry run)" } else { "" }
    );
    let out = drive(&app, dry_run).await?;
    println!("{}", serde_json::to_string_pretty(&out)?);
    print!("{}", status_text(&app).await?);
    Ok(())
}

pub async fn status() -> anyhow::Result<()> {
    let app = axiom_ops::runtime::from_env::<MaintenanceApp>().await?;
    print!("{}", status_text(&app).await?);
    Ok(())
}

/// The current or last window: live ones first, else the last dry run.
pub async fn status_text(app: &MaintenanceApp) -> anyhow::Result<String> {
    let ledger = app.ledger();
    let keys = ledger
        .keys(PK, "window#")
        .await
        .context("reading the ledger")?;
    let Some(sk) = keys
        .iter()
        .rev()
        .find(|k| !k.ends_with("#dry_run"))
        .or(keys.last())
    else {
        return Ok("no maintenance window recorded\n".into());
    };
    let (doc, _) = ledger
        .get_doc(PK, sk)
        .await?
        .ok_or_else(|| anyhow!("{sk} vanished"))?;
    let w: Window = serde_json::from_value(doc)?;
    let mut s = format!(
        "window {}: {}{}\n",
        w.id,
        w.phase.name(),
        w.failure
            .as_ref()
            .map(|f| format!(" — failed: {f}"))
            .unwrap_or_default()
    );
    s.push_str(&report_text(&w, chrono::Utc::now()));
    Ok(s)
}
