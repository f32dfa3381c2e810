//! `axiom-ops demo`: the whole story on the local emulator, in about a minute, told on one
//! clock: alarms on api and frontend in the last hour (remediation), a crash loop that a restart
//! would not help, the last 45 days of snapshots, and this month's maintenance window, now.

mod diagnosis;
mod local;
mod maintenance;
mod remediation;
mod snapshots;

pub use local::up as emulator_up;

use std::path::{Path, PathBuf};

use anyhow::{anyhow, Context};
use axiom_ops::runtime::Config;
use chrono::{DateTime, Duration, DurationRound, Utc};
use serde_json::Value;
use testkit::{self as emulator, Moto, CLUSTER};

use crate::text;

/// How many daily snapshot runs the demo plays, one simulated day each.
const SNAPSHOT_DAYS: i64 = 45;

/// What the demo works with: the emulator, its seeded names, the functions' configuration.
pub struct Stage {
    pub moto: Moto,
    pub sdk: aws_config::SdkConfig,
    pub config: Config,
    pub inbox_url: String,
    pub events: PathBuf,
}

impl Stage {
    /// A sample of `events/`.
    pub fn sample(&self, name: &str) -> anyhow::Result<Value> {
        load(&self.events, name)
    }

    /// Moves the emulator's clock (every time it stamps) to `t`.
    pub fn clock(&self, t: DateTime<Utc>) -> anyhow::Result<()> {
        self.moto.set_clock(t).map_err(|e| anyhow!("{e}"))
    }
}

/// What the closing summary says, a sentence per part of the story.
#[derive(Default)]
pub struct Summary(Vec<String>);

impl Summary {
    pub fn say(&mut self, sentence: String) {
        self.0.push(sentence);
    }
}

pub async fn run() -> anyhow::Result<()> {
    let events = events_dir()?;
    // One clock for the whole story: the snapshots of the last 45 days (02:00 each day), the
    // alarms of the last hour, the maintenance window now.
    let now = Utc::now()
        .duration_trunc(Duration::minutes(1))
        .map_err(|e| anyhow!("clock: {e}"))?;
    let last_tick = (now - Duration::hours(2))
        .date_naive()
        .and_hms_opt(2, 0, 0)
        .map(|t| t.and_utc())
        .ok_or_else(|| anyhow!("clock"))?;
    let first_day = last_tick - Duration::days(SNAPSHOT_DAYS - 1);
    let alarms_from = now - Duration::minutes(50);

    println!(
        "Starting the local AWS emulator (moto, on a clock the demo moves) and seeding AxiomCore…"
    );
    let moto = Moto::start_frozen(first_day).map_err(|e| anyhow!("{e}"))?;
    let sdk = moto.sdk_config().await;
    let seeded = emulator::seed(&sdk)
        .await
        .map_err(|e| anyhow!("seeding: {e}"))?;
    diagnosis::bucket(&sdk).await?;
    let mut config = Config::from_lookup(|_| None)?;
    config.topic_arn = Some(seeded.topic_arn.clone());
    config.ledger_table = Some(seeded.table.clone());
    config.report_bucket = Some(diagnosis::BUCKET.into());
    println!("  cluster {CLUSTER}: api ×3, frontend ×2");
    println!("  ops topic {} (an SQS inbox subscribed)", emulator::TOPIC);
    println!("  ledger table {}", seeded.table);
    let stage = Stage {
        moto,
        sdk,
        config,
        inbox_url: seeded.inbox_url,
        events,
    };

    let mut summary = Summary::default();
    let app = remediation::story(&stage, alarms_from, &mut summary).await?;
    diagnosis::image_pull(
        &stage,
        &app,
        alarms_from + Duration::minutes(40),
        &mut summary,
    )
    .await?;
    snapshots::days(&stage, first_day, &mut summary).await?;
    maintenance::window(&stage, &mut summary).await?;

    section("What happened");
    for sentence in &summary.0 {
        println!("{}", text::bullet(sentence, text::width()));
    }
    drop(stage);
    println!("\nEmulator stopped. Nothing outside it was touched.");
    Ok(())
}

/// A part of the story's heading: `── Title ───…`, 80 columns.
pub fn section(title: &str) {
    let rule = 80usize.saturating_sub(text::columns(title) + 4);
    println!("\n── {title} {}", "─".repeat(rule));
}

/// Prints a command's text as it would (long lines wrapped to the terminal's width).
pub fn print_fitted(text: &str) {
    print!("{}", text::reflow(text, text::width()));
}

fn events_dir() -> anyhow::Result<PathBuf> {
    let mut here = std::env::current_dir()?;
    loop {
        if here.join("events/lambda-metric-alarm.json").is_file() {
            return Ok(here.join("events"));
        }
        if !here.pop() {
            return Err(anyhow!(
                "events/ not found: run the demo from the project folder"
            ));
        }
    }
}

fn load(dir: &Path, name: &str) -> anyhow::Result<Value> {
    let text = std::fs::read_to_string(dir.join(name))
        .with_context(|| format!("reading events/{name}"))?;
    Ok(serde_json::from_str(&text)?)
}

/// What a remediate result says, in a line: `[SEV2] scale_out done 3→5: <reason>`.
pub fn summarize(report: &Value) -> String {
    if let Some(what) = report.get("ignored").and_then(Value::as_str) {
        return format!("acknowledged, ignored ({what})");
    }
    let Some(results) = report.get("results").and_then(Value::as_array) else {
        return report.to_string();
    };
    results
        .iter()
        .map(|r| {
            if r.get("duplicate") == Some(&Value::Bool(true)) {
                return "a duplicate of a transition already handled: nothing more".to_owned();
            }
            let s = |k: &str| r.get(k).and_then(Value::as_str).unwrap_or("-").to_owned();
            let change = match (
                r.get("before").and_then(Value::as_i64),
                r.get("after").and_then(Value::as_i64),
            ) {
                (Some(b), Some(a)) if a != b => format!(" {b}→{a}"),
                _ => String::new(),
            };
            format!(
                "[{}] {} {}{change}: {}",
                s("severity"),
                s("action"),
                s("outcome"),
                s("reason")
            )
        })
        .collect::<Vec<_>>()
        .join("; ")
}
