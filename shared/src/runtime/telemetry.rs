//! Logs: JSON lines in Lambda (CloudWatch Logs Insights reads the fields), compact text elsewhere.

use tracing_subscriber::filter::{LevelFilter, Targets};
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;

pub fn init() {
    init_with("info");
}

/// With another default level (the CLI keeps its output to the results: `warn`).
///
/// The level comes from `AWS_LAMBDA_LOG_LEVEL` (Lambda's advanced logging controls), else
/// `RUST_LOG`, else `default_level`. Only levels are read: a `RUST_LOG` with per-target directives
/// (`info,axiom_ops=debug`) gets its most verbose level. (A full `EnvFilter` would link a regex
/// engine into every function for this one setting.)
pub fn init_with(default_level: &str) {
    install(default_level, LevelFilter::DEBUG, &[]);
}

/// The operator CLI's: warnings and errors; the metadata service's probing (for a region or
/// credentials it has not got) only with `RUST_LOG`: the CLI says what is missing in one line.
/// The SDK's other warnings (an AWS_ENDPOINT_URL it cannot parse, a broken profile) stay.
pub fn init_cli() {
    let asked = std::env::var_os("RUST_LOG").is_some();
    let quiet: &[&str] = if asked { &[] } else { &["aws_config::imds"] };
    install("warn", LevelFilter::DEBUG, quiet);
}

/// `wire`: the most the SDK and HTTP targets may log; `quiet`: targets held to errors.
fn install(default_level: &str, wire: LevelFilter, quiet: &[&str]) {
    let filter = ["AWS_LAMBDA_LOG_LEVEL", "RUST_LOG"]
        .iter()
        .find_map(|var| std::env::var(var).ok().and_then(|v| level_of(&v)))
        .or_else(|| level_of(default_level))
        .unwrap_or(LevelFilter::INFO);
    let in_lambda = std::env::var_os("AWS_LAMBDA_FUNCTION_NAME").is_some();
    // The SDK's and the HTTP stack's TRACE lines print requests whole: a KMS Encrypt's
    // plaintext, a secret put back. They stop at DEBUG, whatever the level asked for.
    let wire = filter.min(wire);
    let targets = Targets::new()
        .with_default(filter)
        .with_targets(WIRE.iter().map(|t| (*t, wire)))
        .with_targets(quiet.iter().map(|t| (*t, LevelFilter::ERROR)));
    let builder = tracing_subscriber::fmt()
        .with_max_level(filter)
        .with_writer(std::io::stderr)
        .with_target(false);
    // A second init (tests, the CLI running several jobs) keeps the first subscriber.
    let _ = if in_lambda {
        builder
            .json()
            .with_ansi(false)
            .with_current_span(false)
            .without_time()
            .finish()
            .with(targets)
            .try_init()
    } else {
        // Escape codes only for a person at a terminal, and never with NO_COLOR.
        use std::io::IsTerminal;
        let color = std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none();
        builder
            .compact()
            .with_ansi(color)
            .finish()
            .with(targets)
            .try_init()
    };
}

/// Log targets (prefixes) that may print what goes over the wire.
const WIRE: &[&str] = &[
    "aws_smithy",
    "aws_sdk",
    "aws_config",
    "hyper",
    "h2",
    "rustls",
];

/// The most verbose level named in `spec` (`warn`, `INFO`, `info,axiom_ops=debug`; Lambda's
/// `FATAL` is `error`), or `None` when it names none.
fn level_of(spec: &str) -> Option<LevelFilter> {
    spec.split(',')
        .filter_map(|d| {
            let level = d.rsplit('=').next()?.trim().to_ascii_lowercase();
            match level.as_str() {
                // tracing reads "" as `error`; an empty setting names no level.
                "" => None,
                "fatal" => Some(LevelFilter::ERROR),
                other => other.parse::<LevelFilter>().ok(),
            }
        })
        .max()
}

/// One CloudWatch Embedded Metric Format line: CloudWatch Logs turns it into metrics, no API call.
pub fn emf(namespace: &str, dimensions: &[(&str, &str)], metrics: &[(&str, f64, &str)]) -> String {
    let mut doc = serde_json::Map::new();
    let dims: Vec<&str> = dimensions.iter().map(|(k, _)| *k).collect();
    let defs: Vec<serde_json::Value> = metrics
        .iter()
        .map(|(name, _, unit)| serde_json::json!({ "Name": name, "Unit": unit }))
        .collect();
    doc.insert(
        "_aws".into(),
        serde_json::json!({
            "Timestamp": chrono::Utc::now().timestamp_millis(),
            "CloudWatchMetrics": [{ "Namespace": namespace, "Dimensions": [dims], "Metrics": defs }],
        }),
    );
    for (k, v) in dimensions {
        doc.insert((*k).into(), serde_json::Value::from(*v));
    }
    for (name, value, _) in metrics {
        doc.insert((*name).into(), serde_json::Value::from(*value));
    }
    serde_json::Value::Object(doc).to_string()
}

#[cfg(test)]
mod tests {
    use tracing_subscriber::filter::LevelFilter;

    #[test]
    fn log_levels_from_lambda_and_rust_log() {
        assert_eq!(super::level_of("WARN"), Some(LevelFilter::WARN));
        assert_eq!(super::level_of("FATAL"), Some(LevelFilter::ERROR));
        assert_eq!(
            super::level_of("info,axiom_ops=debug"),
            Some(LevelFilter::DEBUG)
        );
        assert_eq!(super::level_of("off"), Some(LevelFilter::OFF));
        assert_eq!(super::level_of("loud"), None);
        assert_eq!(super::level_of(""), None);
    }

    #[test]
    fn emf_lines_name_their_metrics_and_dimensions() {
        let line = super::emf(
            "AxiomOps",
            &[("Function", "snapshot")],
            &[("SnapshotsCreated", 1.0, "Count")],
        );
        let v: serde_json::Value = serde_json::from_str(&line).expect("json");
        assert_eq!(v["_aws"]["CloudWatchMetrics"][0]["Namespace"], "AxiomOps");
        assert_eq!(
            v["_aws"]["CloudWatchMetrics"][0]["Dimensions"][0][0],
            "Function"
        );
        assert_eq!(
            v["_aws"]["CloudWatchMetrics"][0]["Metrics"][0]["Name"],
            "SnapshotsCreated"
        );
        assert_eq!(v["Function"], "snapshot");
        assert_eq!(v["SnapshotsCreated"], 1.0);
    }
}
