//! `Alarms` on CloudWatch (`aws-sdk-cloudwatch` pinned below the RPCv2-CBOR releases).

use aws_sdk_cloudwatch::types::AlarmType;
use aws_sdk_cloudwatch::Client;
use chrono::{DateTime, Utc};

use super::sdk::{port_error, Budget, Lazy};
use crate::model::{AlarmState, AlarmStatus};
use crate::ports::{Alarms, PortError};

/// DescribeAlarms takes at most 100 names per call.
const NAMES_PER_CALL: usize = 100;

fn chrono_of(t: Option<&aws_smithy_types::DateTime>) -> Option<DateTime<Utc>> {
    t.and_then(|t| t.to_millis().ok())
        .and_then(DateTime::from_timestamp_millis)
}

/// What metric and composite alarms share; a composite adds its suppression.
fn status(
    name: Option<&str>,
    state: Option<&aws_sdk_cloudwatch::types::StateValue>,
    transitioned: Option<&aws_smithy_types::DateTime>,
    updated: Option<&aws_smithy_types::DateTime>,
) -> Result<AlarmStatus, PortError> {
    let name = name.unwrap_or_default().to_owned();
    Ok(AlarmStatus {
        state: state_of(&name, state)?,
        // The state's own change; the update time also moves on changes that keep it.
        updated: chrono_of(transitioned.or(updated)),
        composite: false,
        suppressed_by: None,
        suppressor: None,
        name,
    })
}

fn state_of(
    name: &str,
    s: Option<&aws_sdk_cloudwatch::types::StateValue>,
) -> Result<AlarmState, PortError> {
    s.and_then(|s| AlarmState::parse(s.as_str()))
        .ok_or_else(|| {
            PortError(format!(
                "CloudWatch gave alarm {name} no state we know ({s:?})"
            ))
        })
}

#[derive(Debug, Clone)]
pub struct CloudWatchAlarms {
    client: Lazy<Client>,
    budget: Budget,
}

impl CloudWatchAlarms {
    pub fn new(client: &Client, budget: Budget) -> CloudWatchAlarms {
        CloudWatchAlarms {
            client: Lazy::ready(client.clone()),
            budget,
        }
    }

    /// Over a client built at its first use.
    pub fn lazy(client: &Lazy<Client>, budget: Budget) -> CloudWatchAlarms {
        CloudWatchAlarms {
            client: client.clone(),
            budget,
        }
    }

    fn client(&self) -> &Client {
        self.client.get()
    }

    fn config(&self) -> Result<aws_sdk_cloudwatch::config::Builder, PortError> {
        Ok(aws_sdk_cloudwatch::config::Builder::default()
            .timeout_config(self.budget.timeouts().map_err(PortError)?))
    }
}

impl Alarms for CloudWatchAlarms {
    async fn states(&self, prefix: &str) -> Result<Vec<(String, String)>, PortError> {
        let mut out = Vec::new();
        let mut token: Option<String> = None;
        loop {
            let page = self
                .client()
                .describe_alarms()
                .alarm_name_prefix(prefix)
                .set_next_token(token.take())
                .customize()
                .config_override(self.config()?)
                .send()
                .await
                .map_err(|e| port_error(&format!("describe alarms {prefix}*"), e))?;
            for a in page.metric_alarms() {
                out.push((
                    a.alarm_name().unwrap_or_default().to_owned(),
                    a.state_value()
                        .map(|s| s.as_str().to_owned())
                        .unwrap_or_default(),
                ));
            }
            for a in page.composite_alarms() {
                out.push((
                    a.alarm_name().unwrap_or_default().to_owned(),
                    a.state_value()
                        .map(|s| s.as_str().to_owned())
                        .unwrap_or_default(),
                ));
            }
            match page.next_token() {
                Some(t) if !t.is_empty() => token = Some(t.to_owned()),
                _ => return Ok(out),
            }
        }
    }

    async fn describe(&self, names: &[String]) -> Result<Vec<AlarmStatus>, PortError> {
        let mut out = Vec::with_capacity(names.len());
        for chunk in names.chunks(NAMES_PER_CALL) {
            let page = self
                .client()
                .describe_alarms()
                .set_alarm_names(Some(chunk.to_vec()))
                .alarm_types(AlarmType::MetricAlarm)
                .alarm_types(AlarmType::CompositeAlarm)
                .max_records(NAMES_PER_CALL as i32)
                .customize()
                .config_override(self.config()?)
                .send()
                .await
                .map_err(|e| port_error("describe alarms", e))?;
            for a in page.metric_alarms() {
                out.push(status(
                    a.alarm_name(),
                    a.state_value(),
                    a.state_transitioned_timestamp(),
                    a.state_updated_timestamp(),
                )?);
            }
            for a in page.composite_alarms() {
                out.push(AlarmStatus {
                    composite: true,
                    suppressed_by: a.actions_suppressed_by().map(|s| s.as_str().to_owned()),
                    suppressor: a.actions_suppressor().map(str::to_owned),
                    ..status(
                        a.alarm_name(),
                        a.state_value(),
                        a.state_transitioned_timestamp(),
                        a.state_updated_timestamp(),
                    )?
                });
            }
        }
        Ok(out)
    }
}
