//! What one run reports: a row per finding in the invocation's answer, and the EMF metric
//! `DaysToExpiry` per certificate, endpoint and database, for dashboards and alarms.

use serde_json::{json, Value};

use super::announce::Change;
use super::assess::Finding;
use super::trigger::Trigger;

pub fn change_name(c: &Change) -> &'static str {
    match c {
        Change::Quiet => "quiet",
        Change::Raised(_) => "raised",
        Change::Resolved => "resolved",
        Change::Eased => "eased",
    }
}

pub fn row(f: &Finding, change: &str) -> Value {
    json!({
        "target": f.target,
        "kind": f.kind,
        "days": f.days,
        "not_after": f.not_after.map(|t| t.to_rfc3339()),
        "severity": f.severity().map(|s| s.as_str()),
        "conditions": f.conditions.iter().map(|c| c.code.as_str()).collect::<Vec<_>>(),
        "change": change,
    })
}

pub fn trigger(t: &Trigger) -> Value {
    match t {
        Trigger::Schedule { time } => json!({ "kind": "schedule", "time": time.to_rfc3339() }),
        Trigger::Acm {
            certificate,
            time,
            days_said,
        } => json!({
            "kind": "acm",
            "certificate": certificate,
            "time": time.to_rfc3339(),
            "days_said": days_said,
        }),
    }
}

/// `DaysToExpiry` by `Certificate` (the ARN, the endpoint, the database): no API call, the log line
/// becomes the metric. Only in Lambda, whose log CloudWatch reads.
pub fn emit_metric(f: &Finding) {
    let Some(days) = f.days else {
        return;
    };
    if std::env::var_os("AWS_LAMBDA_FUNCTION_NAME").is_none() {
        return;
    }
    let line = crate::runtime::telemetry::emf(
        "AxiomOps",
        &[("Function", "certwatch"), ("Certificate", &f.target)],
        &[("DaysToExpiry", days as f64, "None")],
    );
    println!("{line}");
}
