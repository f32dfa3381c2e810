//! RDS as the jobs see it: a database of the policy (an instance or an Aurora cluster) and its
//! snapshots.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// Which snapshots are ours: this tag, and a name under `<db>-auto-`.
pub const MANAGED_TAG: (&str, &str) = ("managed-by", "axiom-ops");

/// RDS names the two kinds with different APIs; everything else about them is the same.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DbKind {
    #[default]
    Instance,
    /// An Aurora cluster.
    Cluster,
}

/// A database the policy allows axiom-ops to snapshot.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Database {
    pub id: String,
    #[serde(default)]
    pub kind: DbKind,
}

/// A database as RDS reports it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct DbState {
    pub status: String,
    pub arn: Option<String>,
    /// The CA its server certificate is signed by (`CACertificateIdentifier`); instances only.
    pub ca: Option<String>,
    /// When its server certificate expires (`CertificateDetails.ValidTill`), where RDS says.
    pub cert_valid_till: Option<DateTime<Utc>>,
}

/// A managed snapshot, reduced to what verification and retention need.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SnapInfo {
    pub id: String,
    pub arn: Option<String>,
    pub created: Option<DateTime<Utc>>,
    pub status: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Created {
    New,
    /// It was there already (the same tick delivered again).
    Existing,
}

/// A DB snapshot, as a restore needs to know it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SnapshotFacts {
    pub id: String,
    /// The instance it was taken of.
    pub instance: String,
    pub engine: String,
    pub engine_version: String,
    pub status: String,
    pub created: Option<DateTime<Utc>>,
}

/// A DB instance, as a restore and the drill watch it.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
pub struct Instance {
    pub id: String,
    pub status: String,
    pub engine: String,
    pub engine_version: String,
    /// `host:port`, once RDS has one.
    pub endpoint: Option<String>,
    pub publicly_accessible: bool,
    pub tags: Vec<(String, String)>,
    pub created: Option<DateTime<Utc>>,
}

impl Instance {
    pub fn tag(&self, key: &str) -> Option<&str> {
        self.tags
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }
}

/// Where and as what a snapshot is restored: never publicly accessible; in the named subnet
/// group and security groups (else RDS's defaults: the default VPC); of `class` (else the
/// snapshot's).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RestoreSpec {
    pub class: Option<String>,
    pub subnet_group: Option<String>,
    pub security_groups: Vec<String>,
    pub tags: Vec<(String, String)>,
}
