//! CloudWatch alarms, whichever way they arrive, turned into one `AlarmTransition`.
//!
//! Three deliveries (Lambda alarm action, EventBridge, SNS) × four kinds (metric, metric math,
//! anomaly detection, composite). Parsing is pure and never touches AWS.

mod wire;

use std::collections::BTreeMap;
use std::fmt;

use aws_lambda_events::eventbridge::EventBridgeEvent;
use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::Value;

pub use crate::model::{keys_of, parse_time};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum AlarmState {
    Ok,
    Alarm,
    InsufficientData,
}

impl AlarmState {
    fn parse(s: &str) -> Option<AlarmState> {
        match s {
            "OK" => Some(AlarmState::Ok),
            "ALARM" => Some(AlarmState::Alarm),
            "INSUFFICIENT_DATA" => Some(AlarmState::InsufficientData),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            AlarmState::Ok => "OK",
            AlarmState::Alarm => "ALARM",
            AlarmState::InsufficientData => "INSUFFICIENT_DATA",
        }
    }
}

impl fmt::Display for AlarmState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AlarmKind {
    Metric,
    MetricMath,
    AnomalyDetection,
    Composite,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Delivery {
    LambdaAction,
    EventBridge,
    Sns,
}

/// One alarm state transition, whatever path and kind it came by.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AlarmTransition {
    pub alarm_name: String,
    pub alarm_arn: Option<String>,
    pub state: AlarmState,
    pub previous_state: Option<AlarmState>,
    pub reason: String,
    pub description: Option<String>,
    /// When CloudWatch changed the state: the same instant on every delivery path.
    pub state_time: DateTime<Utc>,
    pub kind: AlarmKind,
    pub delivery: Delivery,
    /// Dimensions shared by every metric the alarm watches (empty for composites).
    pub dimensions: BTreeMap<String, String>,
    pub account: Option<String>,
    pub region: Option<String>,
}

impl AlarmTransition {
    /// The idempotency key: the same transition, by any path or any retry, has the same key.
    pub fn event_key(&self) -> String {
        format!(
            "{}#{}#{}",
            self.alarm_name,
            self.state.as_str(),
            self.state_time.timestamp_millis()
        )
    }
}

