//! The `snapshot` Lambda: configuration and clients are built once per cold start; each
//! scheduled tick is handed to the core.

use axiom_ops::remediate::Invocation;
use axiom_ops::snapshot::SnapshotApp;
use lambda_runtime::{service_fn, Error, LambdaEvent};
use serde_json::Value;

// One event at a time per process: one thread is all it needs, and starts faster.
#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    axiom_ops::telemetry::init();
    let app = match SnapshotApp::from_env().await {
        Ok(app) => app,
        Err(e) => {
            // Bad configuration fails the cold start, named, before any tick is taken.
            eprintln!("snapshot: configuration error: {e}");
            std::process::exit(2);
        }
    };
    lambda_runtime::run(service_fn(|event: LambdaEvent<Value>| {
        let app = &app;
        async move {
            let inv = Invocation::from_lambda(&event.context.request_id, event.context.deadline);
            app.handle(&event.payload, &inv, false)
                .await
                .map_err(Error::from)
        }
    }))
    .await
}
