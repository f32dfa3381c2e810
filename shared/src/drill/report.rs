//! The drill's EMF metrics: a dashboard shows the measured RTO month by month, and an alarm can
//! watch `DrillPassed`.

use super::plan::Drill;

pub fn emit_metrics(d: &Drill) {
    // Only Lambda's log is read for EMF; elsewhere (the CLI, tests) the line would be noise.
    if std::env::var_os("AWS_LAMBDA_FUNCTION_NAME").is_none() {
        return;
    }
    let line = crate::runtime::telemetry::emf(
        "AxiomOps",
        &[("Function", "drill"), ("Database", &d.database)],
        &[
            ("DrillPassed", if d.passed() { 1.0 } else { 0.0 }, "Count"),
            (
                "DrillRtoSeconds",
                d.rto_seconds.unwrap_or(0) as f64,
                "Seconds",
            ),
        ],
    );
    println!("{line}");
}