/// What an invocation's payload turned out to be.
#[derive(Debug, Clone, PartialEq)]
pub enum Inbound {
    /// One or more alarm transitions (SNS may batch records).
    Alarms(Vec<AlarmTransition>),
    /// A CloudWatch event this function does not act on, acknowledged so it is not retried.
    Ignored { what: String },
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not a CloudWatch alarm event: {0}")]
pub struct ParseError(pub String);

const EXPECTED: &str = "expected a CloudWatch alarm from a Lambda alarm action (`alarmData`), \
EventBridge (`detail-type` \"CloudWatch Alarm State Change\") or SNS (`Records[].Sns.Message`)";

/// Reads any accepted payload. An error says what was expected and what arrived.
pub fn parse(payload: &Value) -> Result<Inbound, ParseError> {
    let Value::Object(obj) = payload else {
        return Err(ParseError(format!("{EXPECTED}; got {}", keys_of(payload))));
    };
    if obj.contains_key("alarmData") {
        return from_lambda_action(payload).map(|t| Inbound::Alarms(vec![t]));
    }
    if obj.contains_key("detail-type") {
        return from_eventbridge(payload);
    }
    if obj.contains_key("Records") {
        return from_sns(payload);
    }
    Err(ParseError(format!("{EXPECTED}; got {}", keys_of(payload))))
}

fn from_lambda_action(payload: &Value) -> Result<AlarmTransition, ParseError> {
    let a: wire::LambdaAlarmAction = serde_json::from_value(payload.clone())
        .map_err(|e| ParseError(format!("Lambda alarm action: {e}")))?;
    if let Some(src) = a.source.as_deref() {
        if src != "aws.cloudwatch" {
            return Err(ParseError(format!(
                "Lambda alarm action from source {src:?}, expected \"aws.cloudwatch\""
            )));
        }
    }
    from_alarm_data(
        a.alarm_data,
        Delivery::LambdaAction,
        a.alarm_arn,
        a.account_id,
        a.region,
    )
}

fn from_eventbridge(payload: &Value) -> Result<Inbound, ParseError> {
    let ev: EventBridgeEvent<Value> = serde_json::from_value(payload.clone())
        .map_err(|e| ParseError(format!("EventBridge envelope: {e}")))?;
    if ev.source != "aws.cloudwatch" {
        return Err(ParseError(format!(
            "EventBridge event from source {:?} ({:?}); {EXPECTED}",
            ev.source, ev.detail_type
        )));
    }
    if ev.detail_type != "CloudWatch Alarm State Change" {
        return Ok(Inbound::Ignored {
            what: format!("EventBridge aws.cloudwatch {:?}", ev.detail_type),
        });
    }
    let detail: wire::AlarmData = serde_json::from_value(ev.detail)
        .map_err(|e| ParseError(format!("EventBridge alarm `detail`: {e}")))?;
    let arn = ev.resources.and_then(|r| r.into_iter().next());
    from_alarm_data(detail, Delivery::EventBridge, arn, ev.account, ev.region)
        .map(|t| Inbound::Alarms(vec![t]))
}

fn from_alarm_data(
    d: wire::AlarmData,
    delivery: Delivery,
    alarm_arn: Option<String>,
    account: Option<String>,
    region: Option<String>,
) -> Result<AlarmTransition, ParseError> {
    let state = state_of(&d.state.value, "state.value")?;
    let previous_state = match &d.previous_state {
        Some(p) => Some(state_of(&p.value, "previousState.value")?),
        None => None,
    };
    let state_time = parse_time(&d.state.timestamp).ok_or_else(|| {
        ParseError(format!(
            "state.timestamp {:?} is not a timestamp",
            d.state.timestamp
        ))
    })?;
    let config = d.configuration.unwrap_or_default();
    let kind = if config.alarm_rule.is_some() {
        AlarmKind::Composite
    } else {
        kind_of(config.metrics.iter().map(|m| m.expression.as_deref()))
    };
    let dimensions = shared_dimensions(
        config
            .metrics
            .iter()
            .filter_map(|m| m.metric_stat.as_ref())
            .map(|s| s.metric.dimensions.clone()),
    );
    Ok(AlarmTransition {
        alarm_name: d.alarm_name,
        alarm_arn,
        state,
        previous_state,
        reason: d.state.reason.unwrap_or_default(),
        description: config.description.filter(|s| !s.is_empty()),
        state_time,
        kind,
        delivery,
        dimensions,
        account,
        region,
    })
}

fn from_sns(payload: &Value) -> Result<Inbound, ParseError> {
    let ev: wire::SnsEvent = serde_json::from_value(payload.clone())
        .map_err(|e| ParseError(format!("SNS event: {e}")))?;
    if ev.records.is_empty() {
        return Err(ParseError("SNS event with no Records".into()));
    }
    let mut alarms = Vec::with_capacity(ev.records.len());
    let mut ignored = Vec::new();
    for (i, r) in ev.records.into_iter().enumerate() {
        let msg: Value = serde_json::from_str(&r.sns.message).map_err(|e| {
            ParseError(format!(
                "SNS record {i}: Message is not JSON ({e}); {EXPECTED}"
            ))
        })?;
        // An EventBridge rule may target the topic: its Message is the EventBridge event.
        if msg.get("detail-type").is_some() {
            match from_eventbridge(&msg)? {
                Inbound::Alarms(mut a) => alarms.append(&mut a),
                Inbound::Ignored { what } => ignored.push(what),
            }
            continue;
        }
        let a: wire::SnsAlarm = serde_json::from_value(msg.clone()).map_err(|e| {
            ParseError(format!(
                "SNS record {i}: Message is not a CloudWatch alarm notification ({e}); got {}",
                keys_of(&msg)
            ))
        })?;
        alarms.push(from_sns_alarm(a, i)?);
    }
    if alarms.is_empty() {
        return Ok(Inbound::Ignored {
            what: ignored.join("; "),
        });
    }
    Ok(Inbound::Alarms(alarms))
}

fn from_sns_alarm(a: wire::SnsAlarm, i: usize) -> Result<AlarmTransition, ParseError> {
    let at = |field: &str| format!("SNS record {i}: {field}");
    let state = state_of(&a.new_state_value, &at("NewStateValue"))?;
    let previous_state = match a.old_state_value.as_deref() {
        Some(s) => Some(state_of(s, &at("OldStateValue"))?),
        None => None,
    };
    let state_time = parse_time(&a.state_change_time).ok_or_else(|| {
        ParseError(format!(
            "{} {:?} is not a timestamp",
            at("StateChangeTime"),
            a.state_change_time
        ))
    })?;
    let (kind, dimensions) = match (&a.trigger, &a.alarm_rule) {
        (_, Some(_)) | (None, None) => (AlarmKind::Composite, BTreeMap::new()),
        (Some(t), None) => {
            let kind = if t.threshold_metric_id.is_some() {
                AlarmKind::AnomalyDetection
            } else {
                kind_of(t.metrics.iter().map(|m| m.expression.as_deref()))
            };
            let dims = if t.metrics.is_empty() {
                shared_dimensions(std::iter::once(to_map(&t.dimensions)))
            } else {
                shared_dimensions(
                    t.metrics
                        .iter()
                        .filter_map(|m| m.metric_stat.as_ref())
                        .map(|s| to_map(&s.metric.dimensions)),
                )
            };
            (kind, dims)
        }
    };
    // SNS gives the region as a display name ("US East (N. Virginia)"); the ARN has the code.
    let region = a
        .alarm_arn
        .as_deref()
        .and_then(|arn| arn.split(':').nth(3))
        .filter(|r| !r.is_empty())
        .map(str::to_owned)
        .or(a.region);
    Ok(AlarmTransition {
        alarm_name: a.alarm_name,
        alarm_arn: a.alarm_arn,
        state,
        previous_state,
        reason: a.new_state_reason.unwrap_or_default(),
        description: a.alarm_description.filter(|s| !s.is_empty()),
        state_time,
        kind,
        delivery: Delivery::Sns,
        dimensions,
        account: a.aws_account_id,
        region,
    })
}

fn to_map(dims: &[wire::SnsDimension]) -> BTreeMap<String, String> {
    dims.iter()
        .map(|d| (d.name.clone(), d.value.clone()))
        .collect()
}

fn state_of(s: &str, field: &str) -> Result<AlarmState, ParseError> {
    AlarmState::parse(s).ok_or_else(|| {
        ParseError(format!(
            "{field} {s:?} is not one of OK, ALARM, INSUFFICIENT_DATA"
        ))
    })
}

fn kind_of<'a>(expressions: impl Iterator<Item = Option<&'a str>>) -> AlarmKind {
    let mut kind = AlarmKind::Metric;
    for e in expressions.flatten() {
        if e.to_ascii_uppercase().contains("ANOMALY_DETECTION_BAND") {
            return AlarmKind::AnomalyDetection;
        }
        kind = AlarmKind::MetricMath;
    }
    kind
}

