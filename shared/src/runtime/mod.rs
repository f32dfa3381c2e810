//! The Lambda entry point every function shares: configuration and clients once per cold start,
//! then each event handed to the job. A job is a [`Job`]; a function's `main.rs` only names it.

#[cfg(feature = "audit")]
mod audit;
mod config;
mod invocation;
pub mod telemetry;

use std::future::Future;

use lambda_runtime::{service_fn, Error, LambdaEvent};
use serde_json::Value;

#[cfg(feature = "audit")]
pub use audit::Audit;
pub use config::{Config, ConfigError};
pub use invocation::Invocation;

/// A job a Lambda function runs: what it builds once per cold start, and how it handles an event.
pub trait Job: Sized + Send + Sync {
    /// The function's name, for its error messages.
    const NAME: &'static str;
    type Error: std::error::Error + Send + Sync + 'static;

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

/// `J` from the environment: `OPS_*` and the SDK's own settings.
pub async fn from_env<J: Job>() -> Result<J, ConfigError> {
    let config = Config::from_env()?;
    J::build(config, &crate::adapters::sdk::config().await)
}

/// Runs `J` under the Lambda Runtime API until the process is stopped.
pub async fn serve<J: Job>() -> Result<(), Error> {
    telemetry::init();
    let job = match from_env::<J>().await {
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
            let inv = Invocation::from_lambda(&event.context.request_id, event.context.deadline);
            job.handle(&event.payload, &inv, false)
                .await
                .map_err(Error::from)
        }
    }))
    .await
}
