//! CloudWatch alarms, whichever way they arrive, turned into one `AlarmTransition`.
//!
//! Three deliveries (Lambda alarm action, EventBridge, SNS) × four kinds (metric, metric math,
//! anomaly detection, composite). Parsing is pure and never touches AWS.

mod sns;
mod wire;

use std::collections::BTreeMap;
use std::fmt;

use aws_lambda_events::eventbridge::EventBridgeEvent;
use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::Value;

use crate::model::{clip, key_part, printable, quote, QUOTE_MAX};
pub use crate::model::{keys_of, parse_time, AlarmState};

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
    /// Not delivered: read from CloudWatch by the reconcile tick (a transition an event missed).
    Reconcile,
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
    /// A composite alarm whose actions CloudWatch is holding back: why (`WaitPeriod`, …).
    pub suppressed_by: Option<String>,
    /// The composite's actions suppressor alarm.
    pub suppressor: Option<String>,
}

impl AlarmTransition {
    /// The idempotency key: the same transition, by any path or any retry, has the same key.
    /// Bounded whatever the name's length: it is part of ledger keys. A transition whose actions
    /// CloudWatch held back has a key of its own, so the delivery CloudWatch makes once it lets
    /// them run (the same transition) is handled, not taken for a duplicate.
    pub fn event_key(&self) -> String {
        format!(
            "{}#{}#{}{}",
            key_part(&self.alarm_name),
            self.state.as_str(),
            self.state_time.timestamp_millis(),
            if self.suppressed_by.is_some() {
                "#suppressed"
            } else {
                ""
            }
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
    /// A scheduled event (rule or Scheduler): reconcile what events missed.
    Tick,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not a CloudWatch alarm event: {0}")]
pub struct ParseError(pub String);

impl ParseError {
    /// `what` failed to read: the reader's words, cut so no large input is echoed back.
    fn reading(what: &str, e: impl fmt::Display) -> ParseError {
        ParseError(format!(
            "{what}: {}",
            clip(&printable(&e.to_string()), QUOTE_MAX)
        ))
    }
}

pub(super) const EXPECTED: &str = "expected one of: a CloudWatch alarm from a Lambda alarm action \
(`alarmData`), EventBridge (`detail-type` \"CloudWatch Alarm State Change\") or SNS \
(`Records[].Sns.Message`); or a schedule's \"Scheduled Event\" (a reconcile tick)";

/// Reads any accepted payload. An error says what was expected and what arrived.
pub fn parse(payload: &Value) -> Result<Inbound, ParseError> {
    let Value::Object(obj) = payload else {
        return Err(ParseError(format!("{EXPECTED}; got {}", keys_of(payload))));
    };
    if obj.contains_key("alarmData") {
        return from_lambda_action(payload).map(|t| Inbound::Alarms(vec![clean(t)]));
    }
    if obj.contains_key("detail-type") {
        return from_eventbridge(payload).map(|i| i.map(clean));
    }
    if let Some(records) = obj.get("Records") {
        return match foreign_records(records) {
            Some(source) => Err(ParseError(format!(
                "{EXPECTED}; got `Records` from {}",
                quote(&source)
            ))),
            None => sns::from_sns(payload).map(|i| i.map(clean)),
        };
    }
    Err(ParseError(format!("{EXPECTED}; got {}", keys_of(payload))))
}

impl Inbound {
    fn map(self, f: impl Fn(AlarmTransition) -> AlarmTransition) -> Inbound {
        match self {
            Inbound::Alarms(a) => Inbound::Alarms(a.into_iter().map(f).collect()),
            other => other,
        }
    }
}

/// `Records` of another service (SQS, S3, …): its `eventSource`. SNS records carry `Sns`.
fn foreign_records(records: &Value) -> Option<String> {
    let first = records.as_array()?.first()?;
    if first.get("Sns").is_some() {
        return None;
    }
    let source = ["eventSource", "EventSource"]
        .iter()
        .find_map(|k| first.get(*k).and_then(Value::as_str))
        .unwrap_or("an unknown service");
    Some(source.to_owned())
}

/// Every text of the event made printable: names, reasons and dimensions reach notices.
fn clean(mut t: AlarmTransition) -> AlarmTransition {
    t.alarm_name = printable(&t.alarm_name);
    t.reason = printable(&t.reason);
    t.description = t.description.as_deref().map(printable);
    t.dimensions = t
        .dimensions
        .iter()
        .map(|(k, v)| (printable(k), printable(v)))
        .collect();
    for s in [
        &mut t.alarm_arn,
        &mut t.account,
        &mut t.region,
        &mut t.suppressed_by,
        &mut t.suppressor,
    ] {
        *s = s.as_deref().map(printable);
    }
    t
}

fn from_lambda_action(payload: &Value) -> Result<AlarmTransition, ParseError> {
    let a: wire::LambdaAlarmAction = serde_json::from_value(payload.clone())
        .map_err(|e| ParseError::reading("Lambda alarm action", e))?;
    if let Some(src) = a.source.as_deref() {
        if src != "aws.cloudwatch" {
            return Err(ParseError(format!(
                "Lambda alarm action from source {}, expected \"aws.cloudwatch\"",
                quote(src)
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

pub(super) fn from_eventbridge(payload: &Value) -> Result<Inbound, ParseError> {
    let ev: EventBridgeEvent<Value> = serde_json::from_value(payload.clone())
        .map_err(|e| ParseError::reading("EventBridge envelope", e))?;
    if ev.detail_type == "Scheduled Event"
        && matches!(ev.source.as_str(), "aws.events" | "aws.scheduler")
    {
        return Ok(Inbound::Tick);
    }
    if ev.source != "aws.cloudwatch" {
        return Err(ParseError(format!(
            "EventBridge event from source {} ({}); {EXPECTED}",
            quote(&ev.source),
            quote(&ev.detail_type)
        )));
    }
    if ev.detail_type != "CloudWatch Alarm State Change" {
        return Ok(Inbound::Ignored {
            what: format!("EventBridge aws.cloudwatch {}", quote(&ev.detail_type)),
        });
    }
    let detail: wire::AlarmData = serde_json::from_value(ev.detail)
        .map_err(|e| ParseError::reading("EventBridge alarm `detail`", e))?;
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
            "state.timestamp {} is not a timestamp",
            quote(&d.state.timestamp)
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
        suppressed_by: d.state.actions_suppressed_by.filter(|s| !s.is_empty()),
        suppressor: config.actions_suppressor.filter(|s| !s.is_empty()),
    })
}

pub(super) fn state_of(s: &str, field: &str) -> Result<AlarmState, ParseError> {
    AlarmState::parse(s).ok_or_else(|| {
        ParseError(format!(
            "{field} {} is not one of OK, ALARM, INSUFFICIENT_DATA",
            quote(s)
        ))
    })
}

pub(super) fn kind_of<'a>(expressions: impl Iterator<Item = Option<&'a str>>) -> AlarmKind {
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
pub(super) fn shared_dimensions(
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
