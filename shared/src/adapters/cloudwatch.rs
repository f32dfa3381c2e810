//! `Alarms` on CloudWatch (`aws-sdk-cloudwatch` pinned below the RPCv2-CBOR releases).

use aws_sdk_cloudwatch::Client;

use super::sdk::{port_error, Budget, Lazy};
use crate::ports::{Alarms, PortError};

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
                .config_override(
                    aws_sdk_cloudwatch::config::Builder::default()
                        .timeout_config(self.budget.timeouts().map_err(PortError)?),
                )
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
}
