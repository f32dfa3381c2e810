//! Where a backup goes and whether it is needed, decided from what is there (pure).
//!
//! Backups of one source share a prefix and are named by the tick that took them, so a repeated
//! tick names the same object and the keys sort by age:
//!
//! | source | key |
//! |---|---|
//! | `s3://<bucket>/<key>` | `config/<bucket>/<key>/<YYYYMMDD-HHMMSS>` |
//! | secret `<name>` | `secrets/<name>/<YYYYMMDD-HHMMSS>` |

use chrono::{DateTime, NaiveDateTime, Utc};

use crate::model::{ObjectHead, Stored};
use crate::retention::{deletions, plan, Keep, Snap, Verdict};

const STAMP: &str = "%Y%m%d-%H%M%S";

/// The metadata every backup carries (`x-amz-meta-<name>`).
pub mod meta {
    /// What was backed up: `s3://bucket/key`, or `secret:<name>`.
    pub const SOURCE: &str = "source";
    /// The source's version (S3 object version, or secret version).
    pub const VERSION: &str = "source-version-id";
    pub const ETAG: &str = "source-etag";
    /// The SHA-256 (hex) of an object's bytes.
    pub const SHA256: &str = "sha256";
    /// The keyed MAC (base64) of a secret's value, computed in KMS.
    pub const MAC: &str = "hmac";
}

pub fn config_prefix(bucket: &str, key: &str) -> String {
    format!("config/{bucket}/{key}/")
}

pub fn secret_prefix(name: &str) -> String {
    format!("secrets/{name}/")
}

pub fn backup_key(prefix: &str, tick: DateTime<Utc>) -> String {
    format!("{prefix}{}", tick.format(STAMP))
}

/// When the backup at `key` was taken; `None` for a key that is not one of ours.
pub fn stamp_of(key: &str) -> Option<DateTime<Utc>> {
    let last = key.rsplit('/').next()?;
    NaiveDateTime::parse_from_str(last, STAMP)
        .ok()
        .map(|t| t.and_utc())
}

/// The backups of the source at `prefix` among `listed`: the prefix and a tick, nothing deeper.
/// (Secret names hold `/`: the backups of `a/b` are listed under the prefix of `a` too.)
pub fn own(prefix: &str, listed: Vec<Stored>) -> Vec<Stored> {
    listed
        .into_iter()
        .filter(|b| {
            b.key
                .strip_prefix(prefix)
                .is_some_and(|rest| !rest.contains('/') && stamp_of(rest).is_some())
        })
        .collect()
}

/// Whether a source needs storing again.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Plan {
    Store,
    /// The newest backup (`backup`) already holds it; `by` says how that is known.
    Unchanged {
        backup: String,
        by: &'static str,
    },
}

/// The newest backup among `backups` (by the tick in its key; keys that are not ours are skipped).
pub fn newest(backups: &[Stored]) -> Option<&Stored> {
    backups
        .iter()
        .filter_map(|b| Some((stamp_of(&b.key)?, b)))
        .max_by(|a, b| a.0.cmp(&b.0).then_with(|| a.1.key.cmp(&b.1.key)))
        .map(|(_, b)| b)
}

fn unchanged(b: &Stored, by: &'static str) -> Plan {
    Plan::Unchanged {
        backup: b.key.clone(),
        by,
    }
}

/// An object is unchanged when the newest backup (`last`, its metadata read) is of the same version — or, in a bucket
/// without versions, of the same ETag.
pub fn object_plan(head: &ObjectHead, last: Option<&Stored>) -> Plan {
    let Some(last) = last else {
        return Plan::Store;
    };
    let said = |k: &str| last.metadata.get(k).map(String::as_str);
    match head.version_id.as_deref().filter(|v| *v != "null") {
        Some(v) if said(meta::VERSION) == Some(v) => unchanged(last, "version id"),
        Some(_) => Plan::Store,
        None if said(meta::ETAG) == Some(head.etag.as_str()) => unchanged(last, "ETag"),
        None => Plan::Store,
    }
}

/// A secret is unchanged when the newest backup is of the same version, or of a value with the
/// same keyed MAC (the same value put back as a new version).
pub fn secret_plan(version_id: &str, mac: &str, last: Option<&Stored>) -> Plan {
    let Some(last) = last else {
        return Plan::Store;
    };
    let said = |k: &str| last.metadata.get(k).map(String::as_str);
    if said(meta::VERSION) == Some(version_id) {
        unchanged(last, "version id")
    } else if said(meta::MAC) == Some(mac) {
        unchanged(last, "HMAC")
    } else {
        Plan::Store
    }
}

