//! Verify the previous snapshot, and retain with restic's rules: the judgment is
//! `crate::retention` (pure); this applies it to one region's snapshots within the deletion cap.

use chrono::{DateTime, Utc};
use serde_json::json;

use super::job::{SnapshotError, SnapshotJob};
use super::report::DbReport;
use crate::model::{job_notice, Action, Database, Outcome, Severity, SnapInfo};
use crate::ports::{Ledger, Notifier, Snapshots};
use crate::retention::{deletions, plan, Snap, Verdict};

impl<R: Snapshots, L: Ledger, N: Notifier> SnapshotJob<'_, R, L, N> {
    /// The previous managed snapshot must have reached `available`.
    pub(super) async fn verify(
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
        let stuck = crate::policy::duration::chrono(self.policy.snapshots.stuck_after);
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
                Action::Snapshot,
                Outcome::Failed,
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
    pub(super) async fn retain(
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
