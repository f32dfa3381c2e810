//! The effects the jobs need, as small traits, and how they fail. Each trait has exactly one
//! AWS adapter in `adapters`; the jobs are written against these traits only.

mod backup;

use std::future::Future;

use chrono::{DateTime, Utc};
use serde_json::Value;

pub use backup::{BackupStore, Context, Keys, Objects, Restores, Secrets};

use crate::model::{
    AcmCert, AlarmStatus, Created, Database, DbState, ListenerCert, LogLine, Notification, Served,
    ServiceHistory, ServiceStatus, SnapInfo, Target, TaskSpec, TaskState,
};

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
    /// Its deployments, latest events, the tasks stopped since `since` (each container's exit)
    /// and the running task definition's memory: what a diagnosis reads. Text as ECS wrote it.
    fn history(
        &self,
        target: &Target,
        since: DateTime<Utc>,
    ) -> impl Future<Output = Result<ServiceHistory, PortError>> + Send;
    /// Deploys `task_definition` (a rollback, or a revision with more memory).
    fn deploy(
        &self,
        target: &Target,
        task_definition: &str,
    ) -> impl Future<Output = Result<(), EffectError>> + Send;
    /// Registers a revision of `task_definition` whose task memory is `memory` MiB (container
    /// limits grown in proportion); returns the new revision's ARN.
    fn with_memory(
        &self,
        task_definition: &str,
        memory: i32,
    ) -> impl Future<Output = Result<String, EffectError>> + Send;
}

/// CloudWatch Logs.
pub trait Logs: Send + Sync {
    /// The newest `limit` lines of `group` since `since` that match `ERROR`, oldest first, as
    /// written; a group that does not exist has none.
    fn errors(
        &self,
        group: &str,
        since: DateTime<Utc>,
        limit: usize,
    ) -> impl Future<Output = Result<Vec<LogLine>, PortError>> + Send;
}

/// The reports bucket (post-mortems).
pub trait Reports: Send + Sync {
    /// Stores a Markdown document at `key` (encrypted at rest); returns its `s3://` address.
    fn put(
        &self,
        key: &str,
        markdown: &str,
    ) -> impl Future<Output = Result<String, EffectError>> + Send;
    /// `None` when there is no document at `key`.
    fn get(&self, key: &str) -> impl Future<Output = Result<Option<String>, PortError>> + Send;
    /// Keys under `prefix`, in order.
    fn list(&self, prefix: &str) -> impl Future<Output = Result<Vec<String>, PortError>> + Send;
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

