//! The Lambda entry point every function shares: configuration and clients once per cold start,
//! then each event handed to the job.

use std::future::Future;

use lambda_runtime::{service_fn, Error, LambdaEvent};
use serde_json::Value;

use crate::config::ConfigError;
use crate::remediate::Invocation;

/// A job a Lambda function runs.
pub trait Job: Sized + Send + Sync {
    /// The function's name, for its error messages.
    const NAME: &'static str;
    type Error: std::error::Error + Send + Sync + 'static;

    fn from_env() -> impl Future<Output = Result<Self, ConfigError>> + Send;
    fn handle(
        &self,
        payload: &Value,
        inv: &Invocation,
        dry_run: bool,
    ) -> impl Future<Output = Result<Value, Self::Error>> + Send;
}

/// Runs `J` under the Lambda Runtime API until the process is stopped.
pub async fn serve<J: Job>() -> Result<(), Error> {
    crate::telemetry::init();
    let job = match J::from_env().await {
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
