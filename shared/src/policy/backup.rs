//! `[backup]` and `[restore_drill]`: what `backup` copies (configuration objects, secrets), under
//! which keys, kept by which restic rules; and how the monthly restore drill restores the database.

use std::fmt;
use std::time::Duration;

use serde::Deserialize;

use super::snapshots::keep_rules;
use super::{duration, Fields, PolicyError};
use crate::retention::Keep;

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub(super) struct Raw {
    kms_key_id: String,
    hmac_key_id: String,
    objects: Vec<String>,
    secrets: Vec<String>,
    keep_last: u32,
    keep_hourly: u32,
    keep_daily: u32,
    keep_weekly: u32,
    keep_monthly: u32,
    keep_yearly: u32,
    keep_within: Option<String>,
    max_deletions: usize,
}

impl Default for Raw {
    fn default() -> Self {
        let keep = Keep::default();
        Raw {
            kms_key_id: "alias/axiom-ops-backup".into(),
            hmac_key_id: "alias/axiom-ops-backup-hmac".into(),
            objects: vec!["s3://axiomcore-terraform-state/production/terraform.tfstate".into()],
            secrets: vec!["axiomcore/production".into()],
            keep_last: keep.last,
            keep_hourly: keep.hourly,
            keep_daily: keep.daily,
            keep_weekly: keep.weekly,
            keep_monthly: keep.monthly,
            keep_yearly: keep.yearly,
            keep_within: None,
            max_deletions: 50,
        }
    }
}

/// An S3 object, or every object under a prefix (the policy writes it ending in `/`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ObjectSource {
    Object { bucket: String, key: String },
    Prefix { bucket: String, prefix: String },
}

impl ObjectSource {
    /// `s3://bucket/key` or `s3://bucket/prefix/`.
    pub fn parse(text: &str) -> Result<ObjectSource, String> {
        let rest = text.strip_prefix("s3://").ok_or_else(|| {
            format!(
                "{text:?} is not an S3 address like \"s3://bucket/key\" or \"s3://bucket/prefix/\""
            )
        })?;
        let (bucket, key) = rest
            .split_once('/')
            .filter(|(b, k)| !b.is_empty() && !k.is_empty())
            .ok_or_else(|| format!("{text:?} names no object: expected \"s3://bucket/key\""))?;
        Ok(if key.ends_with('/') {
            ObjectSource::Prefix {
                bucket: bucket.to_owned(),
                prefix: key.to_owned(),
            }
        } else {
            ObjectSource::Object {
                bucket: bucket.to_owned(),
                key: key.to_owned(),
            }
        })
    }
}

impl fmt::Display for ObjectSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ObjectSource::Object { bucket, key } => write!(f, "s3://{bucket}/{key}"),
            ObjectSource::Prefix { bucket, prefix } => write!(f, "s3://{bucket}/{prefix}"),
        }
    }
}

/// What `backup` copies and how long it keeps it.
#[derive(Debug, Clone, PartialEq)]
pub struct BackupPolicy {
    /// Encrypts every backup (SSE-KMS) and every secret's value (client side, first).
    pub kms_key_id: String,
    /// An HMAC KMS key: a secret's value is compared by its keyed MAC, computed inside KMS, so
    /// neither the value nor a bare hash of it is ever stored.
    pub hmac_key_id: String,
    pub objects: Vec<ObjectSource>,
    pub secrets: Vec<String>,
    pub keep: Keep,
    pub max_deletions: usize,
}