    /// What a ledger key of this mode ends with: a dry run's records never take a live one's key.
    pub fn key_suffix(self) -> &'static str {
        match self {
            Mode::Live => "",
            Mode::DryRun => "#dry_run",
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
    /// Keys of events whose notice was kept but may not have gone out: finished work, still
    /// `Notifying`, whose claim's lease ran out before `before`.
    /// At most `limit` of them, oldest lease first.
    fn unsent(
        &self,
        mode: Mode,
        before: DateTime<Utc>,
        limit: i32,
    ) -> impl Future<Output = Result<Vec<String>, PortError>> + Send;
    /// Writes an audit item (a flat JSON object) under `pk`/`sk` unless one is there already:
    /// the record of a decision is never overwritten.
    fn record(
        &self,
        pk: &str,
        sk: &str,
        item: &Value,
    ) -> impl Future<Output = Result<(), PortError>> + Send;
    /// Every audit item under `pk`, oldest first.
    fn history(&self, pk: &str) -> impl Future<Output = Result<Vec<Value>, PortError>> + Send;
    /// A versioned JSON document (a job's progress) at `pk`/`sk`.
    fn get_doc(
        &self,
        pk: &str,
        sk: &str,
    ) -> impl Future<Output = Result<Option<(Value, u64)>, PortError>> + Send;
    /// Writes it if the stored version is still `expected`; `Ok(false)` when someone wrote first.
    fn put_doc(
        &self,
        pk: &str,
        sk: &str,
        doc: &Value,
        expected: Option<u64>,
    ) -> impl Future<Output = Result<bool, PortError>> + Send;
    /// Keys (`sk`) under `pk` starting with `prefix`, in order.
    fn keys(
        &self,
        pk: &str,
        prefix: &str,
    ) -> impl Future<Output = Result<Vec<String>, PortError>> + Send;
}

/// SNS.
pub trait Notifier: Send + Sync {
    /// Returns the message id, or `None` where notifications only go to the log.
    fn publish(
        &self,
        n: &Notification,
    ) -> impl Future<Output = Result<Option<String>, PortError>> + Send;
}

/// RDS databases of one region, as they are now.
pub trait Databases: Send + Sync {
    /// `None` when the database does not exist.
    fn database(
        &self,
        db: &Database,
    ) -> impl Future<Output = Result<Option<DbState>, PortError>> + Send;
}

/// RDS snapshots of one region.
pub trait Snapshots: Databases {
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
    /// The status of one snapshot of `db`, `None` when it does not exist.
    fn status(
        &self,
        db: &Database,
        id: &str,
    ) -> impl Future<Output = Result<Option<String>, PortError>> + Send;
}

/// One-off ECS tasks (migrations and the like).
pub trait Tasks: Send + Sync {
    /// Starts the task, or finds the one already started with this `started_by` (a retried step
    /// must not run migrations twice).
    fn run(
        &self,
        cluster: &str,
        spec: &TaskSpec,
        started_by: &str,
    ) -> impl Future<Output = Result<String, EffectError>> + Send;
    fn state(
        &self,
        cluster: &str,
        task_arn: &str,
    ) -> impl Future<Output = Result<Option<TaskState>, PortError>> + Send;
}

/// Application Auto Scaling of an ECS service's desired count.
pub trait Scaling: Send + Sync {
    /// (min, max) when the service is registered as a scalable target.
    fn bounds(
        &self,
        target: &Target,
    ) -> impl Future<Output = Result<Option<(i32, i32)>, PortError>> + Send;
    fn suspend(&self, target: &Target) -> impl Future<Output = Result<(), EffectError>> + Send;
    fn resume(
        &self,
        target: &Target,
        min: i32,
        max: i32,
    ) -> impl Future<Output = Result<(), EffectError>> + Send;
    /// New (min, max), suspension left as it is.
    fn set_bounds(
        &self,
        target: &Target,
        min: i32,
        max: i32,
    ) -> impl Future<Output = Result<(), EffectError>> + Send;
}

/// SSM parameters (the maintenance-mode switch).
pub trait Parameters: Send + Sync {
    fn put(&self, name: &str, value: &str) -> impl Future<Output = Result<(), EffectError>> + Send;
    fn get(&self, name: &str) -> impl Future<Output = Result<Option<String>, PortError>> + Send;
}

/// CloudWatch alarms.
pub trait Alarms: Send + Sync {
    /// (name, state) of every alarm whose name starts with `prefix`.
    fn states(
        &self,
        prefix: &str,
    ) -> impl Future<Output = Result<Vec<(String, String)>, PortError>> + Send;
    /// The live state of each named alarm CloudWatch knows (metric or composite); a name it
    /// does not know is left out.
    fn describe(
        &self,
        names: &[String],
    ) -> impl Future<Output = Result<Vec<AlarmStatus>, PortError>> + Send;
}

/// The service's health endpoint.
pub trait Health: Send + Sync {
    /// The HTTP status of a GET, or why there was none.
    fn check(&self, url: &str) -> impl Future<Output = Result<u16, String>> + Send;
}

/// ACM certificates (read only).
pub trait Certificates: Send + Sync {
    /// `None` when ACM has no certificate with this ARN.
    fn describe(
        &self,
        arn: &str,
    ) -> impl Future<Output = Result<Option<AcmCert>, PortError>> + Send;
}

/// Elastic Load Balancing listeners (read only).
pub trait Listeners: Send + Sync {
    /// Every certificate the load balancer's listeners present, defaults and SNI.
    fn certificates(
        &self,
        load_balancer: &str,
    ) -> impl Future<Output = Result<Vec<ListenerCert>, PortError>> + Send;
}

/// A TLS handshake with an endpoint.
pub trait Probe: Send + Sync {
    /// What `https://host[:port]` serves; the error says why no certificate was seen.
    fn served(&self, endpoint: &str) -> impl Future<Output = Result<Served, String>> + Send;
}

/// DNS, as the function's resolver answers it.
pub trait Dns: Send + Sync {
    /// The CNAME targets of `name`, empty when it has none; the error says why no answer came.
    fn cname(&self, name: &str) -> impl Future<Output = Result<Vec<String>, String>> + Send;
}
