//! The `backup` job: every configuration object and secret the policy names, once per tick.
//!
//! parse tick → list the sources (prefixes expanded) → per source: claim → observe → decide
//! (`plan`, pure) → store (`config`, `secret`) → retain → record. A source that is missing or
//! fails is announced SEV2, named; the others are still backed up; then the invocation fails so
//! its Errors alarm fires and Lambda's retry tries the failed ones again (the done ones are
//! duplicates by then). Success is a metric (EMF), not a notice.

use chrono::Utc;
use serde_json::{json, Value};

use super::report::{emit_metrics, SourceReport};
use crate::idempotency::{Handled, Once, OnceError, Settle};
use crate::model::{job_notice, key_part, Action, Outcome, Severity};
use crate::policy::{BackupPolicy, ObjectSource};
use crate::ports::{BackupStore, Keys, Ledger, Mode, Notifier, Objects, PortError, Secrets};
use crate::runtime::schedule::{self, Tick, TickError};
use crate::runtime::{Failure, Invocation};

#[derive(Debug, thiserror::Error)]
pub enum BackupError {
    #[error(transparent)]
    Tick(#[from] TickError),
    #[error("the backup job backs up what [backup] names; an Input naming databases is for the snapshot job")]
    NotAllowed,
    #[error("{0}")]
    Failed(String),
    #[error("ledger: {0}")]
    Ledger(PortError),
    #[error("notify: {0}")]
    Notify(PortError),
}

impl Failure for BackupError {
    fn kind(&self) -> &'static str {
        match self {
            BackupError::Tick(_) => "ParseError",
            BackupError::NotAllowed => "NotAllowed",
            BackupError::Failed(_) => "BackupFailed",
            BackupError::Ledger(_) => "LedgerUnavailable",
            BackupError::Notify(_) => "NotifyFailed",
        }
    }
}

impl From<OnceError> for BackupError {
    fn from(e: OnceError) -> Self {
        match e {
            OnceError::Ledger(e) => BackupError::Ledger(e),
            OnceError::Notify(e) => BackupError::Notify(e),
        }
    }
}

/// One thing to back up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    Object { bucket: String, key: String },
    Secret(String),
}

impl Source {
    pub fn name(&self) -> String {
        match self {
            Source::Object { bucket, key } => format!("s3://{bucket}/{key}"),
            Source::Secret(name) => format!("secret:{name}"),
        }
    }

    fn kind(&self) -> &'static str {
        match self {
            Source::Object { .. } => "config",
            Source::Secret(_) => "secret",
        }
    }
}

pub struct BackupJob<'a, S3, S, K, L, N> {
    pub policy: &'a BackupPolicy,
    /// The configuration where it lives, and the backup bucket (one S3 client serves both).
    pub s3: S3,
    pub secrets: S,
    pub kms: K,
    pub ledger: L,
    pub notifier: N,
    pub dry_run: bool,
}

