//! `[snapshots]`: how `snapshot` keeps (restic `forget` rules), verifies and copies the policy's
//! databases. The retention defaults are [`Keep::default`], written once.

use std::time::Duration;

use serde::Deserialize;

use super::{duration, Fields, PolicyError};
use crate::retention::{Keep, Within};

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub(super) struct Raw {
    keep_last: u32,
    keep_hourly: u32,
    keep_daily: u32,
    keep_weekly: u32,
    keep_monthly: u32,
    keep_yearly: u32,
    keep_within: Option<String>,
    max_deletions: usize,
    stuck_after: String,
    quota_warn_percent: u32,
    copy_to_region: Option<String>,
    copy_kms_key_id: Option<String>,
}

impl Default for Raw {
    fn default() -> Self {
        let keep = Keep::default();
        Raw {
            keep_last: keep.last,
            keep_hourly: keep.hourly,
            keep_daily: keep.daily,
            keep_weekly: keep.weekly,
            keep_monthly: keep.monthly,
            keep_yearly: keep.yearly,
            keep_within: None,
            max_deletions: 50,
            stuck_after: "6h".into(),
            quota_warn_percent: 80,
            copy_to_region: None,
            copy_kms_key_id: None,
        }
    }
}

/// How scheduled snapshots are kept, verified and copied.
#[derive(Debug, Clone, PartialEq)]
pub struct SnapshotPolicy {
    pub keep: Keep,
    pub max_deletions: usize,
    /// A snapshot still `creating` after this long is announced.
    pub stuck_after: Duration,
    pub quota_warn_percent: u32,
    /// Disaster-recovery copy: the region, and optionally a KMS key there.
    pub copy_to_region: Option<String>,
    pub copy_kms_key_id: Option<String>,
}

pub(super) fn validate(rs: Raw, fields: &Fields) -> Result<SnapshotPolicy, PolicyError> {
    let keep = keep_rules(
        Keep {
            last: rs.keep_last,
            hourly: rs.keep_hourly,
            daily: rs.keep_daily,
            weekly: rs.keep_weekly,
            monthly: rs.keep_monthly,
            yearly: rs.keep_yearly,
            within: None,
        },
        rs.keep_within.as_deref(),
        "snapshots",
        fields,
    )?;
    if rs.max_deletions == 0 {
        return Err(fields.invalid("snapshots.max_deletions", "must be at least 1"));
    }
    if !(1..=100).contains(&rs.quota_warn_percent) {
        return Err(fields.invalid(
            "snapshots.quota_warn_percent",
            format!("{} is not within 1..=100", rs.quota_warn_percent),
        ));
    }
    let stuck_after = duration::parse(fields, "snapshots.stuck_after", &rs.stuck_after)?;
    if rs.copy_kms_key_id.is_some() && rs.copy_to_region.is_none() {
        return Err(fields.invalid("snapshots.copy_kms_key_id", "needs copy_to_region"));
    }
    Ok(SnapshotPolicy {
        keep,
        max_deletions: rs.max_deletions,
        stuck_after,
        quota_warn_percent: rs.quota_warn_percent,
        copy_to_region: rs.copy_to_region,
        copy_kms_key_id: rs.copy_kms_key_id,
    })
}

/// A section's `keep_*` rules, checked the way restic checks them: `within` parsed, and at least
/// one rule that keeps something (restic refuses an empty policy too: it would delete every copy
/// but the newest).
pub(super) fn keep_rules(
    mut keep: Keep,
    within: Option<&str>,
    section: &str,
    fields: &Fields,
) -> Result<Keep, PolicyError> {
    if let Some(w) = within {
        keep.within = Some(
            Within::parse(w).map_err(|e| fields.invalid(&format!("{section}.keep_within"), e))?,
        );
    }
    let nothing = Keep {
        last: 0,
        hourly: 0,
        daily: 0,
        weekly: 0,
        monthly: 0,
        yearly: 0,
        within: None,
    };
    if keep == nothing {
        return Err(fields.invalid(
            section,
            "every keep_* is 0: at least one must keep something",
        ));
    }
    Ok(keep)
}
