//! The disaster-recovery copy: the newest available managed snapshot goes to the DR region, and
//! the same retention applies to the copies there.

use chrono::{DateTime, Utc};
use serde_json::json;

use super::job::{SnapshotError, SnapshotJob};
use super::report::DbReport;
use crate::model::{job_notice, Action, Database, Outcome, Severity, SnapInfo};
use crate::ports::{Ledger, Notifier, Snapshots};

impl<R: Snapshots, L: Ledger, N: Notifier> SnapshotJob<'_, R, L, N> {
    /// Copies the newest *available* managed snapshot the DR region lacks (a snapshot still
    /// `creating` cannot be copied; it goes on a later run), then applies retention there. A copy
    /// that fails is announced, not fatal: the local snapshot exists.
    #[allow(clippy::too_many_arguments)]
    pub(super) async fn copy_to_dr(
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
                            Action::Snapshot,
                            Outcome::Failed,
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
}
