//! What one run did to one database: the invocation's answer, the ledger record, and the EMF
//! metrics a dashboard and an alarm on "newest snapshot age" watch.

/// What happened to one database in one run.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct DbReport {
    pub database: String,
    pub snapshot: String,
    pub created: bool,
    pub duplicate: bool,
    pub deleted: Vec<String>,
    pub deferred: usize,
    pub kept: usize,
    pub dr_copy: Option<String>,
    pub dr_deleted: Vec<String>,
    pub newest_age_seconds: Option<i64>,
    pub warnings: Vec<String>,
    pub dry_run: bool,
}

/// Success is not announced: it is a CloudWatch metric (EMF), so a dashboard and an alarm on
/// "newest snapshot age" watch it instead of people.
pub fn emit_metrics(r: &DbReport) {
    // Only Lambda's log is read for EMF; elsewhere (the CLI, tests) the line would be noise.
    if std::env::var_os("AWS_LAMBDA_FUNCTION_NAME").is_none() {
        return;
    }
    let line = crate::runtime::telemetry::emf(
        "AxiomOps",
        &[("Function", "snapshot"), ("Database", &r.database)],
        &[
            (
                "SnapshotsCreated",
                if r.created { 1.0 } else { 0.0 },
                "Count",
            ),
            (
                "SnapshotsDeleted",
                (r.deleted.len() + r.dr_deleted.len()) as f64,
                "Count",
            ),
            ("SnapshotsDeferred", r.deferred as f64, "Count"),
            (
                "NewestSnapshotAgeSeconds",
                r.newest_age_seconds.unwrap_or(0) as f64,
                "Seconds",
            ),
        ],
    );
    println!("{line}");
}
