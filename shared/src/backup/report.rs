//! What one run did to one source: the invocation's answer, the ledger record, and the EMF
//! metrics a dashboard and an alarm on failed backups watch.

use serde::Serialize;

/// What happened to one source in one run.
#[derive(Debug, Clone, Default, Serialize)]
pub struct SourceReport {
    /// `config` or `secret`.
    pub kind: &'static str,
    pub source: String,
    /// `stored`, `unchanged`, `would_store` (a dry run), `duplicate` (the tick again), `failed`.
    pub outcome: &'static str,
    /// The backup's key: the new one, or the one that already holds this version.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub backup: Option<String>,
    /// How an unchanged source was known to be: `version id`, `ETag` or `HMAC`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unchanged_by: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version_id: Option<String>,
    /// An object's SHA-256 (hex), checked against the copy's.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sha256: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bytes: Option<i64>,
    /// A secret's encryption: `kms` or `envelope-aes-256-gcm`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scheme: Option<&'static str>,
    pub deleted: Vec<String>,
    pub deferred: usize,
    pub kept: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    pub dry_run: bool,
}

impl SourceReport {
    pub fn new(kind: &'static str, source: &str) -> SourceReport {
        SourceReport {
            kind,
            source: source.to_owned(),
            ..SourceReport::default()
        }
    }

    pub fn duplicate(kind: &'static str, source: &str) -> SourceReport {
        SourceReport {
            outcome: "duplicate",
            ..SourceReport::new(kind, source)
        }
    }

    pub fn failed(kind: &'static str, source: &str, why: &str) -> SourceReport {
        SourceReport {
            outcome: "failed",
            error: Some(why.to_owned()),
            ..SourceReport::new(kind, source)
        }
    }
}

/// Success is not announced: it is a CloudWatch metric (EMF); failures are both.
pub fn emit_metrics(r: &SourceReport) {
    // Only Lambda's log is read for EMF; elsewhere (the CLI, tests) the line would be noise.
    if std::env::var_os("AWS_LAMBDA_FUNCTION_NAME").is_none() {
        return;
    }
    let count = |o: &str| if r.outcome == o { 1.0 } else { 0.0 };
    let line = crate::runtime::telemetry::emf(
        "AxiomOps",
        &[("Function", "backup"), ("Source", &r.source)],
        &[
            ("BackupsStored", count("stored"), "Count"),
            ("BackupsUnchanged", count("unchanged"), "Count"),
            ("BackupsFailed", count("failed"), "Count"),
            ("BackupsDeleted", r.deleted.len() as f64, "Count"),
        ],
    );
    println!("{line}");
}
