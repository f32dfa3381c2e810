//! The drill's record and its decisions (pure): which snapshot, what a restore's state means,
//! whether the restored instance is what was backed up, and the verdict.

use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::model::{Instance, SnapInfo, SnapshotFacts};

/// The tag every drill instance carries: what finds one left behind by a crashed run.
pub const DRILL_TAG: (&str, &str) = ("axiom-ops:drill", "true");

/// Statuses from which a restore never becomes available.
pub const DEAD: &[&str] = &[
    "failed",
    "incompatible-restore",
    "incompatible-parameters",
    "incompatible-network",
    "storage-full",
    "deleting",
];

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Phase {
    Restoring,
    Checking,
    Deleting,
    Done,
}

impl Phase {
    pub fn as_str(self) -> &'static str {
        match self {
            Phase::Restoring => "restoring",
            Phase::Checking => "checking",
            Phase::Deleting => "deleting",
            Phase::Done => "done",
        }
    }
}

/// One check of the drill, said in the notice.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Check {
    pub name: String,
    pub passed: bool,
    pub detail: String,
}

/// A drill's progress, kept in the ledger (`drill` / `<YYYYMMDD>`) between steps.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Drill {
    pub date: String,
    pub database: String,
    pub instance: String,
    pub snapshot: String,
    pub engine: String,
    pub engine_version: String,
    /// The region restored in (the DR region when snapshots are copied there).
    pub region: Option<String>,
    pub phase: Phase,
    pub started_at: DateTime<Utc>,
    pub available_at: Option<DateTime<Utc>>,
    pub rto_seconds: Option<i64>,
    pub rto_target_seconds: i64,
    pub checks: Vec<Check>,
    /// Why the drill failed, once it has.
    pub error: Option<String>,
    /// Drill instances of earlier runs found and deleted.
    pub leftovers_deleted: Vec<String>,
    /// The verdict was recorded and announced.
    #[serde(default)]
    pub announced: bool,
}

impl Drill {
    pub fn passed(&self) -> bool {
        self.error.is_none()
            && self.checks.iter().all(|c| c.passed)
            && self
                .rto_seconds
                .is_some_and(|rto| rto <= self.rto_target_seconds)
    }
}

/// `<db>-drill-YYYYMMDD`, cut so it stays a valid instance id (63 characters).
pub fn instance_id(db: &str, date: &str) -> String {
    let suffix = format!("-drill-{date}");
    let keep = 63usize.saturating_sub(suffix.len());
    let base: String = db.chars().take(keep).collect();
    format!("{}{suffix}", base.trim_end_matches('-'))
}

/// The newest available snapshot: what a restore in an emergency would use.
pub fn newest_available(snaps: &[SnapInfo]) -> Option<&SnapInfo> {
    snaps
        .iter()
        .filter(|s| s.status == "available")
        .filter(|s| s.created.is_some())
        .max_by(|a, b| a.created.cmp(&b.created).then_with(|| a.id.cmp(&b.id)))
}

/// A drill's instance of `db`: named `<db>-drill-YYYYMMDD` *and* tagged as a drill. Nothing
/// else is ever deleted by the drill.
pub fn is_drill(db: &str, i: &Instance) -> bool {
    let named =
        i.id.strip_prefix(&instance_id(db, ""))
            .is_some_and(|date| date.len() == 8 && date.bytes().all(|b| b.is_ascii_digit()));
    named && i.tag(DRILL_TAG.0) == Some(DRILL_TAG.1)
}

/// Drill instances of `db` other than today's: left behind by a run that crashed.
pub fn leftovers<'a>(tagged: &'a [Instance], db: &str, today: &str) -> Vec<&'a str> {
    tagged
        .iter()
        .filter(|i| i.id != today && is_drill(db, i))
        .map(|i| i.id.as_str())
        .collect()
}

/// What a restoring instance's state means for the drill.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Restoring {
    Wait,
    Available { rto_seconds: i64 },
    Failed(String),
}

pub fn restoring(
    instance: Option<&Instance>,
    started: DateTime<Utc>,
    now: DateTime<Utc>,
    give_up_after: Duration,
) -> Restoring {
    let waited = (now - started).num_seconds().max(0);
    let too_long = waited as u64 > give_up_after.as_secs();
    match instance {
        Some(i) if i.status == "available" => Restoring::Available {
            rto_seconds: waited,
        },
        Some(i) if DEAD.contains(&i.status.as_str()) => {
            Restoring::Failed(format!("the restored instance is {}", i.status))
        }
        // RDS lists a restore at once; none after minutes means it was never started.
        None if waited > 600 => Restoring::Failed("the restore never showed up in RDS".into()),
        _ if too_long => Restoring::Failed(format!(
            "not available after {}",
            humantime::format_duration(give_up_after)
        )),
        _ => Restoring::Wait,
    }
}

