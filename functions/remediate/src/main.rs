//! The `remediate` Lambda: clients are built once per cold start; each invocation is handed to
//! the core.

use axiom_ops::remediate::{App, Invocation};
use lambda_runtime::{service_fn, Error, LambdaEvent};
use serde_json::Value;

#[tokio::main]
async fn main() -> Result<(), Error> {
    axiom_ops::telemetry::init();
    let app = App::from_env().await?;
    lambda_runtime::run(service_fn(|event: LambdaEvent<Value>| {
        let app = &app;
        async move {
            let inv = Invocation::from_lambda(&event.context.request_id, event.context.deadline);
            app.handle(&event.payload, &inv, false).await.map_err(Error::from)
        }
    }))
    .await
}
