//! `axiom-ops events [SHAPE] [--now]`: a sample of every input the functions take (like `sam
//! local generate-event`), compiled in; `--now` moves its clock to now, keeping the gaps
//! between its timestamps, so it is not replayed as a duplicate of an earlier one.

use anyhow::{anyhow, bail};
use axiom_ops::model::parse_time;
use chrono::{DateTime, Duration, NaiveDateTime, Utc};
use serde_json::{json, Value};

use crate::output::Output;

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

/// `output`: the list of samples as text (a name a line) or JSON; a sample is always JSON (it is
/// the event itself), unless `--output table` asks to read it as a table.
pub fn run(shape: Option<&str>, now: bool, output: Option<Output>) -> anyhow::Result<()> {
    let Some(shape) = shape else {
        let names: Vec<&str> = SAMPLES.iter().map(|(n, _)| *n).collect();
        return output.unwrap_or(Output::Table).print(&json!(names), || {
            names.iter().map(|n| format!("{n}\n")).collect()
        });
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
    output.unwrap_or(Output::Json).print_doc(&v)
}

/// The latest timestamp anywhere in `v` (SNS's `Message` is JSON in a string: looked into).
pub(crate) fn newest(v: &Value) -> Option<DateTime<Utc>> {
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

/// Every timestamp moved by `by`, each written as it was (`+0000`, `Z`, with or without millis),
/// those in an alarm's reason too (its datapoints' times, a composite's "at Friday 20 November").
pub(crate) fn shift(v: &mut Value, by: Duration) {
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
            } else {
                *s = shift_prose(s, by);
            }
        }
        Value::Array(a) => a.iter_mut().for_each(|x| shift(x, by)),
        Value::Object(o) => o.values_mut().for_each(|x| shift(x, by)),
        _ => {}
    }
}

/// The times CloudWatch writes into a state reason: a datapoint's `(20/11/26 02:59:00)` and a
/// composite's `at Friday 20 November, 2026 08:40:20 UTC`, moved by `by`.
fn shift_prose(s: &str, by: Duration) -> String {
    const DATAPOINT: &str = "%d/%m/%y %H:%M:%S";
    const SPELLED: &str = "%A %d %B, %Y %H:%M:%S";
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(open) = rest.find('(') {
        out.push_str(&rest[..=open]);
        rest = &rest[open + 1..];
        let moved = rest
            .get(..17)
            .and_then(|t| NaiveDateTime::parse_from_str(t, DATAPOINT).ok())
            .map(|t| (t.and_utc() + by).format(DATAPOINT).to_string());
        if let Some(m) = moved {
            out.push_str(&m);
            rest = &rest[17..];
        }
    }
    out.push_str(rest);
    let (Some(at), Some(utc)) = (out.find(" at "), out.rfind(" UTC")) else {
        return out;
    };
    match NaiveDateTime::parse_from_str(out.get(at + 4..utc).unwrap_or(""), SPELLED) {
        Ok(t) if at + 4 < utc => format!(
            "{}{}{}",
            &out[..at + 4],
            (t.and_utc() + by).format("%A %-d %B, %Y %H:%M:%S"),
            &out[utc..]
        ),
        _ => out,
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
        // The datapoints' times in the reason moved too.
        assert!(!v.to_string().contains("(20/11/26 "), "{v}");
    }

    #[test]
    fn the_times_in_a_reason_move_with_it() {
        let by = Duration::days(7) + Duration::minutes(1);
        assert_eq!(
            shift_prose(
                "2 datapoints [96.07 (20/11/26 02:59:00), 93.4 (20/11/26 02:54:00)] (min",
                by
            ),
            "2 datapoints [96.07 (27/11/26 03:00:00), 93.4 (27/11/26 02:55:00)] (min"
        );
        assert_eq!(
            shift_prose(
                "x transitioned to ALARM at Friday 20 November, 2026 08:40:20 UTC",
                by
            ),
            "x transitioned to ALARM at Friday 27 November, 2026 08:41:20 UTC"
        );
        // Nothing that is not such a time is touched.
        for s in ["(min 2)", "a (b) at noon UTC", "(", "at  UTC", ""] {
            assert_eq!(shift_prose(s, by), s);
        }
    }
}
