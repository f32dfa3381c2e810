//! The `snapshot` job: the guide's "Backup & Recovery", every day, by itself.
//!
//! parse tick → pre-flight every database → per database: claim → create → verify the previous
//! → retain → copy to DR (and retain there) → quota → record; success is logged with EMF metrics,
//! failures, deferrals and quota warnings are announced. A failed pre-flight fails the
//! invocation and stops retention everywhere in it.

use chrono::{DateTime, Utc};
use serde_json::{json, Value};

use super::report::{emit_metrics, DbReport};
use crate::idempotency::{Handled, Once, OnceError, Settle};
use crate::model::{
    job_notice, Action, Created, Database, Notification, Outcome, Severity, MANAGED_TAG,
};
use crate::policy::Policy;
use crate::ports::{Certainty, Ledger, Mode, Notifier, PortError, Snapshots};
use crate::runtime::schedule::{self, snapshot_id, Tick, TickError};
use crate::runtime::{Failure, Invocation};

/// States in which RDS takes a snapshot.
const SNAPSHOTTABLE: &[&str] = &[
    "available",
    "backing-up",
    "storage-optimization",
    "modifying",
];

#[derive(Debug, thiserror::Error)]
pub enum SnapshotError {
    #[error(transparent)]
    Tick(#[from] TickError),
    #[error(
        "the Input names {0}, which the policy does not list (it lists: {1}); nothing was done"
    )]
    NotAllowed(String, String),
    #[error("{0}")]
    Failed(String),
    #[error("ledger: {0}")]
    Ledger(PortError),
    #[error("notify: {0}")]
    Notify(PortError),
}

impl Failure for SnapshotError {
    fn kind(&self) -> &'static str {
        match self {
            SnapshotError::Tick(_) => "ParseError",
            SnapshotError::NotAllowed(..) => "NotAllowed",
            SnapshotError::Failed(_) => "SnapshotFailed",
            SnapshotError::Ledger(_) => "LedgerUnavailable",
            SnapshotError::Notify(_) => "NotifyFailed",
        }
    }
}

impl From<OnceError> for SnapshotError {
    fn from(e: OnceError) -> Self {
        match e {
            OnceError::Ledger(e) => SnapshotError::Ledger(e),
            OnceError::Notify(e) => SnapshotError::Notify(e),
        }
    }
}

pub struct SnapshotJob<'a, R, L, N> {
    pub policy: &'a Policy,
    pub rds: R,
    /// The disaster-recovery region's RDS, when the policy copies there.
    pub dr: Option<R>,
    pub ledger: L,
    pub notifier: N,
    pub dry_run: bool,
}

