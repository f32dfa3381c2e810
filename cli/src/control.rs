//! `axiom-ops pause | resume | incidents`: a human's hands on the automation, and one view of
//! what it is doing.

use anyhow::{anyhow, Context};
use axiom_ops::adapters::dynamodb::DynamoLedger;
use axiom_ops::adapters::sdk::{config as sdk_config, Budget};
use axiom_ops::adapters::sns::SnsNotifier;
use axiom_ops::maintenance::live;
use axiom_ops::policy::duration;
use axiom_ops::ports::Mode;
use axiom_ops::remediate::pause;
use axiom_ops::remediate::state::{self, Pause};
use axiom_ops::runtime::Config;
use chrono::Utc;
use serde_json::{json, Value};

use crate::config_with_ledger;
use crate::output::Output;

/// The configuration, ledger, ops topic and SDK configuration every recording command uses.
pub(crate) struct Ports {
    pub config: Config,
    pub ledger: DynamoLedger,
    pub notifier: SnsNotifier,
    pub sdk: aws_config::SdkConfig,
}

pub(crate) async fn ports() -> anyhow::Result<Ports> {
    let config = config_with_ledger()?;
    let sdk = sdk_config().await;
    let ledger = DynamoLedger::new(
        &aws_sdk_dynamodb::Client::new(&sdk),
        config.require_ledger()?,
        Budget::unbounded(),
    );
    let notifier = SnsNotifier::new(
        &aws_sdk_sns::Client::new(&sdk),
        config.topic_arn.as_deref(),
        Budget::unbounded(),
    );
    Ok(Ports {
        config,
        ledger,
        notifier,
        sdk,
    })
}

/// Who is asking, from the environment's AWS configuration.
pub async fn caller_now() -> anyhow::Result<String> {
    caller(&sdk_config().await).await
}

/// Who is asking: the caller's AWS identity, as AWS names it.
async fn caller(sdk: &aws_config::SdkConfig) -> anyhow::Result<String> {
    let me = aws_sdk_sts::Client::new(sdk)
        .get_caller_identity()
        .send()
        .await
        .context("reading the caller's AWS identity (sts:GetCallerIdentity)")?;
    me.arn()
        .map(str::to_owned)
        .ok_or_else(|| anyhow!("sts:GetCallerIdentity named no ARN"))
}

pub async fn pause(which: &str, for_: &str, reason: &str, out: Output) -> anyhow::Result<()> {
    if reason.trim().is_empty() {
        anyhow::bail!("--reason must say why (it is announced and kept in the ledger)");
    }
    let p = ports().await?;
    let policy = &p.config.policy;
    let targets = pause::targets(policy, which)?;
    let length = duration::parse_alone("--for", for_).map_err(|e| anyhow!(e))?;
    let since = Utc::now();
    let until = since
        + chrono::Duration::from_std(length).map_err(|_| anyhow!("--for {for_:?} is too long"))?;
    let by = caller(&p.sdk).await?;
    let done = pause::pause(
        &p.ledger,
        &p.notifier,
        policy,
        &targets,
        Pause {
            by,
            reason: reason.to_owned(),
            since,
            until,
        },
    )
    .await?;
    print_done(&done, out)
}

pub async fn resume(which: &str, out: Output) -> anyhow::Result<()> {
    let p = ports().await?;
    let targets = pause::targets(&p.config.policy, which)?;
    let by = caller(&p.sdk).await?;
    let done = pause::resume(&p.ledger, &p.notifier, &targets, &by, Utc::now()).await?;
    print_done(&done, out)
}

/// What was done, as the records say it, or one line per target.
fn print_done(done: &[Value], out: Output) -> anyhow::Result<()> {
    out.print(&Value::from(done.to_vec()), || {
        done.iter()
            .map(|d| {
                format!(
                    "{}: {}\n",
                    d["target"].as_str().unwrap_or("-"),
                    d["reason"].as_str().unwrap_or("")
                )
            })
            .collect()
    })
}

/// Open incidents, active pauses, and the maintenance window's state.
pub async fn incidents(output: Output) -> anyhow::Result<()> {
    let p = ports().await?;
    let policy = &p.config.policy;
    let now = Utc::now();
    let mut rows = Vec::new();
    for t in pause::targets(policy, "all")? {
        let s = state::load(&p.ledger, Mode::Live, &t)
            .await
            .with_context(|| format!("reading {t}"))?
            .state;
        let incident = s.incident.as_ref().map(|i| {
            json!({
                "id": i.id,
                "since": i.opened_at.to_rfc3339(),
                "severity": i.severity,
                "firing": i.firing,
                "alarms": i.fired,
                "actions": s.actions.iter().filter(|a| a.at >= i.opened_at).map(|a| json!({
                    "kind": a.kind.as_str(), "at": a.at.to_rfc3339(), "status": a.status,
                })).collect::<Vec<_>>(),
                "circuit": if i.circuit_open { "open" } else { "closed" },
            })
        });
        let pause = s
            .pause
            .as_ref()
            .filter(|p| p.until > now)
            .map(|p| json!({ "by": p.by, "reason": p.reason, "until": p.until.to_rfc3339() }));
        rows.push(json!({ "target": t.to_string(), "incident": incident, "pause": pause }));
    }
    let mut window = live::in_progress(&p.ledger, now)
        .await
        .context("reading the maintenance window")?;
    if let Some(mp) = &policy.maintenance {
        use axiom_ops::ports::Parameters;
        let mode = axiom_ops::adapters::ssm::SsmParameters::new(
            &aws_sdk_ssm::Client::new(&p.sdk),
            Budget::unbounded(),
        )
        .get(&mp.parameter)
        .await
        .with_context(|| format!("reading {}", mp.parameter))?;
        if mode.as_deref() == Some("on") {
            // What holds remediation, as remediate sees it.
            window.get_or_insert_with(|| format!("{} is on", mp.parameter));
        }
    }
    let out = json!({ "targets": rows, "maintenance": window });
    output.print(&out, || render(&out))
}

fn render(out: &Value) -> String {
    let mut s = String::new();
    for r in out["targets"].as_array().into_iter().flatten() {
        let t = r["target"].as_str().unwrap_or("-");
        match &r["incident"] {
            Value::Null => s.push_str(&format!("{t}: no open incident\n")),
            i => s.push_str(&format!(
                "{t}: incident {} ({}) since {}, firing {}, {} action(s), circuit {}\n",
                i["id"].as_str().unwrap_or("-"),
                i["severity"].as_str().unwrap_or("-"),
                i["since"].as_str().unwrap_or("-"),
                i["firing"],
                i["actions"].as_array().map_or(0, Vec::len),
                i["circuit"].as_str().unwrap_or("-"),
            )),
        }
        if let Some(p) = r["pause"].as_object() {
            s.push_str(&format!(
                "  paused by {} until {}: {}\n",
                p["by"].as_str().unwrap_or("-"),
                p["until"].as_str().unwrap_or("-"),
                p["reason"].as_str().unwrap_or("")
            ));
        }
    }
    match out["maintenance"].as_str() {
        Some(w) => s.push_str(&format!("maintenance: {w}\n")),
        None => s.push_str("maintenance: no window in progress\n"),
    }
    s
}