/// The dimensions every metric agrees on: a math alarm over api's CPU and memory still names api.
fn shared_dimensions(
    mut all: impl Iterator<Item = BTreeMap<String, String>>,
) -> BTreeMap<String, String> {
    let Some(mut shared) = all.next() else {
        return BTreeMap::new();
    };
    for dims in all {
        shared.retain(|k, v| dims.get(k) == Some(v));
    }
    shared
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn timestamps_in_every_written_form() {
        let want = DateTime::parse_from_rfc3339("2019-10-02T17:04:40.985Z")
            .map(|t| t.with_timezone(&Utc))
            .ok();
        assert_eq!(parse_time("2019-10-02T17:04:40.985+0000"), want);
        assert_eq!(parse_time("2019-10-02T17:04:40.985Z"), want);
        assert_eq!(parse_time("2019-10-02T19:04:40.985+02:00"), want);
        assert_eq!(parse_time("yesterday"), None);
    }

    #[test]
    fn unknown_payloads_say_what_was_expected() {
        let e = parse(&json!({"hello": "world"})).expect_err("rejected");
        assert!(e.0.contains("alarmData") && e.0.contains("hello"), "{e}");
        let e = parse(&json!([1, 2])).expect_err("rejected");
        assert!(e.0.contains("an array"), "{e}");
        let e = parse(&json!({"source": "aws.ec2", "detail-type": "EC2 Instance State-change Notification", "detail": {}}))
            .expect_err("rejected");
        assert!(e.0.contains("aws.ec2"), "{e}");
    }

    #[test]
    fn bad_state_is_named() {
        let e = parse(&json!({"alarmData": {"alarmName": "a", "state": {"value": "RED", "timestamp": "2024-01-01T00:00:00.000+0000"}}}))
            .expect_err("rejected");
        assert!(e.0.contains("\"RED\""), "{e}");
    }

    #[test]
    fn other_cloudwatch_events_are_ignored() {
        let got = parse(&json!({"source": "aws.cloudwatch", "detail-type": "CloudWatch Alarm Configuration Change", "detail": {"alarmName": "x"}}))
            .expect("parses");
        assert!(matches!(got, Inbound::Ignored { .. }));
    }

    #[test]
    fn math_dimensions_are_the_shared_ones() {
        let a = BTreeMap::from([
            ("ClusterName".to_string(), "c".to_string()),
            ("ServiceName".to_string(), "api".to_string()),
        ]);
        let mut b = a.clone();
        b.insert("Extra".into(), "1".into());
        assert_eq!(shared_dimensions([a.clone(), b].into_iter()), a);
    }
}
