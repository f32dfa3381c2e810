//! The drill's steps: start (clean up leftovers, restore the newest snapshot), watch the restore,
//! check the instance and the newest secret backup, delete the instance. Each is safe to repeat.

use chrono::{DateTime, Utc};

use super::job::{DrillError, DrillJob};
use super::plan::{self, Check, Drill, Phase, Restoring, DRILL_TAG};
use crate::backup::plan::{meta, newest, own, secret_prefix};
use crate::backup::restore::open_secret_backup;
use crate::backup::seal;
use crate::model::{Database, RestoreSpec, MANAGED_TAG};
use crate::ports::{BackupStore, Keys, Ledger, Notifier, Restores, Secrets, Snapshots};

fn failed(e: impl std::fmt::Display) -> DrillError {
    DrillError::Failed(e.to_string())
}

impl<R, V, S, K, L, N> DrillJob<'_, R, V, S, K, L, N>
where
    R: Snapshots + Restores,
    V: BackupStore,
    S: Secrets,
    K: Keys,
    L: Ledger,
    N: Notifier,
{
    /// Deletes what earlier runs left behind, then restores the newest managed snapshot.
    pub(super) async fn start(&self, date: &str, now: DateTime<Utc>) -> Result<Drill, DrillError> {
        let db = self.database()?.to_owned();
        let id = plan::instance_id(&db, date);
        let mut leftovers_deleted = Vec::new();
        let tagged = self
            .rds
            .tagged(DRILL_TAG.0, DRILL_TAG.1)
            .await
            .map_err(failed)?;
        for old in plan::leftovers(&tagged, &db, &id) {
            self.rds
                .delete_instance(old)
                .await
                .map_err(|e| failed(e.message))?;
            leftovers_deleted.push(old.to_owned());
        }
        let rto_target_seconds = self.policy.restore_drill.rto_target.as_secs() as i64;
        let mut drill = Drill {
            date: date.to_owned(),
            database: db.clone(),
            instance: id.clone(),
            snapshot: String::new(),
            engine: String::new(),
            engine_version: String::new(),
            region: self.region.clone(),
            phase: Phase::Restoring,
            started_at: now,
            available_at: None,
            rto_seconds: None,
            rto_target_seconds,
            checks: Vec::new(),
            error: None,
            leftovers_deleted,
            announced: false,
        };
        let snaps = self
            .rds
            .list_managed(&Database {
                id: db.clone(),
                kind: crate::model::DbKind::Instance,
            })
            .await
            .map_err(failed)?;
        let Some(newest) = plan::newest_available(&snaps) else {
            drill.error = Some(format!("{db} has no available managed snapshot to restore"));
            drill.phase = Phase::Done;
            return Ok(drill);
        };
        drill.snapshot = newest.id.clone();
        let facts = self
            .rds
            .snapshot(&newest.id)
            .await
            .map_err(failed)?
            .ok_or_else(|| failed(format!("snapshot {} vanished", newest.id)))?;
        drill.engine = facts.engine;
        drill.engine_version = facts.engine_version;
        // A retried start finds its own restore already under way.
        if self.rds.instance(&id).await.map_err(failed)?.is_none() {
            let d = &self.policy.restore_drill;
            let spec = RestoreSpec {
                class: Some(d.instance_class.clone()),
                subnet_group: d.subnet_group.clone(),
                security_groups: d.security_groups.clone(),
                tags: vec![
                    (MANAGED_TAG.0.to_owned(), MANAGED_TAG.1.to_owned()),
                    (DRILL_TAG.0.to_owned(), DRILL_TAG.1.to_owned()),
                    ("axiom-ops:restored-from".to_owned(), newest.id.clone()),
                ],
            };
            self.rds
                .restore(&newest.id, &id, &spec)
                .await
                .map_err(|e| failed(e.message))?;
        }
        Ok(drill)
    }

    /// What a drill today would do, read only: the leftovers it would delete, the snapshot it
    /// would restore and as what, and the secret backups' checks (decrypted in memory).
    pub(super) async fn preview(&self, date: &str) -> Result<serde_json::Value, DrillError> {
        let db = self.database()?.to_owned();
        let id = plan::instance_id(&db, date);
        let tagged = self
            .rds
            .tagged(DRILL_TAG.0, DRILL_TAG.1)
            .await
            .map_err(failed)?;
        let snaps = self
            .rds
            .list_managed(&Database {
                id: db.clone(),
                kind: crate::model::DbKind::Instance,
            })
            .await
            .map_err(failed)?;
        let mut checks = Vec::new();
        for name in &self.policy.backup.secrets {
            checks.push(self.secret_check(name).await);
        }
        Ok(serde_json::json!({
            "dry_run": true,
            "done": true,
            // The state machine's `Passed?` reads it: a dry run proves nothing.
            "passed": false,
            "drill": date,
            "database": db,
            "would_delete_leftovers": plan::leftovers(&tagged, &db, &id),
            "would_restore": plan::newest_available(&snaps).map(|s| s.id.clone()),
            "as": id,
            "instance_class": self.policy.restore_drill.instance_class,
            "region": self.region,
            "rto_target_seconds": self.policy.restore_drill.rto_target.as_secs(),
            "secret_checks": checks,
        }))
    }

    /// The current phase's step; the seconds to wait before the next.
    pub(super) async fn step(&self, d: &mut Drill, now: DateTime<Utc>) -> Result<u64, DrillError> {
        match d.phase {
            Phase::Restoring => {
                let i = self.rds.instance(&d.instance).await.map_err(failed)?;
                match plan::restoring(
                    i.as_ref(),
                    d.started_at,
                    now,
                    self.policy.restore_drill.give_up_after,
                ) {
                    Restoring::Wait => Ok(60),
                    Restoring::Available { rto_seconds } => {
                        d.available_at = Some(now);
                        d.rto_seconds = Some(rto_seconds);
                        d.phase = Phase::Checking;
                        Ok(0)
                    }
                    Restoring::Failed(why) => {
                        d.error = Some(why);
                        d.phase = Phase::Deleting;
                        Ok(0)
                    }
                }
            }
            Phase::Checking => {
                let i = self
                    .rds
                    .instance(&d.instance)
                    .await
                    .map_err(failed)?
                    .ok_or_else(|| failed(format!("{} vanished before its checks", d.instance)))?;
                let facts = crate::model::SnapshotFacts {
                    id: d.snapshot.clone(),
                    instance: d.database.clone(),
                    engine: d.engine.clone(),
                    engine_version: d.engine_version.clone(),
                    status: "available".into(),
                    created: None,
                };
                d.checks = plan::check_instance(&facts, &i);
                for name in &self.policy.backup.secrets {
                    d.checks.push(self.secret_check(name).await);
                }
                d.phase = Phase::Deleting;
                Ok(0)
            }
            Phase::Deleting => {
                let Some(i) = self.rds.instance(&d.instance).await.map_err(failed)? else {
                    d.phase = Phase::Done;
                    return Ok(0);
                };
                if !plan::is_drill(&d.database, &i) {
                    d.error.get_or_insert(format!(
                        "{} is not tagged as a drill instance: left alone, delete it by hand",
                        d.instance
                    ));
                    d.phase = Phase::Done;
                    return Ok(0);
                }
                if let Err(e) = self.rds.delete_instance(&d.instance).await {
                    // RDS refuses to delete an instance still being created or modified: wait
                    // for it rather than give up and leave it running.
                    tracing::warn!(instance = %d.instance, status = %i.status, error = %e.message, "not deletable yet");
                }
                Ok(30)
            }
            Phase::Done => Ok(0),
        }
    }

    /// The newest backup of `name` decrypts, in memory, to a value whose keyed MAC is the one it
    /// was stored with — and the live secret's, unless the secret changed since.
    async fn secret_check(&self, name: &str) -> Check {
        let check = |passed: bool, detail: String| Check {
            name: format!("secret {name}"),
            passed,
            detail,
        };
        match self.secret_macs(name).await {
            Err(why) => check(false, why),
            Ok((stored, opened, live, backup_version, live_version)) => {
                if opened != stored {
                    check(false, "the newest backup decrypts to a value whose HMAC is not the one it was stored with".into())
                } else if opened == live {
                    check(true, format!("the newest backup (version {backup_version}) decrypts and its HMAC matches the live secret's"))
                } else if backup_version != live_version {
                    check(true, format!("the newest backup (version {backup_version}) decrypts intact; the live secret is version {live_version}, changed since: the next backup takes it"))
                } else {
                    check(false, format!("the newest backup of version {backup_version} does not match the live secret of the same version"))
                }
            }
        }
    }

    /// (stored MAC, MAC of the decrypted backup, MAC of the live value, backup version, live version).
    async fn secret_macs(
        &self,
        name: &str,
    ) -> Result<(String, String, String, String, String), String> {
        let prefix = secret_prefix(name);
        let backups = own(&prefix, self.vault.list(&prefix).await.map_err(|e| e.0)?);
        let key = newest(&backups)
            .map(|b| b.key.clone())
            .ok_or_else(|| "there is no backup of it to restore".to_owned())?;
        let stored = self
            .vault
            .metadata(&key)
            .await
            .map_err(|e| e.0)?
            .and_then(|m| m.get(meta::MAC).cloned())
            .ok_or_else(|| format!("{key} carries no HMAC"))?;
        let (sealed, value) = open_secret_backup(&self.vault, &self.kms, &key).await?;
        let backup_version = sealed
            .context
            .get("axiom-ops:version")
            .cloned()
            .unwrap_or_default();
        let hmac_key = &self.policy.backup.hmac_key_id;
        let opened = seal::mac_of(&self.kms, hmac_key, &value)
            .await
            .map_err(|e| e.0)?;
        let live = self
            .secrets
            .read(name)
            .await
            .map_err(|e| e.0)?
            .ok_or_else(|| "the live secret does not exist".to_owned())?;
        let live_mac = seal::mac_of(&self.kms, hmac_key, &live.value)
            .await
            .map_err(|e| e.0)?;
        Ok((stored, opened, live_mac, backup_version, live.version_id))
    }
}
