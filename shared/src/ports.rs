//! The effects the core needs, as small traits. Each has exactly one AWS adapter in `adapters`.

use std::future::Future;

use chrono::{DateTime, Utc};
use serde_json::Value;

use crate::decide::ServiceStatus;
use crate::notify::Notification;
use crate::policy::Database;
use crate::state::TargetState;
use crate::target::Target;

/// A read or bookkeeping call failed; nothing was changed by it. The invocation fails and is retried.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct PortError(pub String);

/// Whether a failed change may nevertheless have happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Certainty {
    /// AWS refused it: nothing changed.
    Failed,
    /// Sent, but no clear answer (timeout, 5xx, broken response): it may have happened.
    Unknown,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct EffectError {
    pub certainty: Certainty,
    pub message: String,
}

/// ECS services.
pub trait Services: Send + Sync {
    /// `None` when the service does not exist (or is inactive).
    fn describe(
        &self,
        target: &Target,
    ) -> impl Future<Output = Result<Option<ServiceStatus>, PortError>> + Send;
    /// Force a new deployment.
    fn restart(&self, target: &Target) -> impl Future<Output = Result<(), EffectError>> + Send;
    fn set_desired(
        &self,
        target: &Target,
        count: i32,
    ) -> impl Future<Output = Result<(), EffectError>> + Send;
}

/// Decisions are recorded live or as a dry run; the two never share idempotency or incident state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Live,
    DryRun,
}

impl Mode {
    pub fn of(dry_run: bool) -> Mode {
        if dry_run {
            Mode::DryRun
        } else {
            Mode::Live
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum Claim {
    /// First sight (or a retry of one that did not finish): handle it.
    Fresh,
    /// Handled, but its notice may not have gone out: send this one again.
    Notify(Box<Notification>),
    /// Already handled, or being handled now by another invocation: do nothing.
    Duplicate,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventStatus {
    Notifying,
    Done,
    /// The action failed or its outcome is unknown: a retry must finish it.
    Retry,
}

/// The ledger's per-target state with the version it was read at (`None`: never written).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Versioned {
    pub state: TargetState,
    pub version: Option<u64>,
}

/// The DynamoDB audit ledger.
pub trait Ledger: Send + Sync {
    fn claim(
        &self,
        mode: Mode,
        event_key: &str,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
    ) -> impl Future<Output = Result<Claim, PortError>> + Send;
    fn finish(
        &self,
        mode: Mode,
        event_key: &str,
        status: EventStatus,
        notice: Option<&Notification>,
    ) -> impl Future<Output = Result<(), PortError>> + Send;
    fn load(
        &self,
        mode: Mode,
        target: &Target,
    ) -> impl Future<Output = Result<Versioned, PortError>> + Send;
    /// Writes `state` if the stored version is still `expected`; `Ok(false)` when another
    /// invocation wrote first.
    fn save(
        &self,
        mode: Mode,
        target: &Target,
        state: &TargetState,
        expected: Option<u64>,
    ) -> impl Future<Output = Result<bool, PortError>> + Send;
    /// Appends an audit item (a flat JSON object) under `pk`/`sk`.
    fn record(
        &self,
        pk: &str,
        sk: &str,
        item: &Value,
    ) -> impl Future<Output = Result<(), PortError>> + Send;
    /// Every audit item under `pk`, oldest first.
    fn history(&self, pk: &str) -> impl Future<Output = Result<Vec<Value>, PortError>> + Send;
}

/// SNS.
pub trait Notifier: Send + Sync {
    /// Returns the message id, or `None` where notifications only go to the log.
    fn publish(
        &self,
        n: &Notification,
    ) -> impl Future<Output = Result<Option<String>, PortError>> + Send;
}

/// A database as RDS reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DbState {
    pub status: String,
    pub arn: Option<String>,
}

/// A managed snapshot, reduced to what verification and retention need.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SnapInfo {
    pub id: String,
    pub arn: Option<String>,
    pub created: Option<DateTime<Utc>>,
    pub status: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Created {
    New,
    /// It was there already (the same tick delivered again).
    Existing,
}

/// RDS snapshots of one region.
pub trait Snapshots: Send + Sync {
    /// `None` when the database does not exist.
    fn database(
        &self,
        db: &Database,
    ) -> impl Future<Output = Result<Option<DbState>, PortError>> + Send;
    fn create(
        &self,
        db: &Database,
        id: &str,
        tags: &[(String, String)],
    ) -> impl Future<Output = Result<Created, EffectError>> + Send;
    /// Every snapshot of `db` tagged `managed-by=axiom-ops` and named `<db>-auto-*`, all pages.
    fn list_managed(
        &self,
        db: &Database,
    ) -> impl Future<Output = Result<Vec<SnapInfo>, PortError>> + Send;
    fn delete(
        &self,
        db: &Database,
        id: &str,
    ) -> impl Future<Output = Result<(), EffectError>> + Send;
    /// Copies `source_arn` (in another region) into this region as `id`, tags carried.
    fn copy(
        &self,
        db: &Database,
        source_arn: &str,
        id: &str,
        kms_key_id: Option<&str>,
    ) -> impl Future<Output = Result<Created, EffectError>> + Send;
    /// (used, max) of the account's manual-snapshot quota, where it can be read.
    fn quota(&self) -> impl Future<Output = Result<Option<(i64, i64)>, PortError>> + Send;
}
