//! `axiom-ops demo`: the whole remediation story on the local emulator, in a minute.

mod diagnosis;
mod local;

pub use local::up as emulator_up;

use std::path::{Path, PathBuf};

use anyhow::{anyhow, Context};
use axiom_ops::model::Target;
use axiom_ops::ports::{Ledger, Mode};
use axiom_ops::remediate::state::target_pk;
use axiom_ops::runtime::Config;
use serde_json::Value;
use testkit::{self as emulator, Moto, CLUSTER};
use {
    axiom_ops::remediate::App,
    axiom_ops::runtime::{Invocation, Job},
};

/// The samples, in the order that tells the story, with what each shows.
const STORY: &[(&str, &str)] = &[
    (
        "lambda-metric-alarm.json",
        "api CPU > 90%, by the Lambda alarm action",
    ),
    (
        "eventbridge-metric-alarm.json",
        "the same transition again, by EventBridge",
    ),
    ("sns-metric-alarm.json", "and by SNS"),
    (
        "lambda-metric-math-alarm.json",
        "api 5xx rate > 5% (metric math)",
    ),
    (
        "lambda-composite-alarm.json",
        "api memory (composite), minutes after the restart",
    ),
    (
        "lambda-anomaly-alarm.json",
        "frontend latency out of its band (anomaly detection)",
    ),
    (
        "eventbridge-config-change.json",
        "an alarm's configuration changed",
    ),
    ("not-an-alarm.json", "something that is not an alarm at all"),
];

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

/// The OK transition of the alarm in `sample`, `minutes` after its ALARM: to close the incident.
fn ok_of(sample: &Value, minutes: i64) -> Option<Value> {
    let mut v = sample.clone();
    let data = v.get_mut("alarmData")?;
    let ts = data["state"]["timestamp"].as_str()?;
    let t = axiom_ops::remediate::alarm::parse_time(ts)? + chrono::Duration::minutes(minutes);
    data["previousState"] = data["state"].clone();
    data["state"]["value"] = Value::from("OK");
    data["state"]["reason"] = Value::from("Threshold Crossed: back under the threshold");
    data["state"]["timestamp"] = Value::from(t.format("%Y-%m-%dT%H:%M:%S%.3f+0000").to_string());
    Some(v)
}

struct Service {
    desired: i32,
    deployment: String,
}

async fn services(sdk: &aws_config::SdkConfig) -> anyhow::Result<Vec<(String, Service)>> {
    let ecs = aws_sdk_ecs::Client::new(sdk);
    let out = ecs
        .describe_services()
        .cluster(CLUSTER)
        .services("api")
        .services("frontend")
        .send()
        .await?;
    Ok(out
        .services()
        .iter()
        .map(|s| {
            let deployment = s
                .deployments()
                .iter()
                .find(|d| d.status() == Some("PRIMARY"))
                .and_then(|d| d.id())
                .unwrap_or("-")
                .to_owned();
            (
                s.service_name().unwrap_or("-").to_owned(),
                Service {
                    desired: s.desired_count(),
                    deployment,
                },
            )
        })
        .collect())
}

