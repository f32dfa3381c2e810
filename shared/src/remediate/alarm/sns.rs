//! Alarms delivered through an SNS topic: CloudWatch's own PascalCase notification, or an
//! EventBridge event a rule sent to the topic.

use std::collections::BTreeMap;

use serde_json::Value;

use super::wire;
use super::{
    from_eventbridge, kind_of, shared_dimensions, state_of, AlarmKind, AlarmTransition, Delivery,
    Inbound, ParseError, EXPECTED,
};
use crate::model::{clip, keys_of, parse_time, quote, QUOTE_MAX};

pub(super) fn from_sns(payload: &Value) -> Result<Inbound, ParseError> {
    let ev: wire::SnsEvent =
        serde_json::from_value(payload.clone()).map_err(|e| ParseError::reading("SNS event", e))?;
    if ev.records.is_empty() {
        return Err(ParseError("SNS event with no Records".into()));
    }
    let mut alarms = Vec::with_capacity(ev.records.len());
    let mut ignored = Vec::new();
    for (i, r) in ev.records.into_iter().enumerate() {
        let msg: Value = serde_json::from_str(&r.sns.message).map_err(|e| {
            ParseError(format!(
                "SNS record {i}: Message is not JSON ({}); {EXPECTED}",
                clip(&e.to_string(), QUOTE_MAX)
            ))
        })?;
        // An EventBridge rule may target the topic: its Message is the EventBridge event.
        if msg.get("detail-type").is_some() {
            match from_eventbridge(&msg)? {
                Inbound::Alarms(mut a) => alarms.append(&mut a),
                Inbound::Ignored { what } => ignored.push(what),
                Inbound::Tick => ignored.push("a scheduled event sent through SNS".into()),
            }
            continue;
        }
        let a: wire::SnsAlarm = serde_json::from_value(msg.clone()).map_err(|e| {
            ParseError(format!(
                "SNS record {i}: Message is not a CloudWatch alarm notification ({}); got {}",
                clip(&e.to_string(), QUOTE_MAX),
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
            "{} {} is not a timestamp",
            at("StateChangeTime"),
            quote(&a.state_change_time)
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
    // Without an ARN the region is left unknown: a display name is no region code to compare.
    let region = a
        .alarm_arn
        .as_deref()
        .and_then(|arn| arn.split(':').nth(3))
        .filter(|r| !r.is_empty())
        .map(str::to_owned)
        .or(a.region.filter(|r| !r.contains(' ')));
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
        suppressed_by: None,
        suppressor: None,
    })
}

fn to_map(dims: &[wire::SnsDimension]) -> BTreeMap<String, String> {
    dims.iter()
        .map(|d| (d.name.clone(), d.value.clone()))
        .collect()
}