/// Retention of one source's backups with restic's rules: the verdict on each, and the keys to
/// delete now (at most `max`, oldest first) and how many wait for the next run.
pub fn retention(
    backups: &[Stored],
    keep: &Keep,
    now: DateTime<Utc>,
    max: usize,
) -> (Vec<Verdict>, Vec<String>, usize) {
    let snaps: Vec<Snap> = backups
        .iter()
        .filter_map(|b| {
            Some(Snap {
                id: b.key.clone(),
                created: stamp_of(&b.key)?,
            })
        })
        .collect();
    let verdicts = plan(&snaps, keep, now);
    let (doomed, deferred) = deletions(&verdicts, max);
    let doomed = doomed.into_iter().map(|v| v.id.clone()).collect();
    (verdicts, doomed, deferred)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn at(d: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, d, 3, 0, 0)
            .single()
            .expect("valid")
    }

    fn stored(key: &str, pairs: &[(&str, &str)]) -> Stored {
        Stored {
            key: key.to_owned(),
            metadata: pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        }
    }

    fn head(version: Option<&str>, etag: &str) -> ObjectHead {
        ObjectHead {
            bucket: "b".into(),
            key: "k".into(),
            version_id: version.map(str::to_owned),
            etag: etag.into(),
            size: 1,
        }
    }

    #[test]
    fn keys_name_the_source_and_the_tick_and_read_back() {
        let k = backup_key(&config_prefix("state", "prod/terraform.tfstate"), at(2));
        assert_eq!(k, "config/state/prod/terraform.tfstate/20261102-030000");
        assert_eq!(stamp_of(&k), Some(at(2)));
        assert_eq!(
            backup_key(&secret_prefix("axiomcore/production"), at(2)),
            "secrets/axiomcore/production/20261102-030000"
        );
        assert_eq!(stamp_of("config/state/prod/terraform.tfstate"), None);
    }

    #[test]
    fn an_object_is_stored_unless_the_newest_backup_is_of_it() {
        let old = stored(
            "config/b/k/20261101-030000",
            &[(meta::VERSION, "v1"), (meta::ETAG, "e1")],
        );
        let new = stored(
            "config/b/k/20261102-030000",
            &[(meta::VERSION, "v2"), (meta::ETAG, "e2")],
        );
        let both = [new.clone(), old.clone()];
        assert_eq!(object_plan(&head(Some("v1"), "e1"), None), Plan::Store);
        assert_eq!(
            object_plan(&head(Some("v2"), "e9"), newest(&both)),
            Plan::Unchanged {
                backup: new.key.clone(),
                by: "version id"
            }
        );
        // Only the newest counts: back to v1 is a change since the last backup.
        assert_eq!(
            object_plan(&head(Some("v1"), "e1"), newest(&both)),
            Plan::Store
        );
        // Without versions, the ETag decides; S3's "null" version is no version.
        let unversioned = [stored("config/b/k/20261102-030000", &[(meta::ETAG, "e2")])];
        assert!(matches!(
            object_plan(&head(None, "e2"), newest(&unversioned)),
            Plan::Unchanged { by: "ETag", .. }
        ));
        assert!(matches!(
            object_plan(&head(Some("null"), "e2"), newest(&unversioned)),
            Plan::Unchanged { by: "ETag", .. }
        ));
        assert_eq!(
            object_plan(&head(None, "e3"), newest(&unversioned)),
            Plan::Store
        );
        // A stray key that is not a backup is never "the newest".
        assert_eq!(
            object_plan(
                &head(Some("v2"), "e2"),
                newest(&[stored("config/b/k/notes", &[(meta::VERSION, "v2")])])
            ),
            Plan::Store
        );
    }

    #[test]
    fn a_sources_backups_are_its_own_not_those_of_a_name_below_it() {
        let listed = vec![
            stored("secrets/a/20261101-030000", &[]),
            stored("secrets/a/b/20261102-030000", &[]),
            stored("secrets/a/notes", &[]),
        ];
        let own = own("secrets/a/", listed);
        assert_eq!(own.len(), 1);
        assert_eq!(own[0].key, "secrets/a/20261101-030000");
    }

    #[test]
    fn a_secret_is_unchanged_by_version_or_by_its_keyed_mac() {
        let last = [stored(
            "secrets/s/20261102-030000",
            &[(meta::VERSION, "v2"), (meta::MAC, "m2")],
        )];
        assert!(matches!(
            secret_plan("v2", "m9", newest(&last)),
            Plan::Unchanged {
                by: "version id",
                ..
            }
        ));
        assert!(matches!(
            secret_plan("v3", "m2", newest(&last)),
            Plan::Unchanged { by: "HMAC", .. }
        ));
        assert_eq!(secret_plan("v3", "m3", newest(&last)), Plan::Store);
        assert_eq!(secret_plan("v3", "m3", None), Plan::Store);
    }

    #[test]
    fn retention_keeps_by_restics_rules_and_caps_deletions() {
        let backups: Vec<Stored> = (1..=20)
            .map(|d| stored(&backup_key("secrets/s/", at(d)), &[]))
            .collect();
        let keep = Keep {
            last: 0,
            hourly: 0,
            daily: 3,
            weekly: 0,
            monthly: 0,
            yearly: 0,
            within: None,
        };
        let (verdicts, doomed, deferred) = retention(&backups, &keep, at(20), 5);
        assert_eq!(verdicts.iter().filter(|v| v.keep()).count(), 3);
        assert_eq!((doomed.len(), deferred), (5, 12));
        // Oldest first, never a kept one.
        assert_eq!(
            doomed.first().map(String::as_str),
            Some("secrets/s/20261101-030000")
        );
    }
}
