//! `axiom-ops drill run [--dry-run]` and `axiom-ops drill status [--json]`.

use std::io::Write;
use std::time::Duration;

use anyhow::{anyhow, Context};
use axiom_ops::drill::plan::{human, Drill};
use axiom_ops::drill::{DrillApp, PK};
use axiom_ops::ports::Ledger;
use axiom_ops::runtime::{Invocation, Job};
use serde_json::json;

use crate::output::Output;

/// Drives today's drill in-process as its state machine does: invoke, wait what the step asks,
/// invoke again; a step that fails after three tries switches to the clean-up loop.
pub async fn run(dry_run: bool, yes: bool, output: Output) -> anyhow::Result<()> {
    let app = axiom_ops::runtime::from_env::<DrillApp>().await?;
    if !dry_run && !yes {
        let class = &app.config.policy.restore_drill.instance_class;
        eprint!(
            "The drill restores the newest snapshot to a new {class} instance for up to {} and deletes it afterwards. Run it now? [y/N] ",
            humantime::format_duration(app.config.policy.restore_drill.give_up_after)
        );
        std::io::stderr().flush()?;
        let mut answer = String::new();
        std::io::stdin().read_line(&mut answer)?;
        if !matches!(answer.trim(), "y" | "Y" | "yes") {
            anyhow::bail!("not confirmed: nothing was done (--yes skips the question)");
        }
    }
    let mut payload = json!({});
    let mut last_phase = String::new();
    let mut failures = 0;
    let mut aborting = false;
    loop {
        let inv = Invocation::local("cli-drill", Duration::from_secs(120));
        let out = match app.handle(&payload, &inv, dry_run).await {
            Ok(out) => out,
            // As the state machine: a step twice more, then the clean-up loop, ten tries.
            Err(e) if failures < if aborting { 10 } else { 2 } => {
                failures += 1;
                eprintln!("  step failed ({e}): trying again");
                tokio::time::sleep(Duration::from_secs(10)).await;
                continue;
            }
            Err(e) if !aborting => {
                eprintln!("  step failed ({e}): cleaning up");
                payload["abort"] = json!(true);
                payload["error"] = json!({ "Error": "DrillStepFailed", "Cause": e.to_string() });
                failures = 0;
                aborting = true;
                continue;
            }
            Err(e) => anyhow::bail!(
                "the clean-up failed too ({e}): check for a drill instance left running (`axiom-ops drill status`)"
            ),
        };
        failures = 0;
        let phase = out["phase"].as_str().unwrap_or("").to_owned();
        if phase != last_phase && !phase.is_empty() {
            eprintln!("  → {phase}");
            last_phase = phase;
        }
        if out["done"] == true {
            if dry_run {
                return output.print_doc(&out);
            }
            let text = status_text(&app, false).await?;
            return output.print(&out, || text);
        }
        let wait = out["wait_seconds"].as_u64().unwrap_or(0);
        if wait > 0 {
            eprintln!("    {last_phase}: waiting {wait} s");
        }
        tokio::time::sleep(Duration::from_secs(wait)).await;
        payload = out;
    }
}

pub async fn status(output: Output) -> anyhow::Result<()> {
    let app = axiom_ops::runtime::from_env::<DrillApp>().await?;
    let text = status_text(&app, output == Output::Json).await?;
    match output {
        Output::Json => print!("{text}"),
        Output::Table => print!("{}", crate::text::reflow(&text, crate::text::width())),
    }
    Ok(())
}

/// The newest drill, from the ledger.
async fn status_text(app: &DrillApp, json_out: bool) -> anyhow::Result<String> {
    let ledger = app.ledger();
    let keys = ledger
        .keys(PK, "run#")
        .await
        .context("reading the ledger")?;
    let Some(sk) = keys.last() else {
        return Ok(if json_out {
            "null\n".into()
        } else {
            "no restore drill recorded\n".into()
        });
    };
    let (doc, _) = ledger
        .get_doc(PK, sk)
        .await?
        .ok_or_else(|| anyhow!("{sk} vanished"))?;
    if json_out {
        return Ok(format!("{}\n", serde_json::to_string_pretty(&doc)?));
    }
    let d: Drill = serde_json::from_value(doc)?;
    let verdict = match (d.phase.as_str(), d.passed()) {
        ("done", true) => "PASSED".to_owned(),
        ("done", false) => "FAILED".to_owned(),
        (phase, _) => format!("in progress ({phase})"),
    };
    let mut s = format!(
        "drill {} of {}: {verdict}\n  snapshot {} → {}{}\n  RTO {} (target {})\n",
        d.date,
        d.database,
        if d.snapshot.is_empty() {
            "(none)"
        } else {
            &d.snapshot
        },
        d.instance,
        d.region
            .as_ref()
            .map(|r| format!(" in {r}"))
            .unwrap_or_default(),
        d.rto_seconds
            .map(human)
            .unwrap_or_else(|| "not measured".into()),
        human(d.rto_target_seconds),
    );
    if let Some(e) = &d.error {
        s.push_str(&format!("  error: {e}\n"));
    }
    for c in &d.checks {
        s.push_str(&format!(
            "  {} {}: {}\n",
            if c.passed { "ok  " } else { "FAIL" },
            c.name,
            c.detail
        ));
    }
    Ok(s)
}