impl<R: Snapshots, L: Ledger, N: Notifier> SnapshotJob<'_, R, L, N> {
    fn mode(&self) -> Mode {
        Mode::of(self.dry_run)
    }

    pub async fn handle(&self, payload: &Value, inv: &Invocation) -> Result<Value, SnapshotError> {
        let tick = schedule::parse(payload, inv.now)?;
        let dbs = self.databases(&tick)?;

        // Pre-flight every database before touching any: a missing one stops retention for all.
        let mut ready = Vec::new();
        let mut broken = Vec::new();
        for db in dbs {
            match self.rds.database(db).await {
                Ok(Some(st)) if SNAPSHOTTABLE.contains(&st.status.as_str()) => ready.push(db),
                Ok(Some(st)) => broken.push((
                    db,
                    format!("is {}, not in a state that can be snapshotted", st.status),
                )),
                Ok(None) => broken.push((db, "does not exist".to_owned())),
                Err(e) => broken.push((db, format!("could not be read: {e}"))),
            }
        }
        let retain = broken.is_empty();

        let mut reports = Vec::new();
        let mut failures = Vec::new();
        for db in ready {
            match self.run(db, &tick, inv, retain).await {
                Ok(r) => reports.push(r),
                Err(e) => failures.push(format!("{}: {e}", db.id)),
            }
        }
        for (db, why) in &broken {
            let headline = format!("snapshot FAILED: database {why}");
            let n = job_notice(
                Severity::Sev2,
                Action::Snapshot,
                Outcome::Failed,
                &db.id,
                &headline,
                &format!(
                    "No snapshot of {} could be taken for the tick {}.\nRetention did not run in this invocation, so nothing was deleted anywhere.\nThe invocation fails so the function's Errors alarm fires.",
                    db.id,
                    tick.time.to_rfc3339()
                ),
                json!({"database": db.id, "tick": tick.time.to_rfc3339(), "error": why, "retention_ran": false}),
            );
            self.record(db, &tick, inv, "failed", &json!({ "error": why }))
                .await?;
            self.announce(&n).await;
            failures.push(format!("{} {why}", db.id));
        }
        if !failures.is_empty() {
            return Err(SnapshotError::Failed(format!(
                "snapshot run for {} failed: {}{}",
                tick.time.to_rfc3339(),
                failures.join("; "),
                if retain { "" } else { " (no retention ran)" }
            )));
        }
        Ok(
            json!({ "tick": tick.time.to_rfc3339(), "tick_from": tick.time_from, "databases": reports }),
        )
    }

    fn databases(&self, tick: &Tick) -> Result<Vec<&Database>, SnapshotError> {
        let listed = || {
            self.policy
                .databases
                .iter()
                .map(|d| d.id.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        };
        match &tick.databases {
            None => Ok(self.policy.databases.iter().collect()),
            Some(names) => names
                .iter()
                .map(|n| {
                    self.policy
                        .database(n)
                        .ok_or_else(|| SnapshotError::NotAllowed(n.clone(), listed()))
                })
                .collect(),
        }
    }

    async fn run(
        &self,
        db: &Database,
        tick: &Tick,
        inv: &Invocation,
        retain: bool,
    ) -> Result<DbReport, SnapshotError> {
        let id = snapshot_id(&db.id, tick.time);
        let key = format!("snapshot#{}#{}", db.id, tick.time.timestamp());
        let report = DbReport {
            database: db.id.clone(),
            snapshot: id.clone(),
            dry_run: self.dry_run,
            ..DbReport::default()
        };
        let once = Once {
            ledger: &self.ledger,
            notifier: &self.notifier,
            mode: self.mode(),
        };
        let work = async {
            let mut report = report;
            if let Err(e) = self.work(db, tick, &id, inv.now, retain, &mut report).await {
                return Settle::Retry(e, None);
            }
            // Recorded before the claim is finished: a lost record is redone by the retry.
            let details = serde_json::to_value(&report).unwrap_or(Value::Null);
            if let Err(e) = self.record(db, tick, inv, "done", &details).await {
                return Settle::Retry(e, None);
            }
            Settle::Done(report, None)
        };
        match once.run(&key, inv, work).await? {
            Handled::Fresh(report) => {
                emit_metrics(&report);
                Ok(report)
            }
            // Snapshot notices are sent directly, never kept with a claim: nothing to resend.
            Handled::Duplicate | Handled::Renotified(_) => Ok(DbReport {
                database: db.id.clone(),
                snapshot: id,
                duplicate: true,
                dry_run: self.dry_run,
                ..DbReport::default()
            }),
        }
    }

    async fn work(
        &self,
        db: &Database,
        tick: &Tick,
        id: &str,
        now: DateTime<Utc>,
        retain: bool,
        report: &mut DbReport,
    ) -> Result<(), SnapshotError> {
        let sp = &self.policy.snapshots;
        let tags = vec![
            (MANAGED_TAG.0.to_owned(), MANAGED_TAG.1.to_owned()),
            ("axiom-ops:tick".to_owned(), tick.time.to_rfc3339()),
        ];
        if !self.dry_run {
            match self.rds.create(db, id, &tags).await {
                Ok(c) => report.created = c == Created::New,
                Err(e) => {
                    let outcome = match e.certainty {
                        Certainty::Failed => Outcome::Failed,
                        Certainty::Unknown => Outcome::Unknown,
                    };
                    self.announce(&job_notice(
                        Severity::Sev2,
                        Action::Snapshot,
                        outcome,
                        &db.id,
                        &format!("snapshot {id} FAILED"),
                        &format!("Error: {}", e.message),
                        json!({"database": db.id, "snapshot": id, "error": e.message}),
                    ))
                    .await;
                    return Err(SnapshotError::Failed(e.message));
                }
            }
        }

        let managed = self
            .rds
            .list_managed(db)
            .await
            .map_err(|e| SnapshotError::Failed(e.0))?;
        self.verify(db, id, &managed, now, report).await;

        if retain {
            let (deleted, deferred, kept) = self.retain(db, &self.rds, &managed, now).await?;
            report.deleted = deleted;
            report.deferred = deferred;
            report.kept = kept;
        }
        report.newest_age_seconds = managed
            .iter()
            .filter(|s| s.status == "available")
            .filter_map(|s| s.created)
            .max()
            .map(|t| (now - t).num_seconds());

        if let (Some(dr), Some(region)) = (&self.dr, &sp.copy_to_region) {
            self.copy_to_dr(db, dr, region, &managed, now, retain, report)
                .await?;
        }

        match self.rds.quota().await {
            Ok(Some((used, max)))
                if max > 0 && used * 100 >= max * i64::from(sp.quota_warn_percent) =>
            {
                let pct = used * 100 / max;
                report.warnings.push(format!(
                    "manual snapshots at {pct}% of the quota ({used}/{max})"
                ));
                self.announce(&job_notice(
                    Severity::Sev3,
                    Action::Snapshot,
                    Outcome::NoAction,
                    &db.id,
                    &format!("manual snapshots at {pct}% of the account quota ({used}/{max})"),
                    "Raise the RDS ManualSnapshots quota or keep fewer snapshots before new ones start failing.",
                    json!({"database": db.id, "used": used, "max": max}),
                ))
                .await;
            }
            Ok(_) => {}
            Err(e) => {
                tracing::warn!(error = %e, "the manual-snapshot quota cannot be read; carrying on")
            }
        }

        if report.deferred > 0 {
            self.announce(&job_notice(
                Severity::Sev3,
                Action::Retention,
                Outcome::Done,
                &db.id,
                &format!("retention deleted {}, deferred {} to the next run", report.deleted.len() + report.dr_deleted.len(), report.deferred),
                &format!("At most {} deletions run each time; the rest follow in later runs.", sp.max_deletions),
                json!({"database": db.id, "deleted": report.deleted, "dr_deleted": report.dr_deleted, "deferred": report.deferred}),
            ))
            .await;
        }
        Ok(())
    }

    pub(super) async fn record(
        &self,
        db: &Database,
        tick: &Tick,
        inv: &Invocation,
        outcome: &str,
        details: &Value,
    ) -> Result<(), SnapshotError> {
        let item = json!({
            "at": inv.now.to_rfc3339(),
            "job": "snapshot",
            "database": db.id,
            "tick": tick.time.to_rfc3339(),
            "outcome": if self.dry_run && outcome == "done" { "dry_run" } else { outcome },
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
            .record(&format!("snapshot#{}", db.id), &sk, &item)
            .await
            .map_err(SnapshotError::Ledger)
    }

    /// A notice that cannot be sent is logged, never allowed to hide the job's own outcome.
    pub(super) async fn announce(&self, n: &Notification) {
        if let Err(e) = self.notifier.publish(n).await {
            tracing::error!(error = %e, subject = %n.subject, "notification not sent");
        }
    }
}
