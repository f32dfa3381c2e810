//! One source backed up: observe it and its newest backup, decide (`plan`), store, check what
//! was stored, retain. Errors are one line naming what failed; none carries a secret's value.

use std::collections::BTreeMap;

use base64::{engine::general_purpose::STANDARD, Engine as _};
use chrono::{DateTime, Utc};

use super::job::BackupJob;
use super::plan::{self, meta, Plan};
use super::report::SourceReport;
use super::seal::{self, Scheme};
use crate::model::{hex, Stored};
use crate::ports::{BackupStore, Keys, Ledger, Notifier, Objects, Secrets};
use crate::runtime::schedule::Tick;

/// The largest object one `CopyObject` copies.
const COPY_MAX: i64 = 5 * 1024 * 1024 * 1024;

impl<S3, S, K, L, N> BackupJob<'_, S3, S, K, L, N>
where
    S3: Objects + BackupStore,
    S: Secrets,
    K: Keys,
    L: Ledger,
    N: Notifier,
{
    pub(super) async fn object(
        &self,
        bucket: &str,
        key: &str,
        tick: &Tick,
        now: DateTime<Utc>,
    ) -> Result<SourceReport, String> {
        let name = format!("s3://{bucket}/{key}");
        let mut report = SourceReport::new("config", &name);
        let head = self
            .s3
            .head(bucket, key)
            .await
            .map_err(|e| e.0)?
            .ok_or("does not exist")?;
        if head.size > COPY_MAX {
            return Err(format!(
                "is {} bytes, more than one server-side copy takes (5 GiB)",
                head.size
            ));
        }
        report.version_id = head.version_id.clone();
        report.bytes = Some(head.size);
        let prefix = plan::config_prefix(bucket, key);
        let (mut backups, last) = self.backups(&prefix).await?;
        let target = plan::backup_key(&prefix, tick.time);
        // A backup already at this tick's key was written by an attempt that did not finish
        // (its copy may never have been checked): it is copied and checked again.
        let plan = match &last {
            Some(l) if l.key == target => Plan::Store,
            _ => plan::object_plan(&head, last.as_ref()),
        };
        match plan {
            Plan::Unchanged { backup, by } => {
                report.outcome = "unchanged";
                report.backup = Some(backup);
                report.unchanged_by = Some(by);
            }
            Plan::Store if self.dry_run => {
                report.outcome = "would_store";
                report.backup = Some(target);
            }
            Plan::Store => {
                let sha = self.s3.sha256(&head).await.map_err(|e| e.0)?;
                let mut m = BTreeMap::from([
                    (meta::SOURCE.to_owned(), name.clone()),
                    (meta::ETAG.to_owned(), head.etag.clone()),
                    (meta::SHA256.to_owned(), sha.clone()),
                ]);
                if let Some(v) = &head.version_id {
                    m.insert(meta::VERSION.to_owned(), v.clone());
                }
                let copied = self
                    .s3
                    .copy_in(&head, &target, &m)
                    .await
                    .map_err(|e| e.message)?;
                if let Err(why) = check_copy(&sha, head.version_id.as_deref(), &copied) {
                    // Never left to pass for a good backup (the next run would call it unchanged).
                    let removed = match self.s3.delete(&target).await {
                        Ok(()) => "removed".to_owned(),
                        Err(e) => format!("NOT removed ({e}): delete it by hand"),
                    };
                    return Err(format!("the copy {target} {why}; it was {removed}"));
                }
                report.outcome = "stored";
                report.sha256 = Some(sha);
                report.backup = Some(target.clone());
                backups.push(Stored {
                    key: target,
                    metadata: m,
                });
            }
        }
        self.retain(&backups, now, &mut report).await?;
        Ok(report)
    }

    pub(super) async fn secret(
        &self,
        name: &str,
        tick: &Tick,
        now: DateTime<Utc>,
    ) -> Result<SourceReport, String> {
        let mut report = SourceReport::new("secret", &format!("secret:{name}"));
        let value = self
            .secrets
            .read(name)
            .await
            .map_err(|e| e.0)?
            .ok_or("does not exist")?;
        report.version_id = Some(value.version_id.clone());
        let mac = seal::mac_of(&self.kms, &self.policy.hmac_key_id, &value.value)
            .await
            .map_err(|e| e.0)?;
        let prefix = plan::secret_prefix(name);
        let (mut backups, last) = self.backups(&prefix).await?;
        let target = plan::backup_key(&prefix, tick.time);
        match plan::secret_plan(&value.version_id, &mac, last.as_ref()) {
            Plan::Unchanged { backup, by } => {
                report.outcome = "unchanged";
                report.backup = Some(backup);
                report.unchanged_by = Some(by);
            }
            Plan::Store if self.dry_run => {
                report.outcome = "would_store";
                report.backup = Some(target);
            }
            Plan::Store => {
                let context = seal::context(name, &value.version_id);
                let sealed = seal::seal(
                    &self.kms,
                    &self.policy.kms_key_id,
                    context,
                    &value.value,
                    value.binary,
                )
                .await
                .map_err(|e| e.0)?;
                let body = serde_json::to_vec_pretty(&sealed)
                    .map_err(|e| format!("the sealed backup does not serialize: {e}"))?;
                let m = BTreeMap::from([
                    (meta::SOURCE.to_owned(), format!("secret:{name}")),
                    (meta::VERSION.to_owned(), value.version_id.clone()),
                    (meta::MAC.to_owned(), mac),
                ]);
                self.s3
                    .put(&target, body, &m)
                    .await
                    .map_err(|e| e.message)?;
                report.outcome = "stored";
                report.scheme = Some(match sealed.scheme {
                    Scheme::Kms => "kms",
                    Scheme::Envelope => "envelope-aes-256-gcm",
                });
                report.backup = Some(target.clone());
                backups.push(Stored {
                    key: target,
                    metadata: m,
                });
            }
        }
        self.retain(&backups, now, &mut report).await?;
        Ok(report)
    }

    /// The backups under `prefix`, and the newest with its metadata read.
    async fn backups(&self, prefix: &str) -> Result<(Vec<Stored>, Option<Stored>), String> {
        let backups = plan::own(prefix, self.s3.list(prefix).await.map_err(|e| e.0)?);
        let Some(newest) = plan::newest(&backups) else {
            return Ok((backups, None));
        };
        let key = newest.key.clone();
        let metadata = self
            .s3
            .metadata(&key)
            .await
            .map_err(|e| e.0)?
            .unwrap_or_default();
        Ok((backups, Some(Stored { key, metadata })))
    }

    /// restic's rules over one source's backups; at most `max_deletions`, oldest first.
    async fn retain(
        &self,
        backups: &[Stored],
        now: DateTime<Utc>,
        report: &mut SourceReport,
    ) -> Result<(), String> {
        let p = self.policy;
        let (verdicts, doomed, deferred) = plan::retention(backups, &p.keep, now, p.max_deletions);
        report.kept = verdicts.iter().filter(|v| v.keep()).count();
        report.deferred = deferred;
        for key in doomed {
            if !self.dry_run {
                self.s3.delete(&key).await.map_err(|e| e.message)?;
            }
            report.deleted.push(key);
        }
        Ok(())
    }
}

