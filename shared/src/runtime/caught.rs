//! What a Step Functions `Catch` adds to a state's input (`ResultPath: $.error`): the error
//! name and its cause, for the loops that drive `maintenance` and `drill`.

use serde::Deserialize;
use serde_json::Value;

use crate::model::{clip, printable};

/// A Step Functions error caught by a `Catch`: `{"Error": "...", "Cause": "..."}`.
#[derive(Debug, Default, Deserialize)]
pub struct Caught {
    #[serde(rename = "Error", default)]
    error: Option<String>,
    #[serde(rename = "Cause", default)]
    cause: Option<String>,
}

impl Caught {
    /// What failed, in a line: the error name and its cause (a Lambda error's cause is its own
    /// JSON `{"errorMessage": …}`; the message is what a human needs).
    pub fn said(&self) -> String {
        let cause = self.cause.as_deref().unwrap_or("");
        let message = serde_json::from_str::<Value>(cause)
            .ok()
            .and_then(|v| {
                v.get("errorMessage")
                    .and_then(Value::as_str)
                    .map(str::to_owned)
            })
            .unwrap_or_else(|| cause.to_owned());
        let said = match (self.error.as_deref(), message.is_empty()) {
            (Some(e), false) => format!("{e}: {message}"),
            (Some(e), true) => e.to_owned(),
            (None, _) => message,
        };
        clip(&printable(&said), 300)
    }
}