pub async fn run() -> anyhow::Result<()> {
    let dir = events_dir()?;
    println!("Starting the local AWS emulator (moto, under a clock the demo can move) and seeding AxiomCore…");
    let today = chrono::Utc::now()
        .date_naive()
        .and_hms_opt(2, 0, 0)
        .map(|t| t.and_utc())
        .ok_or_else(|| anyhow!("clock"))?;
    let first_day = today - chrono::Duration::days(SNAPSHOT_DAYS - 1);
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
    let app = App::build(config.clone(), &sdk)?;
    println!(
        "  cluster {CLUSTER}: api ×3, frontend ×2; topic {}; ledger table {}\n",
        seeded.topic_arn, seeded.table
    );

    let before = services(&sdk).await?;

    let mut runs: Vec<(String, String, Value)> = Vec::new();
    for (file, what) in STORY {
        runs.push((file.to_string(), what.to_string(), load(&dir, file)?));
    }
    for (file, minutes, what) in [
        ("lambda-metric-alarm.json", 20, "api CPU back to normal"),
        ("lambda-metric-math-alarm.json", 5, "api 5xx back to normal"),
        (
            "lambda-composite-alarm.json",
            5,
            "api memory back to normal: the incident closes",
        ),
    ] {
        let ok =
            ok_of(&load(&dir, file)?, minutes).ok_or_else(|| anyhow!("{file}: no alarmData"))?;
        runs.push((format!("{file} → OK"), what.to_string(), ok));
    }

    println!("{:<38} {:<52} what axiom-ops did", "event", "what it is");
    println!("{}", "-".repeat(140));
    for (i, (file, what, payload)) in runs.iter().enumerate() {
        let inv = Invocation::local(&format!("demo-{i:02}"), std::time::Duration::from_secs(30));
        // In a real account the alarm exists and is in the state the event reports: the function
        // reads it back from CloudWatch before acting.
        emulator::agree(&sdk, payload)
            .await
            .map_err(|e| anyhow!("setting the alarm's state: {e}"))?;
        let did = match app.handle(payload, &inv, false).await {
            Ok(report) => summarize(&report),
            Err(e) => format!("rejected, nothing changed: {e}"),
        };
        println!("{file:<38} {what:<52} {did}");
    }

    let after = services(&sdk).await?;
    println!(
        "
{:<10} {:>15} {:>14}   restarted (new deployment)",
        "service", "desired before", "desired after"
    );
    for (name, b) in &before {
        if let Some((_, a)) = after.iter().find(|(n, _)| n == name) {
            let restarted = if a.deployment != b.deployment {
                "yes"
            } else {
                "no"
            };
            println!(
                "{name:<10} {:>15} {:>14}   {restarted}",
                b.desired, a.desired
            );
        }
    }

    let notices = emulator::drain_inbox(&sdk, &seeded.inbox_url)
        .await
        .map_err(|e| anyhow!("{e}"))?;
    println!(
        "\nNotifications on {} ({}), as a subscriber sees them:",
        emulator::TOPIC,
        notices.len()
    );
    for n in &notices {
        println!("  {}", n.subject);
    }

    let ledger = app.ledger();
    let api = Target::new(CLUSTER, "api");
    let state = axiom_ops::remediate::state::load(&ledger, Mode::Live, &api).await?;
    let history = ledger.history(&target_pk(&api)).await?;
    println!("\n`axiom-ops ledger {api}` would show:\n");
    print!("{}", crate::ledger::render(&api, &state.state, &history));
    diagnosis::postmortem(&sdk).await?;
    let sample = load(&dir, "eventbridge-metric-alarm.json")?;
    diagnosis::image_pull(&sdk, &app, &sample, &seeded.inbox_url).await?;

    snapshots(&moto, &sdk, config.clone(), &dir, first_day).await?;
    maintenance_window(&moto, &sdk, config).await?;
    drop(moto);
    println!("\nEmulator stopped. Nothing outside it was touched.");
    Ok(())
}

/// How many daily snapshot runs the demo plays, one simulated day each.
const SNAPSHOT_DAYS: i64 = 45;

async fn snapshots(
    moto: &Moto,
    sdk: &aws_config::SdkConfig,
    config: Config,
    dir: &Path,
    first_day: chrono::DateTime<chrono::Utc>,
) -> anyhow::Result<()> {
    use axiom_ops::adapters::rds::RdsSnapshots;
    use axiom_ops::adapters::sdk::Budget;
    use axiom_ops::ports::Snapshots;
    use axiom_ops::snapshot::SnapshotApp;

    println!("\n── Backup & Recovery ───────────────────────────────────────────────────────────");
    emulator::seed_database(sdk, "axiomcore-production")
        .await
        .map_err(|e| anyhow!("{e}"))?;
    let policy = config.policy.clone();
    let app = SnapshotApp::build(config, sdk)?;
    let rule = load(dir, "schedule-rule.json")?;
    let (mut created, mut deleted) = (0, 0);
    for d in 0..SNAPSHOT_DAYS {
        let t = first_day + chrono::Duration::days(d);
        moto.set_clock(t).map_err(|e| anyhow!("{e}"))?;
        let mut tick = rule.clone();
        tick["time"] = Value::from(t.format("%Y-%m-%dT%H:%M:%SZ").to_string());
        let inv = Invocation::local(
            &format!("snapshot-{d:02}"),
            std::time::Duration::from_secs(60),
        );
        let r = app.handle(&tick, &inv, false).await?;
        let db = &r["databases"][0];
        created += usize::from(db["created"] == true);
        deleted += db["deleted"].as_array().map_or(0, Vec::len);
    }
    println!(
        "{SNAPSHOT_DAYS} daily runs of the snapshot job (02:00 UTC, one simulated day each): {created} created, {deleted} deleted by retention."
    );
    let tick = load(dir, "schedule-scheduler.json")?;
    let mut again = tick.clone();
    again["time"] = Value::from(
        (first_day + chrono::Duration::days(SNAPSHOT_DAYS - 1))
            .format("%Y-%m-%dT%H:%M:%SZ")
            .to_string(),
    );
    let r = app
        .handle(
            &again,
            &Invocation::local("snapshot-again", std::time::Duration::from_secs(60)),
            false,
        )
        .await?;
    println!(
        "The last tick again, by EventBridge Scheduler: duplicate = {}.",
        r["databases"][0]["duplicate"]
    );

    let db = policy
        .database("axiomcore-production")
        .ok_or_else(|| anyhow!("policy lists no axiomcore-production"))?;
    let rds = RdsSnapshots::new(&aws_sdk_rds::Client::new(sdk), Budget::unbounded());
    let snaps = rds.list_managed(db).await?;
    println!("\n`axiom-ops retention axiomcore-production --plan` would show:\n");
    print!("{}", crate::snapshots::render_plan(&policy, &snaps));
    Ok(())
}

