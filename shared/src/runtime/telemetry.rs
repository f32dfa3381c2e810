//! Logs: JSON lines in Lambda (CloudWatch Logs Insights reads the fields), compact text elsewhere.

use std::collections::HashSet;
use std::sync::Mutex;

use tracing::field::{Field, Visit};
use tracing::{Event, Level, Subscriber};
use tracing_subscriber::filter::{LevelFilter, Targets};
use tracing_subscriber::fmt::format::{self, FormatEvent, FormatFields};
use tracing_subscriber::fmt::FmtContext;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::registry::LookupSpan;
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
    install(default_level, LevelFilter::DEBUG, &[], false);
}

/// The operator CLI's: warnings and errors; the metadata service's probing (for a region or
/// credentials it has not got) only with `RUST_LOG`: the CLI says what is missing in one line.
/// The SDK's other warnings (an AWS_ENDPOINT_URL it cannot parse, a broken profile) stay.
/// Unless `RUST_LOG` asks for a developer's log, a line is worded for a person (`axiom-ops:
/// warning: …`, its fields on lines of their own, no time) and a repeated one is said once.
pub fn init_cli() {
    let asked = std::env::var_os("RUST_LOG").is_some();
    let quiet: &[&str] = if asked { &[] } else { &["aws_config::imds"] };
    install("warn", LevelFilter::DEBUG, quiet, !asked);
}

/// `wire`: the most the SDK and HTTP targets may log; `quiet`: targets held to errors;
/// `person`: the CLI's wording (`PersonFormat`) instead of a log line.
fn install(default_level: &str, wire: LevelFilter, quiet: &[&str], person: bool) {
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
    } else if person {
        builder
            .event_format(PersonFormat::default())
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

/// `axiom-ops: warning: <message>` and each field on a line of its own; a line said already
/// (the same warning from every one of a loop's runs) is not said again.
#[derive(Default)]
struct PersonFormat {
    said: Mutex<HashSet<String>>,
}

impl<S, N> FormatEvent<S, N> for PersonFormat
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    N: for<'a> FormatFields<'a> + 'static,
{
    fn format_event(
        &self,
        _: &FmtContext<'_, S, N>,
        mut writer: format::Writer<'_>,
        event: &Event<'_>,
    ) -> std::fmt::Result {
        let level = match *event.metadata().level() {
            Level::ERROR => "error",
            Level::WARN => "warning",
            Level::INFO => "info",
            Level::DEBUG => "debug",
            Level::TRACE => "trace",
        };
        let mut fields = Fields::default();
        event.record(&mut fields);
        let mut text = format!("axiom-ops: {level}: {}\n", fields.message);
        for (name, value) in &fields.others {
            text.push_str(&format!("  {name}: {value}\n"));
        }
        let first = self
            .said
            .lock()
            .map(|mut said| said.insert(text.clone()))
            .unwrap_or(true);
        if first {
            writer.write_str(&text)?;
        }
        Ok(())
    }
}

#[derive(Default)]
struct Fields {
    message: String,
    others: Vec<(&'static str, String)>,
}

impl Visit for Fields {
    fn record_str(&mut self, field: &Field, value: &str) {
        match field.name() {
            "message" => self.message = value.to_owned(),
            name => self.others.push((name, value.to_owned())),
        }
    }

    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        match field.name() {
            "message" => self.message = format!("{value:?}"),
            name => self.others.push((name, format!("{value:?}"))),
        }
    }
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
    fn a_person_reads_a_warning_once_with_its_fields_on_their_own_lines() {
        use std::sync::{Arc, Mutex};
        #[derive(Clone, Default)]
        struct Sink(Arc<Mutex<Vec<u8>>>);
        impl std::io::Write for Sink {
            fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
                self.0
                    .lock()
                    .map_err(|_| std::io::Error::other("poisoned"))?
                    .extend_from_slice(b);
                Ok(b.len())
            }
            fn flush(&mut self) -> std::io::Result<()> {
                Ok(())
            }
        }
        let sink = Sink::default();
        let writer = sink.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_writer(move || writer.clone())
            .event_format(super::PersonFormat::default())
            .finish();
        tracing::subscriber::with_default(subscriber, || {
            for _ in 0..3 {
                tracing::warn!(error = %"HTTP 500", "the quota cannot be read; carrying on");
            }
            tracing::error!("something else");
        });
        let text = String::from_utf8(sink.0.lock().map(|b| b.clone()).unwrap_or_default())
            .unwrap_or_default();
        assert_eq!(
            text,
            "axiom-ops: warning: the quota cannot be read; carrying on\n  error: HTTP 500\n\
             axiom-ops: error: something else\n"
        );
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
