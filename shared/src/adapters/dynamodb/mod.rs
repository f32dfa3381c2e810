//! `Ledger` on DynamoDB: `pk`/`sk` strings, TTL in `expires_at`, on-demand billing.
//!
//! | item             | pk                              | sk                          |
//! |------------------|---------------------------------|-----------------------------|
//! | handled event    | `event#<alarm>#<state>#<ms>`    | `event` (`dry_run` mode: `event#dry_run`) |
//! | target state     | `target#<cluster>/<service>`    | `state` (`state#dry_run`)   |
//! | decision (audit) | `target#…` or `alarm#<name>`    | `decision#<time>#<event>#<outcome>` |
//!
//! Every write that guards an action is conditional, so two invocations never both act. Long
//! alarm names are hashed into keys (`model::key_part`). A handled event whose notice is kept but
//! not yet sent carries `outbox` (its mode), the partition key of the sparse index `outbox`
//! (sort key `lease_until`), which the reconcile tick reads to send it again.

use std::collections::HashMap;

use aws_sdk_dynamodb::types::{AttributeValue, ReturnValue};
use aws_sdk_dynamodb::Client;
use chrono::{DateTime, Duration, Utc};
use serde_json::Value;

use super::sdk::{port_error, Budget, Lazy};

mod item;
use crate::model::Notification;
use crate::ports::{Claim, EventStatus, Ledger, Mode, PortError};
pub use item::{from_item, to_item};

/// How long handled-event items are kept for idempotency.
pub const EVENT_TTL_DAYS: i64 = 14;
/// How long audit items are kept.
pub const AUDIT_TTL_DAYS: i64 = 400;
/// The sparse index of kept, unsent notices.
pub const OUTBOX_INDEX: &str = "outbox";

fn mode_name(mode: Mode) -> &'static str {
    match mode {
        Mode::Live => "live",
        Mode::DryRun => "dry_run",
    }
}

#[derive(Debug, Clone)]
pub struct DynamoLedger {
    client: Lazy<Client>,
    table: String,
    budget: Budget,
    /// Reads only: every write succeeds without being made (an operator's preview).
    read_only: bool,
}

fn event_keys(mode: Mode, event_key: &str) -> (String, &'static str) {
    let sk = match mode {
        Mode::Live => "event",
        Mode::DryRun => "event#dry_run",
    };
    (format!("event#{event_key}"), sk)
}

fn s(v: impl Into<String>) -> AttributeValue {
    AttributeValue::S(v.into())
}

fn n(v: i64) -> AttributeValue {
    AttributeValue::N(v.to_string())
}

fn is_conditional_failure<E: aws_sdk_dynamodb::error::ProvideErrorMetadata>(
    e: &aws_sdk_dynamodb::error::SdkError<E>,
) -> bool {
    e.as_service_error()
        .and_then(|se| se.code())
        .is_some_and(|c| c == "ConditionalCheckFailedException")
}

impl DynamoLedger {
    pub fn new(client: &Client, table: &str, budget: Budget) -> DynamoLedger {
        DynamoLedger {
            client: Lazy::ready(client.clone()),
            table: table.to_owned(),
            budget,
            read_only: false,
        }
    }

    /// Over a client built at its first use.
    pub fn lazy(client: &Lazy<Client>, table: &str, budget: Budget) -> DynamoLedger {
        DynamoLedger {
            client: client.clone(),
            table: table.to_owned(),
            budget,
            read_only: false,
        }
    }

    /// Reads as before; every write succeeds without being made, every claim is fresh.
    pub fn read_only(mut self, read_only: bool) -> DynamoLedger {
        self.read_only = read_only;
        self
    }

    fn client(&self) -> &Client {
        self.client.get()
    }

    fn config(&self) -> Result<aws_sdk_dynamodb::config::Builder, PortError> {
        Ok(aws_sdk_dynamodb::config::Builder::default()
            .timeout_config(self.budget.timeouts().map_err(PortError)?))
    }
}

