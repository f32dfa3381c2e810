//! Scheduled invocations (snapshot, backup), whichever scheduler sends them, turned into one `Tick`.
//!
//! - an EventBridge scheduled rule: `{"source": "aws.events", "detail-type": "Scheduled Event",
//!   "time": …, "detail": {}}`;
//! - EventBridge Scheduler without an Input: the same envelope from `aws.scheduler`, whose
//!   `detail` is the *string* `"{}"`;
//! - an Input of ours, from a rule's or a schedule's Input: `{"databases": [...], "time": …}`,
//!   both optional (Scheduler can fill `time` with `<aws.scheduler.scheduled-time>`).

use chrono::{DateTime, DurationRound, TimeDelta, Utc};
use serde::Deserialize;
use serde_json::Value;

use crate::model::{keys_of, parse_time};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tick {
    /// The scheduled time: names the snapshot and makes a repeated delivery a no-op.
    pub time: DateTime<Utc>,
    /// Databases the Input names; `None` is every database of the policy.
    pub databases: Option<Vec<String>>,
    /// Where the time came from: `event`, `input`, or `clock` (an Input without `time`).
    pub time_from: &'static str,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not a schedule event: {0}")]
pub struct TickError(pub String);

const EXPECTED: &str =
    "expected an EventBridge \"Scheduled Event\" (from a rule or EventBridge Scheduler) \
or an Input like {\"databases\": [\"axiomcore-production\"], \"time\": \"2026-11-26T02:00:00Z\"}";

/// Our Input. Unknown keys are refused: a typo must not silently mean "every database".
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct Input {
    #[serde(default)]
    databases: Option<Vec<String>>,
    #[serde(default)]
    time: Option<String>,
}

pub fn parse(payload: &Value, now: DateTime<Utc>) -> Result<Tick, TickError> {
    let Value::Object(obj) = payload else {
        return Err(TickError(format!("{EXPECTED}; got {}", keys_of(payload))));
    };
    if obj.contains_key("detail-type") {
        let detail_type = obj.get("detail-type").and_then(Value::as_str).unwrap_or("");
        let source = obj.get("source").and_then(Value::as_str).unwrap_or("");
        if detail_type != "Scheduled Event" || !matches!(source, "aws.events" | "aws.scheduler") {
            return Err(TickError(format!(
                "EventBridge {detail_type:?} from {source:?}; {EXPECTED}"
            )));
        }
        let time = obj
            .get("time")
            .and_then(Value::as_str)
            .and_then(parse_time)
            .ok_or_else(|| TickError("Scheduled Event without a readable `time`".into()))?;
        // Scheduler without an Input sends `detail` as the string "{}"; a rule sends {}.
        let detail = match obj.get("detail") {
            Some(Value::String(s)) => serde_json::from_str::<Value>(s)
                .map_err(|e| TickError(format!("`detail` string is not JSON: {e}")))?,
            Some(v) => v.clone(),
            None => Value::Object(Default::default()),
        };
        let input = input_of(&detail, "detail")?;
        return Ok(Tick {
            time,
            databases: input.databases,
            time_from: "event",
        });
    }
    let input = input_of(payload, "Input")?;
    let (time, time_from) = match input.time.as_deref() {
        Some(t) => (
            parse_time(t)
                .ok_or_else(|| TickError(format!("Input `time` {t:?} is not a timestamp")))?,
            "input",
        ),
        // Without a time, the minute is the tick: a retry within it stays one snapshot.
        None => (
            now.duration_trunc(TimeDelta::minutes(1)).unwrap_or(now),
            "clock",
        ),
    };
    Ok(Tick {
        time,
        databases: input.databases,
        time_from,
    })
}

fn input_of(v: &Value, what: &str) -> Result<Input, TickError> {
    if v.as_object().is_some_and(|o| o.is_empty()) {
        return Ok(Input::default());
    }
    let input: Input = serde_json::from_value(v.clone())
        .map_err(|e| TickError(format!("{what}: {e}; {EXPECTED}")))?;
    if let Some(dbs) = &input.databases {
        if dbs.is_empty() || dbs.iter().any(|d| d.trim().is_empty()) {
            return Err(TickError(format!(
                "{what}: `databases` must list database identifiers"
            )));
        }
    }
    Ok(input)
}

/// `<db>-auto-YYYYMMDD-HHMMSS`, from the tick's UTC time.
pub fn snapshot_id(db: &str, tick: DateTime<Utc>) -> String {
    format!("{db}-auto-{}", tick.format("%Y%m%d-%H%M%S"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn now() -> DateTime<Utc> {
        parse_time("2026-11-26T02:00:37.250Z").expect("time")
    }

    #[test]
    fn rule_scheduler_and_input_shapes() {
        let rule = json!({"version": "0", "id": "x", "detail-type": "Scheduled Event", "source": "aws.events",
            "account": "123456789012", "time": "2026-11-26T02:00:00Z", "region": "us-east-1",
            "resources": ["arn:aws:events:us-east-1:123456789012:rule/daily"], "detail": {}});
        let t = parse(&rule, now()).expect("rule");
        assert_eq!(
            (t.time, t.databases.clone(), t.time_from),
            (
                parse_time("2026-11-26T02:00:00Z").expect("t"),
                None,
                "event"
            )
        );

        let mut sched = rule.clone();
        sched["source"] = json!("aws.scheduler");
        sched["detail"] = json!("{}");
        assert_eq!(parse(&sched, now()).expect("scheduler").time, t.time);

        let input = json!({"databases": ["axiomcore-production"], "time": "2026-11-26T02:00:00Z"});
        let i = parse(&input, now()).expect("input");
        assert_eq!(i.databases, Some(vec!["axiomcore-production".to_string()]));
        assert_eq!(i.time_from, "input");

        let bare = parse(&json!({}), now()).expect("empty input");
        assert_eq!(bare.time, parse_time("2026-11-26T02:00:00Z").expect("t"));
        assert_eq!(bare.time_from, "clock");
    }

    #[test]
    fn mistakes_are_named() {
        assert!(parse(&json!({"database": ["x"]}), now())
            .expect_err("typo")
            .0
            .contains("database"));
        assert!(parse(&json!({"databases": []}), now())
            .expect_err("empty")
            .0
            .contains("databases"));
        assert!(parse(&json!({"time": "tomorrow"}), now())
            .expect_err("bad time")
            .0
            .contains("tomorrow"));
        assert!(parse(&json!({"source": "aws.cloudwatch", "detail-type": "CloudWatch Alarm State Change", "detail": {}}), now())
            .expect_err("alarm").0.contains("CloudWatch Alarm State Change"));
        assert!(parse(&json!([1]), now())
            .expect_err("array")
            .0
            .contains("an array"));
    }

    #[test]
    fn snapshot_names_follow_the_tick() {
        let t = parse_time("2026-11-26T02:00:00Z").expect("t");
        assert_eq!(
            snapshot_id("axiomcore-production", t),
            "axiomcore-production-auto-20261126-020000"
        );
    }
}
