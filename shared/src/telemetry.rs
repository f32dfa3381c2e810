//! Logs: JSON lines in Lambda (CloudWatch Logs Insights reads the fields), compact text elsewhere.

use tracing_subscriber::EnvFilter;

pub fn init() {
    init_with("info");
}

/// With another default level (the CLI keeps its output to the results: `warn`).
pub fn init_with(default_level: &str) {
    let filter = EnvFilter::try_from_env("AWS_LAMBDA_LOG_LEVEL")
        .or_else(|_| EnvFilter::try_from_default_env())
        .unwrap_or_else(|_| EnvFilter::new(default_level));
    let in_lambda = std::env::var_os("AWS_LAMBDA_FUNCTION_NAME").is_some();
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(false);
    // A second init (tests, the CLI running several jobs) keeps the first subscriber.
    let _ = if in_lambda {
        builder
            .json()
            .with_ansi(false)
            .with_current_span(false)
            .without_time()
            .try_init()
    } else {
        builder.compact().try_init()
    };
}