/// The copy is the version that was hashed, and S3's SHA-256 of it is ours.
fn check_copy(
    sha_hex: &str,
    version: Option<&str>,
    copied: &crate::model::Copied,
) -> Result<(), String> {
    if let (Some(want), Some(got)) = (version, copied.source_version_id.as_deref()) {
        if want != got {
            return Err(format!("is of version {got}, not {want}"));
        }
    }
    let Some(b64) = &copied.sha256 else {
        return Err("carries no SHA-256 checksum: it could not be verified".into());
    };
    let got = hex(&STANDARD
        .decode(b64)
        .map_err(|_| format!("has a checksum that is not base64 ({b64})"))?);
    if got != sha_hex {
        return Err(format!("has SHA-256 {got}, the source {sha_hex}"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Copied;

    #[test]
    fn a_copy_is_checked_by_version_and_sha256() {
        // SHA-256 of the empty string, hex and base64.
        let hex = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
        let b64 = "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=";
        let ok = Copied {
            sha256: Some(b64.into()),
            source_version_id: Some("v1".into()),
        };
        assert_eq!(check_copy(hex, Some("v1"), &ok), Ok(()));
        assert_eq!(check_copy(hex, None, &ok), Ok(()));
        assert!(check_copy(hex, Some("v2"), &ok).is_err_and(|e| e.contains("not v2")));
        let other = Copied {
            sha256: Some(STANDARD.encode([0u8; 32])),
            ..ok.clone()
        };
        assert!(check_copy(hex, Some("v1"), &other).is_err_and(|e| e.contains("SHA-256")));
        let none = Copied { sha256: None, ..ok };
        assert!(check_copy(hex, Some("v1"), &none).is_err_and(|e| e.contains("not be verified")));
    }
}