impl<S3, S, K, L, N> BackupJob<'_, S3, S, K, L, N>
where
    S3: Objects + BackupStore,
    S: Secrets,
    K: Keys,
    L: Ledger,
    N: Notifier,
{
    pub async fn handle(&self, payload: &Value, inv: &Invocation) -> Result<Value, BackupError> {
        let tick = schedule::parse(payload, inv.now)?;
        if tick.databases.is_some() {
            return Err(BackupError::NotAllowed);
        }
        // A tick from the future would name a backup that stays "the newest" until then.
        if tick.time > inv.now + chrono::Duration::minutes(5) {
            return Err(BackupError::Tick(TickError(format!(
                "the tick {} is in the future (now {})",
                tick.time.to_rfc3339(),
                inv.now.to_rfc3339()
            ))));
        }
        let mut failures: Vec<(String, String)> = Vec::new();
        let mut sources = Vec::new();
        for o in &self.policy.objects {
            match self.expand(o).await {
                Ok(found) => sources.extend(found),
                Err(why) => failures.push((o.to_string(), why)),
            }
        }
        sources.extend(self.policy.secrets.iter().cloned().map(Source::Secret));

        let mut reports = Vec::new();
        for source in &sources {
            match self.run(source, &tick, inv).await {
                Ok(r) => reports.push(r),
                Err(BackupError::Failed(why)) => failures.push((source.name(), why)),
                Err(e) => return Err(e),
            }
        }
        // A prefix that cannot be listed was never a claimed source: it is recorded here.
        for (name, why) in failures.iter().filter(|(n, _)| n.ends_with('/')) {
            self.record(name, &tick, inv, "failed", &json!({ "error": why }))
                .await?;
        }
        for (name, why) in &failures {
            self.announce_failure(name, why, &tick, inv).await;
        }
        if !failures.is_empty() {
            let named: Vec<String> = failures
                .iter()
                .map(|(n, why)| format!("{n}: {why}"))
                .collect();
            return Err(BackupError::Failed(format!(
                "backup run for {} failed for {} of {} sources: {}",
                tick.time.to_rfc3339(),
                failures.len(),
                sources.len() + failures.iter().filter(|(n, _)| n.ends_with('/')).count(),
                named.join("; ")
            )));
        }
        Ok(
            json!({ "tick": tick.time.to_rfc3339(), "tick_from": tick.time_from, "sources": reports }),
        )
    }

    /// A prefix is every object under it now; one that lists nothing is missing.
    async fn expand(&self, o: &ObjectSource) -> Result<Vec<Source>, String> {
        match o {
            ObjectSource::Object { bucket, key } => Ok(vec![Source::Object {
                bucket: bucket.clone(),
                key: key.clone(),
            }]),
            ObjectSource::Prefix { bucket, prefix } => {
                let keys = self
                    .s3
                    .keys(bucket, prefix)
                    .await
                    .map_err(|e| format!("cannot be listed: {e}"))?;
                if keys.is_empty() {
                    return Err("holds no object".into());
                }
                Ok(keys
                    .into_iter()
                    .filter(|k| !k.ends_with('/'))
                    .map(|key| Source::Object {
                        bucket: bucket.clone(),
                        key,
                    })
                    .collect())
            }
        }
    }

    /// One source, at most once per tick.
    async fn run(
        &self,
        source: &Source,
        tick: &Tick,
        inv: &Invocation,
    ) -> Result<SourceReport, BackupError> {
        let name = source.name();
        let key = format!("backup#{}#{}", key_part(&name), tick.time.timestamp());
        let once = Once {
            ledger: &self.ledger,
            notifier: &self.notifier,
            mode: Mode::of(self.dry_run),
        };
        let work = async {
            let result = match source {
                Source::Object { bucket, key } => self.object(bucket, key, tick, inv.now).await,
                Source::Secret(secret) => self.secret(secret, tick, inv.now).await,
            };
            let mut report = match result {
                Ok(r) => r,
                Err(why) => {
                    let details = json!({ "kind": source.kind(), "error": why });
                    if let Err(e) = self.record(&name, tick, inv, "failed", &details).await {
                        return Settle::Retry(e, None);
                    }
                    emit_metrics(&SourceReport::failed(source.kind(), &name, &why));
                    return Settle::Retry(BackupError::Failed(why), None);
                }
            };
            report.dry_run = self.dry_run;
            let details = serde_json::to_value(&report).unwrap_or(Value::Null);
            if let Err(e) = self
                .record(&name, tick, inv, report.outcome, &details)
                .await
            {
                return Settle::Retry(e, None);
            }
            Settle::Done(report, None)
        };
        match once.run(&key, inv, work).await? {
            Handled::Fresh(report) => {
                emit_metrics(&report);
                Ok(report)
            }
            Handled::Duplicate | Handled::Renotified(_) => {
                Ok(SourceReport::duplicate(source.kind(), &name))
            }
        }
    }

    pub(super) async fn record(
        &self,
        source: &str,
        tick: &Tick,
        inv: &Invocation,
        outcome: &str,
        details: &Value,
    ) -> Result<(), BackupError> {
        let item = json!({
            "at": inv.now.to_rfc3339(),
            "job": "backup",
            "source": source,
            "tick": tick.time.to_rfc3339(),
            "outcome": outcome,
            "details": details,
            "request_id": inv.request_id,
            "dry_run": self.dry_run,
        });
        let sk = format!(
            "decision#{}#{}",
            Utc::now().format("%Y-%m-%dT%H:%M:%S%.6fZ"),
            tick.time.timestamp()
        );
        self.ledger
            .record(&format!("backup#{}", key_part(source)), &sk, &item)
            .await
            .map_err(BackupError::Ledger)
    }

    fn failure_notice(&self, source: &str, why: &str, tick: &Tick) -> crate::model::Notification {
        job_notice(
            Severity::Sev2,
            Action::Backup,
            Outcome::Failed,
            source,
            &format!("backup FAILED: {why}"),
            &format!(
                "{source} was not backed up for the tick {}.\nThe other sources were still backed up. The invocation fails so the function's Errors alarm fires, and Lambda's retry tries this source again.",
                tick.time.to_rfc3339()
            ),
            json!({ "source": source, "tick": tick.time.to_rfc3339(), "error": why }),
        )
    }

    /// One SEV2 per failing source per day: Lambda's two retries and the maintenance window's
    /// backup would otherwise page again for the same missing object. (The Errors alarm still
    /// fires on each failed invocation.)
    async fn announce_failure(&self, source: &str, why: &str, tick: &Tick, inv: &Invocation) {
        let once = Once {
            ledger: &self.ledger,
            notifier: &self.notifier,
            mode: Mode::of(self.dry_run),
        };
        let key = format!(
            "backup-failure#{}#{}",
            key_part(source),
            inv.now.format("%Y-%m-%d")
        );
        let notice = self.failure_notice(source, why, tick);
        let work = async { Settle::<(), BackupError>::Done((), Some(notice)) };
        match once.run(&key, inv, work).await {
            Ok(Handled::Duplicate) => {
                tracing::info!(source, "backup failure already announced today")
            }
            Ok(_) => {}
            Err(e) => tracing::error!(error = %e, source, "backup failure not announced"),
        }
    }
}