fn summarize(report: &Value) -> String {
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
                return "duplicate of a transition already handled: nothing more".to_owned();
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

/// The monthly window, on the emulator, with the health endpoint served here and the guide's
/// waits shortened to seconds so it finishes in the demo's minute.
async fn maintenance_window(
    moto: &Moto,
    sdk: &aws_config::SdkConfig,
    mut config: Config,
) -> anyhow::Result<()> {
    use aws_sdk_applicationautoscaling::types::{ScalableDimension, ServiceNamespace};
    use testkit::http::{read_request, write_response};

    println!("\n── Maintenance window ──────────────────────────────────────────────────────────");
    moto.set_clock(chrono::Utc::now())
        .map_err(|e| anyhow!("{e}"))?;
    aws_sdk_applicationautoscaling::Client::new(sdk)
        .register_scalable_target()
        .service_namespace(ServiceNamespace::Ecs)
        .resource_id(format!("service/{CLUSTER}/api"))
        .scalable_dimension(ScalableDimension::EcsServiceDesiredCount)
        .min_capacity(2)
        .max_capacity(10)
        .send()
        .await?;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let health = format!("http://{}/health", listener.local_addr()?);
    tokio::spawn(async move {
        while let Ok((mut s, _)) = listener.accept().await {
            if let Ok(Some(_)) = read_request(&mut s).await {
                let _ = write_response(&mut s, 200, "OK", &[], b"{\"status\":\"ok\"}").await;
            }
        }
    });
    let text = axiom_ops::policy::BUILT_IN
        .replace("https://api.axiomcore.example.com/health", &health)
        .replace("health_interval = \"30s\"", "health_interval = \"1s\"")
        .replace("monitor = \"15m\"", "monitor = \"3s\"")
        .replace("poll_interval = \"30s\"", "poll_interval = \"1s\"");
    config.policy = axiom_ops::policy::Policy::from_toml(&text, "demo")?;
    let app = axiom_ops::maintenance::MaintenanceApp::build(config, sdk)?;
    let before: Vec<String> = services(sdk)
        .await?
        .into_iter()
        .map(|(n, s)| format!("{n} {}", s.desired))
        .collect();
    println!(
        "Before: {} (api under auto scaling 2–10). Running the window as the state machine would:",
        before.join(", ")
    );
    let out = crate::maintenance::drive(&app, false).await?;
    let after: Vec<String> = services(sdk)
        .await?
        .into_iter()
        .map(|(n, s)| format!("{n} {}", s.desired))
        .collect();
    let mode = aws_sdk_ssm::Client::new(sdk)
        .get_parameter()
        .name("/axiomcore/production/maintenance-mode")
        .send()
        .await
        .ok()
        .and_then(|o| o.parameter().and_then(|p| p.value()).map(str::to_owned))
        .unwrap_or_default();
    println!(
        "After: {}; maintenance mode {mode}; rolled back: {}.",
        after.join(", "),
        out["rolled_back"]
    );
    println!("\n`axiom-ops maintenance status` would show:\n");
    print!("{}", crate::maintenance::status_text(&app).await?);
    Ok(())
}
