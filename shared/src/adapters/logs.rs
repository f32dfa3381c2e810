//! `Logs` on CloudWatch Logs: the guide's `aws logs filter-log-events --filter-pattern "ERROR"`.

use std::collections::VecDeque;

use aws_sdk_cloudwatchlogs::Client;
use chrono::{DateTime, Utc};

use super::sdk::{port_error, Budget, Lazy};
use crate::model::LogLine;
use crate::ports::{Logs, PortError};

/// Pages read at most: a noisy group cannot hold a decision; the budget cuts it shorter still.
const PAGES_MAX: usize = 5;

#[derive(Debug, Clone)]
pub struct CloudWatchLogs {
    client: Lazy<Client>,
    budget: Budget,
}

impl CloudWatchLogs {
    pub fn new(client: &Client, budget: Budget) -> CloudWatchLogs {
        CloudWatchLogs {
            client: Lazy::ready(client.clone()),
            budget,
        }
    }

    /// Over a client built at its first use.
    pub fn lazy(client: &Lazy<Client>, budget: Budget) -> CloudWatchLogs {
        CloudWatchLogs {
            client: client.clone(),
            budget,
        }
    }

    fn config(&self) -> Result<aws_sdk_cloudwatchlogs::config::Builder, String> {
        Ok(aws_sdk_cloudwatchlogs::config::Builder::default()
            .timeout_config(self.budget.timeouts()?))
    }
}

impl Logs for CloudWatchLogs {
    async fn errors(
        &self,
        group: &str,
        since: DateTime<Utc>,
        limit: usize,
    ) -> Result<Vec<LogLine>, PortError> {
        // Events come oldest first: the newest `limit` are the last ones read.
        let mut newest: VecDeque<LogLine> = VecDeque::with_capacity(limit + 1);
        let mut token: Option<String> = None;
        for _ in 0..PAGES_MAX {
            let out = self
                .client
                .get()
                .filter_log_events()
                .log_group_name(group)
                .filter_pattern("ERROR")
                .start_time(since.timestamp_millis())
                .set_next_token(token.take())
                .customize()
                .config_override(self.config().map_err(PortError)?)
                .send()
                .await;
            let out = match out {
                Ok(o) => o,
                Err(e)
                    if e.as_service_error()
                        .is_some_and(|se| se.is_resource_not_found_exception()) =>
                {
                    return Ok(Vec::new());
                }
                Err(e) => return Err(port_error(&format!("read ERROR lines of {group}"), e)),
            };
            for ev in out.events() {
                newest.push_back(LogLine {
                    at: ev
                        .timestamp()
                        .and_then(DateTime::<Utc>::from_timestamp_millis),
                    message: ev.message().unwrap_or_default().to_owned(),
                });
                if newest.len() > limit {
                    newest.pop_front();
                }
            }
            match out.next_token() {
                Some(t) if !t.is_empty() => token = Some(t.to_owned()),
                _ => break,
            }
        }
        Ok(newest.into())
    }
}
