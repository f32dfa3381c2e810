//! The demo's remediation part: the alarm samples of `events/`, moved onto the demo's clock a
//! few minutes apart, each handled as Lambda would hand it to the function (after its alarm's
//! state is set in the emulator: the function reads it back before acting).

use std::collections::BTreeMap;

use anyhow::anyhow;
use axiom_ops::model::Target;
use axiom_ops::ports::{Ledger, Mode};
use axiom_ops::remediate::state::target_pk;
use axiom_ops::remediate::App;
use axiom_ops::runtime::{Invocation, Job};
use chrono::{DateTime, Duration, Utc};
use serde_json::Value;
use testkit::{self as emulator, CLUSTER};

use super::{print_fitted, section, summarize, Stage, Summary};
use crate::events::{newest, shift};
use crate::text::{self, Table};

/// A sample and what it shows, `at` minutes into the story (`None`: the same transition as the
/// sample before it, delivered again another way).
struct Step {
    sample: &'static str,
    what: &'static str,
    at: Option<i64>,
}

const STORY: &[Step] = &[
    Step {
        sample: "lambda-metric-alarm.json",
        what: "api CPU > 90% (Lambda alarm action)",
        at: Some(0),
    },
    Step {
        sample: "eventbridge-metric-alarm.json",
        what: "the same, by EventBridge",
        at: None,
    },
    Step {
        sample: "sns-metric-alarm.json",
        what: "the same, by SNS",
        at: None,
    },
    Step {
        sample: "lambda-metric-math-alarm.json",
        what: "api 5xx > 5% (metric math)",
        at: Some(4),
    },
    Step {
        sample: "lambda-composite-alarm.json",
        what: "api memory (composite alarm)",
        at: Some(9),
    },
    Step {
        sample: "lambda-anomaly-alarm.json",
        what: "frontend latency (anomaly band)",
        at: Some(12),
    },
    Step {
        sample: "eventbridge-config-change.json",
        what: "an alarm's settings changed",
        at: Some(13),
    },
    Step {
        sample: "not-an-alarm.json",
        what: "an S3 event: not an alarm",
        at: Some(14),
    },
];

/// The OK transitions that close the api incident: (sample, what, minutes into the story).
const RECOVERY: &[(&str, &str, i64)] = &[
    ("lambda-metric-alarm.json", "api CPU back to normal", 20),
    (
        "lambda-metric-math-alarm.json",
        "api 5xx back to normal",
        25,
    ),
    (
        "lambda-composite-alarm.json",
        "api memory back to normal",
        30,
    ),
];

/// How long after an alarm's transition its event is handled.
const DELIVERY: i64 = 5;

