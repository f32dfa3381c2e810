//! The `snapshot` job: the guide's "Backup & Recovery", every day, by itself.
//!
//! parse tick → pre-flight every database → per database: claim → create → verify the previous
//! → retain → copy to DR (and retain there) → quota → record; success is logged with EMF metrics,
//! failures, deferrals and quota warnings are announced. A failed pre-flight fails the
//! invocation and stops retention everywhere in it.

use chrono::{DateTime, Duration, Utc};
use serde_json::{json, Value};

use crate::adapters::rds::{RdsSnapshots, MANAGED_TAG};
use crate::audit::Audit;
use crate::aws::{sdk_config, Budget};
use crate::config::{Config, ConfigError};
use crate::notify::{job_notice, Notification};
use crate::policy::{Database, Policy, Severity};
use crate::ports::{
    Certainty, Claim, Created, EventStatus, Ledger, Mode, Notifier, PortError, SnapInfo, Snapshots,
};
use crate::remediate::Invocation;
use crate::retention::{deletions, plan, Snap, Verdict};
use crate::schedule::{self, snapshot_id, Tick, TickError};

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
}

/// What happened to one database in one run.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct DbReport {
    pub database: String,
    pub snapshot: String,
    pub created: bool,
    pub duplicate: bool,
    pub deleted: Vec<String>,
    pub deferred: usize,
    pub kept: usize,
    pub dr_copy: Option<String>,
    pub dr_deleted: Vec<String>,
    pub newest_age_seconds: Option<i64>,
    pub warnings: Vec<String>,
    pub dry_run: bool,
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
                "snapshot",
                crate::state::Outcome::Failed,
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
        let mode = self.mode();
        let id = snapshot_id(&db.id, tick.time);
        let key = format!("snapshot#{}#{}", db.id, tick.time.timestamp());
        let mut report = DbReport {
            database: db.id.clone(),
            snapshot: id.clone(),
            dry_run: self.dry_run,
            ..DbReport::default()
        };
        match self
            .ledger
            .claim(mode, &key, inv.now, inv.lease_until())
            .await
            .map_err(SnapshotError::Ledger)?
        {
            Claim::Duplicate => {
                report.duplicate = true;
                return Ok(report);
            }
            Claim::Notify(n) => {
                self.announce(&n).await;
            }
            Claim::Fresh => {}
        }
        let result = self.work(db, tick, &id, inv.now, retain, &mut report).await;
        let status = if result.is_ok() {
            EventStatus::Done
        } else {
            EventStatus::Retry
        };
        self.ledger
            .finish(mode, &key, status, None)
            .await
            .map_err(SnapshotError::Ledger)?;
        result?;
        self.record(
            db,
            tick,
            inv,
            "done",
            &serde_json::to_value(&report).unwrap_or(Value::Null),
        )
        .await?;
        emit_metrics(&report);
        Ok(report)
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
                        Certainty::Failed => crate::state::Outcome::Failed,
                        Certainty::Unknown => crate::state::Outcome::Unknown,
                    };
                    self.announce(&job_notice(
                        Severity::Sev2,
                        "snapshot",
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
                    "snapshot",
                    crate::state::Outcome::NoAction,
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
                "retention",
                crate::state::Outcome::Done,
                &db.id,
                &format!("retention deleted {}, deferred {} to the next run", report.deleted.len() + report.dr_deleted.len(), report.deferred),
                &format!("At most {} deletions run each time; the rest follow in later runs.", sp.max_deletions),
                json!({"database": db.id, "deleted": report.deleted, "dr_deleted": report.dr_deleted, "deferred": report.deferred}),
            ))
            .await;
        }
        Ok(())
    }

    /// Copies the newest *available* managed snapshot the DR region lacks (a snapshot still
    /// `creating` cannot be copied; it goes on a later run), then applies retention there. A copy
    /// that fails is announced, not fatal: the local snapshot exists.
    #[allow(clippy::too_many_arguments)]
    async fn copy_to_dr(
        &self,
        db: &Database,
        dr: &R,
        region: &str,
        managed: &[SnapInfo],
        now: DateTime<Utc>,
        retain: bool,
        report: &mut DbReport,
    ) -> Result<(), SnapshotError> {
        let sp = &self.policy.snapshots;
        let copies = dr
            .list_managed(db)
            .await
            .map_err(|e| SnapshotError::Failed(e.0))?;
        let newest = managed
            .iter()
            .filter(|s| s.status == "available")
            .max_by_key(|s| (s.created, s.id.clone()));
        match newest {
            None => report
                .warnings
                .push(format!("no available snapshot to copy to {region} yet")),
            Some(s) if copies.iter().any(|c| c.id == s.id) => {
                report.dr_copy = Some(format!("{region}:{} (already there)", s.id))
            }
            Some(s) if self.dry_run => {
                report.dr_copy = Some(format!("would copy {} to {region}", s.id))
            }
            Some(s) => match &s.arn {
                None => report
                    .warnings
                    .push(format!("{} has no ARN: not copied to {region}", s.id)),
                Some(arn) => match dr.copy(db, arn, &s.id, sp.copy_kms_key_id.as_deref()).await {
                    Ok(_) => report.dr_copy = Some(format!("{region}:{}", s.id)),
                    Err(e) => {
                        report
                            .warnings
                            .push(format!("copy to {region} failed: {}", e.message));
                        self.announce(&job_notice(
                            Severity::Sev3,
                            "snapshot",
                            crate::state::Outcome::Failed,
                            &db.id,
                            &format!("copy of {} to {region} FAILED", s.id),
                            &format!("Error: {}\nThe next run tries again with its newest snapshot.", e.message),
                            json!({"database": db.id, "snapshot": s.id, "region": region, "error": e.message}),
                        ))
                        .await;
                    }
                },
            },
        }
        if retain {
            let copies = dr
                .list_managed(db)
                .await
                .map_err(|e| SnapshotError::Failed(e.0))?;
            let (deleted, deferred, _) = self.retain(db, dr, &copies, now).await?;
            report.dr_deleted = deleted;
            report.deferred += deferred;
        }
        Ok(())
    }

    /// The previous managed snapshot must have reached `available`.
    async fn verify(
        &self,
        db: &Database,
        current: &str,
        managed: &[SnapInfo],
        now: DateTime<Utc>,
        report: &mut DbReport,
    ) {
        let Some(prev) = managed
            .iter()
            .filter(|s| s.id != current)
            .max_by_key(|s| (s.created, s.id.clone()))
        else {
            return;
        };
        let stuck =
            Duration::from_std(self.policy.snapshots.stuck_after).unwrap_or(Duration::hours(6));
        let problem = match prev.status.as_str() {
            "failed" | "error" => Some(format!("the previous snapshot {} failed", prev.id)),
            "creating" if prev.created.is_some_and(|t| now - t > stuck) => Some(format!(
                "the previous snapshot {} is still creating after {}h",
                prev.id,
                stuck.num_hours()
            )),
            _ => None,
        };
        if let Some(p) = problem {
            report.warnings.push(p.clone());
            self.announce(&job_notice(
                Severity::Sev2,
                "snapshot",
                crate::state::Outcome::Failed,
                &db.id,
                &p,
                "Check the RDS console or `aws rds describe-db-snapshots`; a backup that did not complete is no backup.",
                json!({"database": db.id, "snapshot": prev.id, "status": prev.status}),
            ))
            .await;
        }
    }

    /// Applies the policy's retention to `snaps` (available ones only), deleting at most
    /// `max_deletions`, oldest first. Returns (deleted, deferred, kept).
    async fn retain(
        &self,
        db: &Database,
        rds: &R,
        snaps: &[SnapInfo],
        now: DateTime<Utc>,
    ) -> Result<(Vec<String>, usize, usize), SnapshotError> {
        let sp = &self.policy.snapshots;
        let verdicts: Vec<Verdict> = plan(&candidates(snaps), &sp.keep, now);
        let kept = verdicts.iter().filter(|v| v.keep()).count();
        let (doomed, deferred) = deletions(&verdicts, sp.max_deletions);
        let mut deleted = Vec::with_capacity(doomed.len());
        for v in doomed {
            if !self.dry_run {
                rds.delete(db, &v.id)
                    .await
                    .map_err(|e| SnapshotError::Failed(e.message))?;
            }
            deleted.push(v.id.clone());
        }
        Ok((deleted, deferred, kept))
    }

    async fn record(
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
    async fn announce(&self, n: &Notification) {
        if let Err(e) = self.notifier.publish(n).await {
            tracing::error!(error = %e, subject = %n.subject, "notification not sent");
        }
    }
}

