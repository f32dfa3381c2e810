//! `Notifier` on Amazon SNS, or on the log alone where no topic is configured.

use aws_sdk_sns::types::MessageAttributeValue;
use aws_sdk_sns::Client;
use serde_json::json;

use super::sdk::{port_error, Budget, Lazy};
use crate::model::Notification;
use crate::ports::{Notifier, PortError};

#[derive(Debug, Clone)]
pub struct SnsNotifier {
    sink: Sink,
    /// Every notice of a dry run says so, whichever job sent it.
    dry_run: bool,
}

#[derive(Debug, Clone)]
enum Sink {
    Topic {
        client: Lazy<Client>,
        topic_arn: String,
        budget: Budget,
    },
    /// `OPS_TOPIC_ARN` unset: every notice is logged, with a warning at cold start.
    LogOnly,
    /// Printed on standard output instead of published (`invoke --no-notify`).
    Print,
}

impl SnsNotifier {
    pub fn new(client: &Client, topic_arn: Option<&str>, budget: Budget) -> SnsNotifier {
        SnsNotifier::lazy(&Lazy::ready(client.clone()), topic_arn, budget)
    }

    /// Over a client built at its first use.
    pub fn lazy(client: &Lazy<Client>, topic_arn: Option<&str>, budget: Budget) -> SnsNotifier {
        let sink = match topic_arn {
            Some(arn) => Sink::Topic {
                client: client.clone(),
                topic_arn: arn.to_owned(),
                budget,
            },
            None => Sink::LogOnly,
        };
        SnsNotifier {
            sink,
            dry_run: false,
        }
    }

    /// Notices printed, never published.
    pub fn printing() -> SnsNotifier {
        SnsNotifier {
            sink: Sink::Print,
            dry_run: false,
        }
    }

    /// Marks every notice as a dry run's when `dry_run`.
    pub fn marking_dry_run(mut self, dry_run: bool) -> SnsNotifier {
        self.dry_run = dry_run;
        self
    }
}

fn attr(v: &str) -> Result<MessageAttributeValue, PortError> {
    MessageAttributeValue::builder()
        .data_type("String")
        .string_value(v)
        .build()
        .map_err(|e| PortError(format!("message attribute: {e}")))
}

impl Notifier for SnsNotifier {
    async fn publish(&self, n: &Notification) -> Result<Option<String>, PortError> {
        let marked;
        let n = if self.dry_run {
            marked = n.clone().marked_dry_run();
            &marked
        } else {
            n
        };
        let (client, topic_arn, budget) = match &self.sink {
            Sink::Topic {
                client,
                topic_arn,
                budget,
            } => (client, topic_arn, budget),
            Sink::LogOnly => {
                tracing::info!(subject = %n.subject, severity = %n.severity, action = n.action.as_str(), outcome = %n.outcome, target = %n.target, "notification (no OPS_TOPIC_ARN: log only)");
                return Ok(None);
            }
            Sink::Print => {
                // On stderr: stdout is the invocation's result (`axiom-ops invoke … | jq`).
                eprintln!(
                    "--- notice (not published) ---\nSubject: {}\nAttributes: severity={} action={} outcome={} target={}\n\n{}",
                    n.subject,
                    n.severity,
                    n.action.as_str(),
                    n.outcome,
                    n.target,
                    n.text
                );
                return Ok(None);
            }
        };
        let machine = n.json.to_string();
        // Each protocol gets its own body: people read text, machines parse JSON.
        let body = json!({
            "default": n.text,
            "email": n.text,
            "sms": n.subject,
            "email-json": machine,
            "sqs": machine,
            "lambda": machine,
            "http": machine,
            "https": machine,
            "firehose": machine,
        });
        let timeouts = budget.timeouts().map_err(PortError)?;
        let out = client
            .get()
            .publish()
            .topic_arn(topic_arn)
            .subject(&n.subject)
            .message_structure("json")
            .message(body.to_string())
            .message_attributes("severity", attr(n.severity.as_str())?)
            .message_attributes("action", attr(n.action.as_str())?)
            .message_attributes("outcome", attr(&n.outcome)?)
            .message_attributes("target", attr(&n.target)?)
            .customize()
            .config_override(aws_sdk_sns::config::Builder::default().timeout_config(timeouts))
            .send()
            .await
            .map_err(|e| port_error(&format!("publish to {topic_arn}"), e))?;
        Ok(out.message_id().map(str::to_owned))
    }
}