/// The restored instance is what was backed up, and no more reachable than it should be.
pub fn check_instance(snapshot: &SnapshotFacts, i: &Instance) -> Vec<Check> {
    let check = |name: &str, passed: bool, detail: String| Check {
        name: name.to_owned(),
        passed,
        detail,
    };
    vec![
        check(
            "engine",
            i.engine == snapshot.engine,
            format!("{} (snapshot: {})", i.engine, snapshot.engine),
        ),
        check(
            "engine version",
            i.engine_version == snapshot.engine_version,
            format!(
                "{} (snapshot: {})",
                i.engine_version, snapshot.engine_version
            ),
        ),
        check("status", i.status == "available", i.status.clone()),
        check(
            "not publicly accessible",
            !i.publicly_accessible,
            if i.publicly_accessible {
                "it is".into()
            } else {
                "it is not".into()
            },
        ),
    ]
}

/// `12m 3s`.
pub fn human(seconds: i64) -> String {
    let s = seconds.max(0) as u64;
    humantime::format_duration(Duration::from_secs(s)).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn t(min: i64) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 12, 13, 4, 0, 0)
            .single()
            .expect("valid")
            + chrono::Duration::minutes(min)
    }

    fn inst(id: &str, status: &str) -> Instance {
        Instance {
            id: id.into(),
            status: status.into(),
            engine: "postgres".into(),
            engine_version: "15.4".into(),
            tags: vec![(DRILL_TAG.0.into(), DRILL_TAG.1.into())],
            ..Instance::default()
        }
    }

    #[test]
    fn ids_are_valid_rds_identifiers() {
        assert_eq!(
            instance_id("axiomcore-production", "20261213"),
            "axiomcore-production-drill-20261213"
        );
        let long = instance_id(&"a".repeat(80), "20261213");
        assert_eq!(long.len(), 63);
        assert!(crate::backup::restore::valid_instance_id(&long).is_ok());
    }

    #[test]
    fn a_restore_waits_then_is_measured_or_fails() {
        let h3 = Duration::from_secs(3 * 3600);
        assert_eq!(
            restoring(Some(&inst("d", "creating")), t(0), t(5), h3),
            Restoring::Wait
        );
        assert_eq!(
            restoring(Some(&inst("d", "available")), t(0), t(12), h3),
            Restoring::Available { rto_seconds: 720 }
        );
        assert!(matches!(
            restoring(Some(&inst("d", "incompatible-restore")), t(0), t(5), h3),
            Restoring::Failed(_)
        ));
        assert!(matches!(
            restoring(Some(&inst("d", "creating")), t(0), t(181), h3),
            Restoring::Failed(w) if w.contains("3h")
        ));
        assert_eq!(restoring(None, t(0), t(2), h3), Restoring::Wait);
        assert!(matches!(
            restoring(None, t(0), t(11), h3),
            Restoring::Failed(_)
        ));
    }

    #[test]
    fn the_newest_available_snapshot_is_restored_and_leftovers_found() {
        let snap = |id: &str, status: &str, min| SnapInfo {
            id: id.into(),
            arn: None,
            created: Some(t(min)),
            status: status.into(),
        };
        let snaps = [
            snap("a", "available", 0),
            snap("b", "available", 10),
            snap("c", "creating", 20),
        ];
        assert_eq!(newest_available(&snaps).map(|s| s.id.as_str()), Some("b"));
        assert_eq!(newest_available(&[]), None);
        let mut other = inst("someone", "available");
        other.tags.clear();
        let tagged = [
            inst("db-drill-20261108", "available"),
            inst("db-drill-20261213", "creating"),
            other,
            // Tagged, but not a drill's name: never touched.
            inst("db-prod-copy", "available"),
            inst("db-drill-2026", "available"),
        ];
        assert_eq!(
            leftovers(&tagged, "db", "db-drill-20261213"),
            ["db-drill-20261108"]
        );
    }

    #[test]
    fn checks_and_verdict() {
        let facts = SnapshotFacts {
            id: "s".into(),
            instance: "db".into(),
            engine: "postgres".into(),
            engine_version: "15.4".into(),
            status: "available".into(),
            created: None,
        };
        let ok = check_instance(&facts, &inst("d", "available"));
        assert!(ok.iter().all(|c| c.passed), "{ok:?}");
        let mut other = inst("d", "available");
        other.engine_version = "16.1".into();
        other.publicly_accessible = true;
        let bad = check_instance(&facts, &other);
        assert_eq!(bad.iter().filter(|c| !c.passed).count(), 2, "{bad:?}");

        let mut d = Drill {
            date: "20261213".into(),
            database: "db".into(),
            instance: "db-drill-20261213".into(),
            snapshot: "s".into(),
            engine: "postgres".into(),
            engine_version: "15.4".into(),
            region: None,
            phase: Phase::Done,
            started_at: t(0),
            available_at: Some(t(12)),
            rto_seconds: Some(720),
            rto_target_seconds: 3600,
            checks: ok,
            error: None,
            leftovers_deleted: vec![],
            announced: false,
        };
        assert!(d.passed());
        d.rto_seconds = Some(3601);
        assert!(!d.passed(), "over target");
        d.rto_seconds = Some(60);
        d.checks = bad;
        assert!(!d.passed(), "a failed check");
        d.checks.clear();
        d.error = Some("x".into());
        assert!(!d.passed());
        d.error = None;
        d.rto_seconds = None;
        assert!(!d.passed(), "never measured");
        assert_eq!(human(723), "12m 3s");
    }
}