/// What retention may judge: available snapshots with a creation time. One still `creating`
/// (or failed) is never a candidate.
pub fn candidates(snaps: &[SnapInfo]) -> Vec<Snap> {
    snaps
        .iter()
        .filter(|s| s.status == "available")
        .filter_map(|s| {
            Some(Snap {
                id: s.id.clone(),
                created: s.created?,
            })
        })
        .collect()
}

/// Success is not announced: it is a CloudWatch metric (EMF), so a dashboard and an alarm on
/// "newest snapshot age" watch it instead of people.
pub fn emit_metrics(r: &DbReport) {
    // Only Lambda's log is read for EMF; elsewhere (the CLI, tests) the line would be noise.
    if std::env::var_os("AWS_LAMBDA_FUNCTION_NAME").is_none() {
        return;
    }
    let line = crate::telemetry::emf(
        "AxiomOps",
        &[("Function", "snapshot"), ("Database", &r.database)],
        &[
            (
                "SnapshotsCreated",
                if r.created { 1.0 } else { 0.0 },
                "Count",
            ),
            (
                "SnapshotsDeleted",
                (r.deleted.len() + r.dr_deleted.len()) as f64,
                "Count",
            ),
            ("SnapshotsDeferred", r.deferred as f64, "Count"),
            (
                "NewestSnapshotAgeSeconds",
                r.newest_age_seconds.unwrap_or(0) as f64,
                "Seconds",
            ),
        ],
    );
    println!("{line}");
}