/// `[restore_drill]`: the monthly proof that the newest snapshot restores.
#[derive(Debug, Clone, PartialEq)]
pub struct DrillPolicy {
    pub instance_class: String,
    /// The DB subnet group and VPC security groups to restore into (production's network, so
    /// the RTO is the real one); unset, RDS's defaults (the default VPC).
    pub subnet_group: Option<String>,
    pub security_groups: Vec<String>,
    /// A restore slower than this fails the drill (SEV2).
    pub rto_target: Duration,
    /// The drill gives up on an instance not available after this long.
    pub give_up_after: Duration,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub(super) struct RawDrill {
    instance_class: String,
    subnet_group: Option<String>,
    security_groups: Vec<String>,
    rto_target: String,
    give_up_after: String,
}

impl Default for RawDrill {
    fn default() -> Self {
        RawDrill {
            instance_class: "db.t3.micro".into(),
            subnet_group: None,
            security_groups: Vec::new(),
            rto_target: "1h".into(),
            give_up_after: "3h".into(),
        }
    }
}

pub(super) fn validate(raw: Raw, fields: &Fields) -> Result<BackupPolicy, PolicyError> {
    let keep = keep_rules(
        Keep {
            last: raw.keep_last,
            hourly: raw.keep_hourly,
            daily: raw.keep_daily,
            weekly: raw.keep_weekly,
            monthly: raw.keep_monthly,
            yearly: raw.keep_yearly,
            within: None,
        },
        raw.keep_within.as_deref(),
        "backup",
        fields,
    )?;
    for (field, id) in [
        ("backup.kms_key_id", &raw.kms_key_id),
        ("backup.hmac_key_id", &raw.hmac_key_id),
    ] {
        if id.trim().is_empty() {
            return Err(fields.invalid(field, "is empty: expected a KMS key id, ARN or alias/…"));
        }
    }
    let objects = raw
        .objects
        .iter()
        .map(|o| ObjectSource::parse(o).map_err(|e| fields.invalid("backup.objects", e)))
        .collect::<Result<Vec<_>, _>>()?;
    if let Some(s) = raw.secrets.iter().find(|s| s.trim().is_empty()) {
        return Err(fields.invalid("backup.secrets", format!("{s:?} is not a secret name")));
    }
    if raw.max_deletions == 0 {
        return Err(fields.invalid("backup.max_deletions", "must be at least 1"));
    }
    Ok(BackupPolicy {
        kms_key_id: raw.kms_key_id,
        hmac_key_id: raw.hmac_key_id,
        objects,
        secrets: raw.secrets,
        keep,
        max_deletions: raw.max_deletions,
    })
}

pub(super) fn validate_drill(raw: RawDrill, fields: &Fields) -> Result<DrillPolicy, PolicyError> {
    if !raw.instance_class.starts_with("db.") {
        return Err(fields.invalid(
            "restore_drill.instance_class",
            format!(
                "{:?} is not an RDS instance class like \"db.t3.micro\"",
                raw.instance_class
            ),
        ));
    }
    let rto_target = duration::parse(fields, "restore_drill.rto_target", &raw.rto_target)?;
    let give_up_after = duration::parse(fields, "restore_drill.give_up_after", &raw.give_up_after)?;
    if rto_target.is_zero() || give_up_after < rto_target {
        return Err(fields.invalid(
            "restore_drill.give_up_after",
            "must be at least rto_target, and rto_target more than 0",
        ));
    }
    if let Some(g) = raw.security_groups.iter().find(|g| !g.starts_with("sg-")) {
        return Err(fields.invalid(
            "restore_drill.security_groups",
            format!("{g:?} is not a VPC security group id (sg-…)"),
        ));
    }
    Ok(DrillPolicy {
        instance_class: raw.instance_class,
        subnet_group: raw.subnet_group.filter(|g| !g.trim().is_empty()),
        security_groups: raw.security_groups,
        rto_target,
        give_up_after,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sources_are_objects_or_prefixes() {
        assert_eq!(
            ObjectSource::parse("s3://b/production/terraform.tfstate"),
            Ok(ObjectSource::Object {
                bucket: "b".into(),
                key: "production/terraform.tfstate".into()
            })
        );
        assert_eq!(
            ObjectSource::parse("s3://b/env/"),
            Ok(ObjectSource::Prefix {
                bucket: "b".into(),
                prefix: "env/".into()
            })
        );
        for bad in ["b/key", "s3://b", "s3:///key", "s3://b/", "https://b/k"] {
            assert!(ObjectSource::parse(bad).is_err(), "{bad}");
        }
        let s = "s3://b/env/";
        assert_eq!(
            ObjectSource::parse(s).map(|o| o.to_string()).as_deref(),
            Ok(s)
        );
    }
}
