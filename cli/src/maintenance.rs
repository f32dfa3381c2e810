//! `axiom-ops maintenance run [--dry-run] [--yes]`, `… abort` and `… status`.

use axiom_ops::runtime::Job;
use std::time::Duration;

use crate::output::Output;
use anyhow::Context;
use axiom_ops::maintenance::window::Window;
use axiom_ops::maintenance::{is_window_day, next_window, report_text, MaintenanceApp, PK};
use axiom_ops::ports::Ledger;
use axiom_ops::runtime::Invocation;
use serde_json::{json, Value};

/// Drives the window in-process exactly as the state machine does: invoke, wait what the step
/// asks, invoke again; on an error, the rollback loop. Prints one line per step.
pub async fn drive(app: &MaintenanceApp, dry_run: bool) -> anyhow::Result<Value> {
    drive_from(app, json!({ "dry_run": dry_run }), dry_run).await
}

/// The same loop from any of the function's inputs (a rollback's, for `abort`).
async fn drive_from(app: &MaintenanceApp, first: Value, dry_run: bool) -> anyhow::Result<Value> {
    let mut payload = first;
    let mut last_phase = String::new();
    loop {
        let inv = Invocation::local("cli-maintenance", Duration::from_secs(120));
        let out = match app.handle(&payload, &inv, dry_run).await {
            Ok(out) => out,
            Err(e) => {
                eprintln!("  step failed ({e}): rolling back");
                payload = json!({ "rollback": true, "window": payload.get("window").cloned().unwrap_or(Value::Null), "dry_run": dry_run });
                continue;
            }
        };
        let phase = out["phase"].as_str().unwrap_or("").to_owned();
        if phase != last_phase {
            eprintln!("  → {phase}");
            last_phase = phase;
        }
        if out["done"] == true {
            return Ok(out);
        }
        let wait = out["wait_seconds"].as_u64().unwrap_or(0);
        if wait > 0 {
            // Never silent for minutes: every wait (a health try, a poll) is said.
            eprintln!("    {last_phase}: waiting {wait} s");
        }
        tokio::time::sleep(Duration::from_secs(wait)).await;
        payload = out;
    }
}

pub async fn run(dry_run: bool, yes: bool, output: Output) -> anyhow::Result<()> {
    let now = chrono::Utc::now();
    if !dry_run && !yes && !is_window_day(now) {
        eprint!(
            "Today is not a maintenance window day (the next is {}). Maintenance mode goes on and the services are scaled down. Run the window now? [y/N] ",
            next_window(now).format("%Y-%m-%d %H:%MZ")
        );
        use std::io::Write;
        std::io::stderr().flush()?;
        let mut answer = String::new();
        std::io::stdin().read_line(&mut answer)?;
        if !matches!(answer.trim(), "y" | "Y" | "yes") {
            anyhow::bail!("not confirmed: nothing was done (--yes skips the question)");
        }
    }
    let app = axiom_ops::runtime::from_env::<MaintenanceApp>().await?;
    eprintln!(
        "maintenance window{}:",
        if dry_run { " (dry run)" } else { "" }
    );
    let out = drive(&app, dry_run).await?;
    let text = status_text(&app).await?;
    output.print(&out, || text)
}

/// Rolls back the live window in progress through the same rollback path the state machine
/// takes, announced; says so when there is none.
pub async fn abort(by: &str, output: Output) -> anyhow::Result<()> {
    let app = axiom_ops::runtime::from_env::<MaintenanceApp>().await?;
    let Some(w) = live_window(&app).await? else {
        anyhow::bail!("no live maintenance window in progress: nothing to abort");
    };
    eprintln!("aborting maintenance window {}: rolling back", w.id);
    let first = json!({
        "window": w.id,
        "dry_run": false,
        "rollback": true,
        "error": { "Error": "Aborted", "Cause": format!("aborted from the command line by {by}") },
    });
    let out = drive_from(&app, first, false).await?;
    let text = status_text(&app).await?;
    output.print(&out, || text)
}

async fn live_window(app: &MaintenanceApp) -> anyhow::Result<Option<Window>> {
    let ledger = app.ledger();
    let keys = ledger
        .keys(PK, "window#")
        .await
        .context("reading the ledger")?;
    let Some(sk) = keys.iter().rev().find(|k| !k.ends_with("#dry_run")) else {
        return Ok(None);
    };
    let Some((doc, _)) = ledger.get_doc(PK, sk).await? else {
        return Ok(None);
    };
    let w: Window = serde_json::from_value(doc)?;
    Ok((!w.phase.is_final()).then_some(w))
}

pub async fn status(output: Output) -> anyhow::Result<()> {
    let app = axiom_ops::runtime::from_env::<MaintenanceApp>().await?;
    let doc = latest(&app).await?.unwrap_or(Value::Null);
    let text = status_text(&app).await?;
    output.print(&doc, || text)
}

/// The current or last window's record: live ones first, else the last dry run.
async fn latest(app: &MaintenanceApp) -> anyhow::Result<Option<Value>> {
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
        return Ok(None);
    };
    Ok(ledger.get_doc(PK, sk).await?.map(|(doc, _)| doc))
}

/// The current or last window, step by step.
pub async fn status_text(app: &MaintenanceApp) -> anyhow::Result<String> {
    let Some(doc) = latest(app).await? else {
        return Ok("no maintenance window recorded\n".into());
    };
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