/// What a cold start of `snapshot` builds once.
#[derive(Clone)]
pub struct SnapshotApp {
    pub config: std::sync::Arc<Config>,
    pub rds: aws_sdk_rds::Client,
    pub dr: Option<aws_sdk_rds::Client>,
    audit: Audit,
}

impl SnapshotApp {
    pub async fn from_env() -> Result<SnapshotApp, ConfigError> {
        let config = Config::from_env()?;
        let sdk = sdk_config().await;
        SnapshotApp::with_sdk(config, &sdk)
    }

    pub fn with_sdk(
        config: Config,
        sdk: &aws_config::SdkConfig,
    ) -> Result<SnapshotApp, ConfigError> {
        let audit = Audit::new(&config, sdk)?;
        if config.policy.databases.is_empty() {
            return Err(ConfigError::Invalid {
                var: "OPS_POLICY_FILE",
                value: "databases = []".into(),
                why: "the snapshot job needs at least one [[databases]] entry",
            });
        }
        let dr = config
            .policy
            .snapshots
            .copy_to_region
            .as_ref()
            .map(|region| {
                let conf = aws_sdk_rds::config::Builder::from(sdk)
                    .region(aws_sdk_rds::config::Region::new(region.clone()))
                    .build();
                aws_sdk_rds::Client::from_conf(conf)
            });
        Ok(SnapshotApp {
            rds: aws_sdk_rds::Client::new(sdk),
            dr,
            audit,
            config: std::sync::Arc::new(config),
        })
    }

    pub async fn handle(
        &self,
        payload: &Value,
        inv: &Invocation,
        dry_run: bool,
    ) -> Result<Value, SnapshotError> {
        let budget = Budget::until(inv.deadline);
        let job = SnapshotJob {
            policy: &self.config.policy,
            rds: RdsSnapshots::new(&self.rds, budget),
            dr: self.dr.as_ref().map(|c| RdsSnapshots::new(c, budget)),
            ledger: self.audit.ledger(budget),
            notifier: self.audit.notifier(budget),
            dry_run: dry_run || self.config.dry_run,
        };
        job.handle(payload, inv).await
    }
}

impl crate::lambda::Job for SnapshotApp {
    const NAME: &'static str = "snapshot";
    type Error = SnapshotError;

    async fn from_env() -> Result<SnapshotApp, ConfigError> {
        SnapshotApp::from_env().await
    }

    async fn handle(
        &self,
        payload: &Value,
        inv: &Invocation,
        dry_run: bool,
    ) -> Result<Value, SnapshotError> {
        SnapshotApp::handle(self, payload, inv, dry_run).await
    }
}
