//! `axiom-ops ledger <cluster>/<service>`: the incident timeline, read back from DynamoDB.

use anyhow::{anyhow, Context};
use axiom_ops::adapters::dynamodb::DynamoLedger;
use axiom_ops::adapters::sdk::{config as sdk_config, Budget};
use axiom_ops::model::Target;
use axiom_ops::ports::{Ledger, Mode};
use axiom_ops::remediate::state::target_pk;
use serde_json::Value;

use crate::config_with_ledger;
use crate::output::Output;
use crate::text::Table;

pub async fn show(target: &str, out: Output) -> anyhow::Result<()> {
    let target =
        Target::parse(target).ok_or_else(|| anyhow!("{target:?} is not <cluster>/<service>"))?;
    let config = config_with_ledger()?;
    let table = config.require_ledger()?;
    let sdk = sdk_config().await;
    let ledger = DynamoLedger::new(
        &aws_sdk_dynamodb::Client::new(&sdk),
        table,
        Budget::unbounded(),
    );
    let state = axiom_ops::remediate::state::load(&ledger, Mode::Live, &target)
        .await
        .context("reading the target's state")?;
    let history = ledger
        .history(&target_pk(&target))
        .await
        .context("reading the ledger")?;
    let doc = serde_json::json!({ "target": target.to_string(), "state": state.state, "decisions": history });
    out.print(&doc, || render(&target, &state.state, &history))
}

pub fn render(
    target: &Target,
    state: &axiom_ops::remediate::state::TargetState,
    history: &[Value],
) -> String {
    let mut out = format!("{target}\n");
    match &state.incident {
        Some(i) => out.push_str(&format!(
            "open incident {} ({}) since {}; still firing: {}; circuit {}; pre-incident desired count {}\n",
            i.id,
            i.severity,
            i.opened_at.format("%Y-%m-%d %H:%M:%SZ"),
            i.firing.iter().cloned().collect::<Vec<_>>().join(", "),
            if i.circuit_open { "OPEN (a human is needed)" } else { "closed" },
            i.pre_incident_desired
        )),
        None => out.push_str("no open incident\n"),
    }
    if history.is_empty() {
        out.push_str("no decisions recorded\n");
        return out;
    }
    let mut table = Table::new(&[
        "handled (UTC)",
        "alarm",
        "state",
        "action",
        "outcome",
        "sev",
        "desired",
    ]);
    let s = |v: &Value, k: &str| v.get(k).and_then(Value::as_str).unwrap_or("-").to_owned();
    for h in history {
        let desired = match (
            h.get("before").and_then(Value::as_i64),
            h.get("after").and_then(Value::as_i64),
        ) {
            (Some(b), Some(a)) if a != b => format!("{b}→{a}"),
            (Some(b), _) => b.to_string(),
            _ => "-".into(),
        };
        let at = s(h, "at");
        let dry = if h.get("dry_run").and_then(Value::as_bool) == Some(true) {
            " (dry run)"
        } else {
            ""
        };
        table.row(vec![
            at.get(..19).unwrap_or(&at).replace('T', " "),
            s(h, "alarm"),
            s(h, "state"),
            s(h, "action"),
            s(h, "outcome"),
            s(h, "severity"),
            desired,
        ]);
        // The reason under its row: a line of its own, cut to the terminal's width.
        let mut note = format!("{}{dry}", s(h, "reason"));
        if let Some(story) = h.get("closed_incident").and_then(Value::as_str) {
            for line in story.lines() {
                note.push_str(&format!("\n  {line}"));
            }
        }
        table.note(note);
    }
    out.push('\n');
    out.push_str(&table.render(usize::MAX));
    out
}
