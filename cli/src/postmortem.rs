//! `axiom-ops postmortem <cluster>/<service> [--incident ID]`: the draft post-mortem of a closed
//! incident (the newest by default), from the reports bucket (`OPS_REPORT_BUCKET`); when it is
//! not there, rendered from the closing decision the ledger keeps.

use anyhow::{anyhow, bail, Context};
use axiom_ops::adapters::dynamodb::DynamoLedger;
use axiom_ops::adapters::s3::S3Reports;
use axiom_ops::adapters::sdk::{config as sdk_config, Budget};
use axiom_ops::model::{parse_time, Target};
use axiom_ops::ports::{Ledger, Reports};
use axiom_ops::remediate::postmortem::{key, prefix, render};
use axiom_ops::remediate::state::{target_pk, Incident};
use axiom_ops::runtime::Config;
use serde_json::{json, Value};

use crate::output::Output;

pub async fn show(target: &str, incident: Option<&str>, out: Output) -> anyhow::Result<()> {
    let target =
        Target::parse(target).ok_or_else(|| anyhow!("{target:?} is not <cluster>/<service>"))?;
    let config = Config::from_env()?;
    let sdk = sdk_config().await;
    // The ledger names the closes: the newest is shown even when its draft never reached the
    // bucket (an older draft there is not passed off as the latest).
    let closes = match config.ledger_table.as_deref() {
        Some(table) => closes(&sdk, table, &target).await?,
        None => Vec::new(),
    };
    let wanted =
        |i: &Incident| incident.is_none_or(|id| i.id == id || i.id.ends_with(&format!("@{id}")));
    let close = closes.iter().rev().find(|(i, _)| wanted(i));
    if let Some(bucket) = &config.report_bucket {
        let reports = S3Reports::new(
            &axiom_ops::remediate::s3_client(&sdk),
            bucket,
            Budget::unbounded(),
        );
        let k = match (close, incident) {
            (Some((i, _)), _) => Some(key(&target, &i.id)),
            (None, Some(id)) => Some(key(&target, id)),
            (None, None) => reports
                .list(&prefix(&target))
                .await
                .with_context(|| format!("listing post-mortems in s3://{bucket}"))?
                .pop(),
        };
        if let Some(k) = k {
            if let Some(text) = reports
                .get(&k)
                .await
                .with_context(|| format!("reading s3://{bucket}/{k}"))?
            {
                let doc = json!({ "target": target.to_string(), "source": format!("s3://{bucket}/{k}"), "markdown": text });
                return out.print(&doc, || text.clone());
            }
        }
    }
    if config.ledger_table.is_none() {
        bail!(
            "no post-mortem of {target} in the reports bucket (OPS_REPORT_BUCKET), and OPS_LEDGER_TABLE is unset to render one from the ledger"
        );
    }
    let Some((inc, record)) = close else {
        bail!(
            "{target} has no closed incident{} in the ledger",
            incident.map(|i| format!(" {i}")).unwrap_or_default()
        );
    };
    let s = |k: &str| record.get(k).and_then(Value::as_str);
    let resolved = s("state_time")
        .and_then(parse_time)
        .unwrap_or(inc.opened_at);
    let closing = s("closing").or(s("reason")).unwrap_or("-");
    eprintln!("(not in the reports bucket: rendered from the ledger)");
    let text = render(inc, &target, resolved, closing);
    let doc = json!({ "target": target.to_string(), "incident": inc.id, "source": "ledger", "markdown": text });
    out.print(&doc, || text.clone())
}

/// Every closed incident of `target` the ledger keeps, oldest first, with its closing record.
async fn closes(
    sdk: &aws_config::SdkConfig,
    table: &str,
    target: &Target,
) -> anyhow::Result<Vec<(Incident, Value)>> {
    let ledger = DynamoLedger::new(
        &aws_sdk_dynamodb::Client::new(sdk),
        table,
        Budget::unbounded(),
    );
    let history = ledger
        .history(&target_pk(target))
        .await
        .context("reading the ledger")?;
    Ok(history
        .into_iter()
        // A shadow run's closes are not the service's.
        .filter(|r| r.get("dry_run").and_then(Value::as_bool) != Some(true))
        .filter_map(|r| {
            let text = r.get("incident").and_then(Value::as_str)?;
            let inc = serde_json::from_str::<Incident>(text).ok()?;
            Some((inc, r))
        })
        .collect())
}
