//! `axiom-ops events [SHAPE] [--now]`: a sample of every input the functions take (like `sam
//! local generate-event`), compiled in; `--now` moves its clock to now, keeping the gaps
//! between its timestamps, so it is not replayed as a duplicate of an earlier one.

use anyhow::{anyhow, bail};
use axiom_ops::model::parse_time;
use chrono::{DateTime, Duration, Utc};
use serde_json::Value;

macro_rules! samples {
    ($($name:literal),* $(,)?) => {
        &[$(($name, include_str!(concat!("../../events/", $name, ".json")))),*]
    };
}

/// Every sample of `events/`, by name.
const SAMPLES: &[(&str, &str)] = samples![
    "backup-maintenance",
    "certwatch-acm-expiring",
    "certwatch-schedule",
    "drill-abort",
    "drill-start",
    "drill-step",
    "eventbridge-anomaly-alarm",
    "eventbridge-composite-alarm",
    "eventbridge-config-change",
    "eventbridge-metric-alarm",
    "eventbridge-metric-math-alarm",
    "eventbridge-metric-ok",
    "lambda-anomaly-alarm",
    "lambda-composite-alarm",
    "lambda-metric-alarm",
    "lambda-metric-math-alarm",
    "maintenance-dry-run",
    "maintenance-notice",
    "maintenance-rollback",
    "maintenance-start",
    "not-an-alarm",
    "reconcile-tick",
    "schedule-input",
    "schedule-rule",
    "schedule-scheduler",
    "sns-anomaly-alarm",
    "sns-composite-alarm",
    "sns-metric-alarm",
    "sns-metric-math-alarm",
];

pub fn run(shape: Option<&str>, now: bool) -> anyhow::Result<()> {
    let Some(shape) = shape else {
        for (name, _) in SAMPLES {
            println!("{name}");
        }
        return Ok(());
    };
    let shape = shape.trim_end_matches(".json");
    let Some((_, text)) = SAMPLES.iter().find(|(n, _)| *n == shape) else {
        let near: Vec<&str> = SAMPLES
            .iter()
            .map(|(n, _)| *n)
            .filter(|n| n.contains(shape) || shape.contains(n.split('-').next().unwrap_or("")))
            .collect();
        bail!(
            "no sample {shape:?}{}; `axiom-ops events` lists them all",
            if near.is_empty() {
                String::new()
            } else {
                format!(" (did you mean {}?)", near.join(", "))
            }
        );
    };
    let mut v: Value = serde_json::from_str(text).map_err(|e| anyhow!("sample {shape}: {e}"))?;
    if now {
        match newest(&v) {
            Some(newest) => shift(&mut v, Utc::now() - newest),
            None => {
                eprintln!("axiom-ops: {shape} has no timestamp to move: --now leaves it as it is")
            }
        }
    }
    println!("{}", serde_json::to_string_pretty(&v)?);
    Ok(())
}

/// The latest timestamp anywhere in `v` (SNS's `Message` is JSON in a string: looked into).
fn newest(v: &Value) -> Option<DateTime<Utc>> {
    match v {
        Value::String(s) => parse_time(s).or_else(|| {
            serde_json::from_str::<Value>(s)
                .ok()
                .filter(|inner| inner.is_object())
                .and_then(|inner| newest(&inner))
        }),
        Value::Array(a) => a.iter().filter_map(newest).max(),
        Value::Object(o) => o.values().filter_map(newest).max(),
        _ => None,
    }
}

/// Every timestamp moved by `by`, each written as it was (`+0000`, `Z`, with or without millis).
fn shift(v: &mut Value, by: Duration) {
    match v {
        Value::String(s) => {
            if let Some(t) = parse_time(s) {
                let t = t + by;
                let millis = s.contains('.');
                *s = match (s.ends_with("+0000"), millis) {
                    (true, _) => t.format("%Y-%m-%dT%H:%M:%S%.3f+0000").to_string(),
                    (false, true) => t.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string(),
                    (false, false) => t.format("%Y-%m-%dT%H:%M:%SZ").to_string(),
                };
            } else if let Ok(mut inner) = serde_json::from_str::<Value>(s) {
                if inner.is_object() {
                    shift(&mut inner, by);
                    *s = inner.to_string();
                }
            }
        }
        Value::Array(a) => a.iter_mut().for_each(|x| shift(x, by)),
        Value::Object(o) => o.values_mut().for_each(|x| shift(x, by)),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_sample_of_events_is_compiled_in() {
        let mut on_disk: Vec<String> =
            std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/../events"))
                .expect("events/")
                .filter_map(|e| e.ok())
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .filter_map(|n| n.strip_suffix(".json").map(str::to_owned))
                .collect();
        on_disk.sort();
        let compiled: Vec<String> = SAMPLES.iter().map(|(n, _)| n.to_string()).collect();
        assert_eq!(compiled, on_disk);
    }

    #[test]
    fn now_moves_every_timestamp_and_keeps_the_gaps() {
        let text = SAMPLES
            .iter()
            .find(|(n, _)| *n == "sns-metric-alarm")
            .map(|(_, t)| *t)
            .unwrap_or("");
        let mut v: Value = serde_json::from_str(text).expect("sample");
        let before = newest(&v).expect("timestamps");
        let by = Utc::now() - before;
        shift(&mut v, by);
        let after = newest(&v).expect("timestamps");
        assert!((Utc::now() - after).num_seconds().abs() < 5);
        // The state timestamp inside the SNS message moved too.
        let msg: Value =
            serde_json::from_str(v["Records"][0]["Sns"]["Message"].as_str().unwrap_or("{}"))
                .expect("message");
        let state = msg["StateChangeTime"]
            .as_str()
            .and_then(parse_time)
            .expect("state time");
        assert!((after - state).num_seconds() < 3600, "{state} vs {after}");
        assert!(!v.to_string().contains("2026-11-20"), "{v}");
    }
}
