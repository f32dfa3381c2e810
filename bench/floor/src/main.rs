//! The empty Lambda: answers `{}` to every event. Same runtime flavour as the real functions.

use lambda_runtime::{service_fn, Error, LambdaEvent};
use serde_json::Value;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    lambda_runtime::run(service_fn(|_: LambdaEvent<Value>| async {
        Ok::<Value, Error>(Value::Object(Default::default()))
    }))
    .await
}