impl Ledger for DynamoLedger {
    async fn claim(
        &self,
        mode: Mode,
        event_key: &str,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
    ) -> Result<Claim, PortError> {
        if self.read_only {
            return Ok(Claim::Fresh);
        }
        let (pk, sk) = event_keys(mode, event_key);
        // An update, not a put: a kept notice (and its place in the outbox) survives the claim, so
        // an invocation that dies while sending it leaves it to be sent again.
        let res = self
            .client()
            .update_item()
            .table_name(&self.table)
            .key("pk", s(&pk))
            .key("sk", s(sk))
            .update_expression(
                "SET #s = :in_progress, lease_until = :lease, claimed_at = :at, expires_at = :exp",
            )
            // Free, or left to be finished: a failed/unknown action, or a claim (working or
            // sending its notice) whose invocation's lease ran out.
            .condition_expression(
                "attribute_not_exists(pk) OR #s = :retry OR (#s IN (:in_progress, :notifying) AND lease_until < :now)",
            )
            .expression_attribute_names("#s", "status")
            .expression_attribute_values(":retry", s("retry"))
            .expression_attribute_values(":notifying", s("notifying"))
            .expression_attribute_values(":in_progress", s("in_progress"))
            .expression_attribute_values(":now", n(now.timestamp_millis()))
            .expression_attribute_values(":lease", n(lease_until.timestamp_millis()))
            .expression_attribute_values(":at", s(now.to_rfc3339()))
            .expression_attribute_values(
                ":exp",
                n((now + Duration::days(EVENT_TTL_DAYS)).timestamp()),
            )
            .return_values(ReturnValue::AllOld)
            .customize()
            .config_override(self.config()?)
            .send()
            .await;
        match res {
            Ok(out) => {
                // A kept notice means the work is done and the notice may not have gone out
                // (`finish` removes it once sent, or when the work is to be redone).
                let notice = out
                    .attributes()
                    .and_then(|a| a.get("notice"))
                    .and_then(|v| v.as_s().ok())
                    .and_then(|txt| serde_json::from_str::<Notification>(txt).ok());
                match notice {
                    Some(n) => Ok(Claim::Notify(Box::new(n))),
                    None => Ok(Claim::Fresh),
                }
            }
            Err(e) if is_conditional_failure(&e) => Ok(Claim::Duplicate),
            Err(e) => Err(port_error(&format!("claim {pk} in {}", self.table), e)),
        }
    }

    async fn finish(
        &self,
        mode: Mode,
        event_key: &str,
        status: EventStatus,
        notice: Option<&Notification>,
    ) -> Result<(), PortError> {
        if self.read_only {
            return Ok(());
        }
        let (pk, sk) = event_keys(mode, event_key);
        let status = match status {
            EventStatus::Notifying => "notifying",
            EventStatus::Done => "done",
            EventStatus::Retry => "retry",
        };
        let mut req = self
            .client()
            .update_item()
            .table_name(&self.table)
            .key("pk", s(&pk))
            .key("sk", s(sk))
            .expression_attribute_names("#s", "status")
            .expression_attribute_values(":s", s(status));
        req = match notice {
            Some(notice) => {
                let text = serde_json::to_string(notice).map_err(|e| PortError(e.to_string()))?;
                req.update_expression("SET #s = :s, notice = :n, outbox = :o")
                    .expression_attribute_values(":n", s(text))
                    .expression_attribute_values(":o", s(mode_name(mode)))
            }
            None => req.update_expression("SET #s = :s REMOVE notice, outbox"),
        };
        req.customize()
            .config_override(self.config()?)
            .send()
            .await
            .map_err(|e| port_error(&format!("mark {pk} {status}"), e))?;
        Ok(())
    }

    async fn get_doc(&self, pk: &str, sk: &str) -> Result<Option<(Value, u64)>, PortError> {
        let out = self
            .client()
            .get_item()
            .table_name(&self.table)
            .key("pk", s(pk))
            .key("sk", s(sk))
            .consistent_read(true)
            .customize()
            .config_override(self.config()?)
            .send()
            .await
            .map_err(|e| port_error(&format!("read {pk} {sk}"), e))?;
        let Some(item) = out.item() else {
            return Ok(None);
        };
        let version = item
            .get("version")
            .and_then(|v| v.as_n().ok())
            .and_then(|v| v.parse::<u64>().ok())
            .ok_or_else(|| PortError(format!("{pk} {sk} has no readable version")))?;
        let doc = item
            .get("state")
            .and_then(|v| v.as_s().ok())
            .map(|txt| serde_json::from_str(txt))
            .transpose()
            .map_err(|e| PortError(format!("{pk} {sk} is unreadable: {e}")))?
            .unwrap_or(Value::Null);
        Ok(Some((doc, version)))
    }

