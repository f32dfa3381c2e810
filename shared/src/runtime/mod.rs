//! The Lambda entry point every function shares: configuration and clients once per cold start,
//! then each event handed to the job. A job is a [`Job`]; a function's `main.rs` only names it.

#[cfg(feature = "audit")]
mod audit;
mod caught;
mod config;
mod invocation;
pub mod schedule;
pub mod stack;
pub mod telemetry;

use std::future::Future;

use lambda_runtime::{service_fn, Diagnostic, Error, LambdaEvent};
use serde_json::Value;

#[cfg(feature = "audit")]
pub use audit::Audit;
pub use caught::Caught;
pub use config::{Config, ConfigError};
pub use invocation::{Home, Invocation};

/// A job a Lambda function runs: what it builds once per cold start, and how it handles an event.
pub trait Job: Sized + Send + Sync {
    /// The function's name, for its error messages.
    const NAME: &'static str;
    type Error: Failure + Send + Sync + 'static;

    /// The job's clients over an SDK configuration (real AWS's, or the local emulator's).
    /// Anything the job cannot work without fails here, named, before any event is taken.
    fn build(config: Config, sdk: &aws_config::SdkConfig) -> Result<Self, ConfigError>;

    fn handle(
        &self,
        payload: &Value,
        inv: &Invocation,
        dry_run: bool,
    ) -> impl Future<Output = Result<Value, Self::Error>> + Send;
}

/// A job's error, named by its kind: Lambda reports the kind as the invocation's `errorType`
/// (what a DLQ message, a log filter or an alarm on `Errors` is read by).
pub trait Failure: std::error::Error {
    /// `ParseError`, `Contention`, `OutcomeUnknown`, …
    fn kind(&self) -> &'static str;
}

/// `J` from the environment, for the CLI: `OPS_*` and the SDK's default chains (profiles, SSO).
pub async fn from_env<J: Job>() -> Result<J, ConfigError> {
    let config = Config::from_env()?;
    J::build(config, &crate::adapters::sdk::config().await)
}

/// Runs `J` under the Lambda Runtime API until the process is stopped.
pub async fn serve<J: Job>() -> Result<(), Error> {
    telemetry::init();
    // Lambda's own environment alone (`lambda_config`): the CLI's `from_env` chains stay out.
    let built = Config::from_env().and_then(|config| {
        let sdk = crate::adapters::sdk::lambda_config().map_err(|var| ConfigError::Missing {
            var,
            why: "Lambda sets it (a local run must set it too)",
        })?;
        J::build(config, &sdk)
    });
    let job = match built {
        Ok(job) => job,
        Err(e) => {
            // Bad configuration fails the cold start, named, before any event is taken.
            eprintln!("{}: configuration error: {e}", J::NAME);
            std::process::exit(2);
        }
    };
    lambda_runtime::run(service_fn(|event: LambdaEvent<Value>| {
        let job = &job;
        async move {
            let ctx = &event.context;
            let inv =
                Invocation::from_lambda(&ctx.request_id, ctx.deadline, &ctx.invoked_function_arn);
            job.handle(&event.payload, &inv, false)
                .await
                .map_err(|e| Diagnostic {
                    error_type: e.kind().to_owned(),
                    error_message: e.to_string(),
                })
        }
    }))
    .await
}