pub async fn story(
    stage: &Stage,
    start: DateTime<Utc>,
    summary: &mut Summary,
) -> anyhow::Result<App> {
    let app = App::build(stage.config.clone(), &stage.sdk)?;
    let before = services(&stage.sdk).await?;
    let end = start + Duration::minutes(RECOVERY.iter().map(|r| r.2).max().unwrap_or(0));
    section(&format!(
        "Remediation: alarms on api and frontend, {}–{} UTC",
        start.format("%H:%M"),
        end.format("%H:%M")
    ));
    println!(
        "{}",
        text::wrap(
            "The samples of events/, moved onto the demo's clock, in the order they tell the \
             story. Each is handled by the real function, which reads the alarm back from \
             CloudWatch before it acts.",
            text::width(),
            ""
        )
    );
    let mut runs: Vec<(DateTime<Utc>, &str, Value)> = Vec::new();
    let mut moved = Duration::zero();
    for step in STORY {
        let mut event = stage.sample(step.sample)?;
        if let Some(at) = step.at {
            let was = newest(&event).ok_or_else(|| anyhow!("{}: no time", step.sample))?;
            moved = start + Duration::minutes(at) - was;
        }
        shift(&mut event, moved);
        let t = newest(&event).unwrap_or(start);
        runs.push((t, step.what, event));
    }
    for (sample, what, at) in RECOVERY {
        let alarm = STORY
            .iter()
            .position(|s| s.sample == *sample)
            .and_then(|i| runs.get(i))
            .ok_or_else(|| anyhow!("{sample} is not in the story"))?;
        let t = start + Duration::minutes(*at);
        let ok = ok_of(&alarm.2, t).ok_or_else(|| anyhow!("{sample}: no alarmData"))?;
        runs.push((t, what, ok));
    }

    let mut peak: BTreeMap<String, i64> = BTreeMap::new();
    let mut table = Table::new(&["time", "event", "what axiom-ops did"]);
    for (i, (t, what, event)) in runs.iter().enumerate() {
        let handled = *t + Duration::seconds(DELIVERY);
        stage.clock(handled)?;
        emulator::agree(&stage.sdk, event)
            .await
            .map_err(|e| anyhow!("setting the alarm's state: {e}"))?;
        let mut inv =
            Invocation::local(&format!("demo-{i:02}"), std::time::Duration::from_secs(30));
        inv.now = handled;
        let did = match app.handle(event, &inv, false).await {
            Ok(report) => {
                for r in report["results"].as_array().into_iter().flatten() {
                    let (Some(target), Some(after)) = (r["target"].as_str(), r["after"].as_i64())
                    else {
                        continue;
                    };
                    let name = target.rsplit('/').next().unwrap_or(target).to_owned();
                    let p = peak.entry(name).or_insert(after);
                    *p = (*p).max(after);
                }
                summarize(&report)
            }
            Err(e) => format!("rejected, nothing changed: {e}"),
        };
        table.row(vec![t.format("%H:%M").to_string(), what.to_string(), did]);
    }
    println!();
    print!("{}", table.render(text::width()));

    let after = services(&stage.sdk).await?;
    let mut counts = Table::new(&["service", "desired before", "desired after", "restarted"]);
    let mut told = Vec::new();
    for (name, b) in &before {
        if let Some((_, a)) = after.iter().find(|(n, _)| n == name) {
            let restarted = a.deployment != b.deployment;
            counts.row(vec![
                name.clone(),
                b.desired.to_string(),
                a.desired.to_string(),
                if restarted {
                    "yes (a new deployment)"
                } else {
                    "no"
                }
                .into(),
            ]);
            let high = peak.get(name).copied().unwrap_or(0);
            let path = if high > i64::from(a.desired.max(b.desired)) {
                format!("{}→{high}→{}", b.desired, a.desired)
            } else {
                format!("{}→{}", b.desired, a.desired)
            };
            told.push(format!(
                "{name} {path} tasks{}",
                if restarted { " and restarted once" } else { "" }
            ));
        }
    }
    println!();
    print!("{}", counts.render(text::width()));

    let notices = emulator::drain_inbox(&stage.sdk, &stage.inbox_url)
        .await
        .map_err(|e| anyhow!("{e}"))?;
    println!(
        "\nNotices on {} ({}), as a subscriber sees them:",
        emulator::TOPIC,
        notices.len()
    );
    for n in &notices {
        println!("{}", text::cut(&format!("  {}", n.subject), text::width()));
    }

    let ledger = app.ledger();
    let api = Target::new(CLUSTER, "api");
    let state = axiom_ops::remediate::state::load(&ledger, Mode::Live, &api).await?;
    let history = ledger.history(&target_pk(&api)).await?;
    println!("\n`axiom-ops ledger {api}` shows:\n");
    print_fitted(&crate::ledger::render(&api, &state.state, &history));
    super::diagnosis::postmortem(&stage.sdk).await?;
    summary.say(format!(
        "{} events in {} minutes, each handled once (one transition delivered three ways \
         was acted on once): {}; {} notices, every decision in the ledger, and the api \
         incident's post-mortem draft written when it closed.",
        runs.len(),
        (end - start).num_minutes(),
        told.join(", "),
        notices.len()
    ));
    Ok(app)
}

/// The OK transition of the alarm of `event` (a Lambda alarm action's), at `t`.
fn ok_of(event: &Value, t: DateTime<Utc>) -> Option<Value> {
    let mut v = event.clone();
    let stamp = t.format("%Y-%m-%dT%H:%M:%S%.3f+0000").to_string();
    v["time"] = Value::from(stamp.clone());
    let data = v.get_mut("alarmData")?;
    data["previousState"] = data["state"].clone();
    data["state"]["value"] = Value::from("OK");
    data["state"]["reason"] = Value::from("Threshold Crossed: back under the threshold");
    data["state"]["timestamp"] = Value::from(stamp);
    Some(v)
}

pub struct Service {
    pub desired: i32,
    pub deployment: String,
}

pub async fn services(sdk: &aws_config::SdkConfig) -> anyhow::Result<Vec<(String, Service)>> {
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