    async fn put_doc(
        &self,
        pk: &str,
        sk: &str,
        doc: &Value,
        expected: Option<u64>,
    ) -> Result<bool, PortError> {
        if self.read_only {
            return Ok(true);
        }
        let next = expected.map_or(1, |v| v + 1);
        let mut req = self
            .client()
            .put_item()
            .table_name(&self.table)
            .item("pk", s(pk))
            .item("sk", s(sk))
            .item("version", n(next as i64))
            .item("state", s(doc.to_string()))
            .item("updated_at", s(Utc::now().to_rfc3339()));
        req = match expected {
            None => req.condition_expression("attribute_not_exists(pk)"),
            Some(v) => req
                .condition_expression("version = :v")
                .expression_attribute_values(":v", n(v as i64)),
        };
        match req.customize().config_override(self.config()?).send().await {
            Ok(_) => Ok(true),
            Err(e) if is_conditional_failure(&e) => Ok(false),
            Err(e) => Err(port_error(&format!("write {pk} {sk}"), e)),
        }
    }

    async fn record(&self, pk: &str, sk: &str, item: &Value) -> Result<(), PortError> {
        if self.read_only {
            return Ok(());
        }
        let mut attrs = to_item(item);
        attrs.insert("pk".into(), s(pk));
        attrs.insert("sk".into(), s(sk));
        attrs.insert(
            "expires_at".into(),
            n((Utc::now() + Duration::days(AUDIT_TTL_DAYS)).timestamp()),
        );
        let res = self
            .client()
            .put_item()
            .table_name(&self.table)
            .set_item(Some(attrs))
            .condition_expression("attribute_not_exists(pk)")
            .customize()
            .config_override(self.config()?)
            .send()
            .await;
        match res {
            Ok(_) => Ok(()),
            // Recorded by an earlier try of the same decision: kept as it was.
            Err(e) if is_conditional_failure(&e) => Ok(()),
            Err(e) => Err(port_error(&format!("record {pk} {sk}"), e)),
        }
    }

    async fn unsent(
        &self,
        mode: Mode,
        before: DateTime<Utc>,
        limit: i32,
    ) -> Result<Vec<String>, PortError> {
        let out = self
            .client()
            .query()
            .table_name(&self.table)
            .index_name(OUTBOX_INDEX)
            .key_condition_expression("outbox = :o AND lease_until < :t")
            .expression_attribute_values(":o", s(mode_name(mode)))
            .expression_attribute_values(":t", n(before.timestamp_millis()))
            .limit(limit)
            .customize()
            .config_override(self.config()?)
            .send()
            .await
            .map_err(|e| port_error(&format!("read the outbox of {}", self.table), e))?;
        Ok(out
            .items()
            .iter()
            .filter_map(|item| {
                item.get("pk")
                    .and_then(|v| v.as_s().ok())
                    .and_then(|pk| pk.strip_prefix("event#"))
                    .map(str::to_owned)
            })
            .collect())
    }

    async fn history(&self, pk: &str) -> Result<Vec<Value>, PortError> {
        self.query(pk, "decision#").await
    }

    async fn keys(&self, pk: &str, prefix: &str) -> Result<Vec<String>, PortError> {
        Ok(self
            .query(pk, prefix)
            .await?
            .into_iter()
            .filter_map(|v| v.get("sk").and_then(Value::as_str).map(str::to_owned))
            .collect())
    }
}

impl DynamoLedger {
    /// Every item under `pk` whose `sk` starts with `prefix`, all pages, in key order.
    async fn query(&self, pk: &str, prefix: &str) -> Result<Vec<Value>, PortError> {
        let mut items = Vec::new();
        let mut start: Option<HashMap<String, AttributeValue>> = None;
        loop {
            let out = self
                .client()
                .query()
                .table_name(&self.table)
                .key_condition_expression("pk = :pk AND begins_with(sk, :p)")
                .expression_attribute_values(":pk", s(pk))
                .expression_attribute_values(":p", s(prefix))
                .set_exclusive_start_key(start.take())
                .customize()
                .config_override(self.config()?)
                .send()
                .await
                .map_err(|e| port_error(&format!("read {pk} {prefix}…"), e))?;
            items.extend(out.items().iter().map(from_item));
            match out.last_evaluated_key() {
                Some(k) if !k.is_empty() => start = Some(k.clone()),
                _ => return Ok(items),
            }
        }
    }
}
