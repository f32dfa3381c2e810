//! The alarm payloads as AWS really sends them.
//!
//! Everything optional that AWS has been seen to send as `null` or leave out is an `Option`, and
//! unknown fields are ignored: a new field from AWS must never make an alarm unreadable.

use std::collections::BTreeMap;

use serde::{Deserialize, Deserializer};

/// `alarmData` of a Lambda alarm action, and `detail` of an EventBridge alarm state change:
/// the two share one shape.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AlarmData {
    pub alarm_name: String,
    pub state: StateData,
    #[serde(default)]
    pub previous_state: Option<StateData>,
    #[serde(default)]
    pub configuration: Option<Configuration>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StateData {
    pub value: String,
    #[serde(default)]
    pub reason: Option<String>,
    pub timestamp: String,
    /// Composite alarms only: why CloudWatch is holding the alarm's actions back
    /// (`WaitPeriod`, `ExtensionPeriod`, `Alarm`).
    #[serde(default)]
    pub actions_suppressed_by: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Configuration {
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default, deserialize_with = "null_as_default")]
    pub metrics: Vec<MetricQuery>,
    /// Present only on composite alarms.
    #[serde(default)]
    pub alarm_rule: Option<String>,
    /// The composite's actions suppressor alarm, if it has one.
    #[serde(default)]
    pub actions_suppressor: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MetricQuery {
    #[serde(default)]
    pub metric_stat: Option<MetricStat>,
    #[serde(default)]
    pub expression: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MetricStat {
    pub metric: Metric,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Metric {
    #[serde(default, deserialize_with = "null_as_default")]
    pub dimensions: BTreeMap<String, String>,
}

/// The lambda alarm action's envelope around `alarmData`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LambdaAlarmAction {
    #[serde(default)]
    pub source: Option<String>,
    #[serde(default)]
    pub alarm_arn: Option<String>,
    #[serde(default)]
    pub account_id: Option<String>,
    #[serde(default)]
    pub region: Option<String>,
    pub alarm_data: AlarmData,
}

/// The SNS records Lambda receives from a topic subscription. Only `Message` matters; the
/// signature fields the strict `aws_lambda_events` type requires are not needed to act.
#[derive(Debug, Deserialize)]
pub struct SnsEvent {
    #[serde(rename = "Records")]
    pub records: Vec<SnsRecord>,
}

#[derive(Debug, Deserialize)]
pub struct SnsRecord {
    #[serde(rename = "Sns")]
    pub sns: SnsMessage,
}

#[derive(Debug, Deserialize)]
pub struct SnsMessage {
    #[serde(rename = "Message")]
    pub message: String,
}

/// The JSON CloudWatch publishes to SNS for an alarm: PascalCase, region as a display name,
/// dimensions as a list, and no `Trigger` for composite alarms.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct SnsAlarm {
    pub alarm_name: String,
    #[serde(default)]
    pub alarm_description: Option<String>,
    #[serde(rename = "AWSAccountId", default)]
    pub aws_account_id: Option<String>,
    pub new_state_value: String,
    #[serde(default)]
    pub new_state_reason: Option<String>,
    pub state_change_time: String,
    #[serde(default)]
    pub region: Option<String>,
    #[serde(default)]
    pub alarm_arn: Option<String>,
    #[serde(default)]
    pub old_state_value: Option<String>,
    #[serde(default)]
    pub trigger: Option<SnsTrigger>,
    #[serde(default)]
    pub alarm_rule: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct SnsTrigger {
    #[serde(default, deserialize_with = "null_as_default")]
    pub dimensions: Vec<SnsDimension>,
    #[serde(default, deserialize_with = "null_as_default")]
    pub metrics: Vec<SnsMetricQuery>,
    #[serde(default)]
    pub threshold_metric_id: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct SnsDimension {
    #[serde(alias = "Name")]
    pub name: String,
    #[serde(alias = "Value")]
    pub value: String,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct SnsMetricQuery {
    #[serde(default)]
    pub expression: Option<String>,
    #[serde(default)]
    pub metric_stat: Option<SnsMetricStat>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct SnsMetricStat {
    pub metric: SnsMetric,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct SnsMetric {
    #[serde(default, deserialize_with = "null_as_default")]
    pub dimensions: Vec<SnsDimension>,
}

/// `null` where a list or map is expected reads as empty.
fn null_as_default<'de, D, T>(d: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Default + Deserialize<'de>,
{
    Ok(Option::<T>::deserialize(d)?.unwrap_or_default())
}
