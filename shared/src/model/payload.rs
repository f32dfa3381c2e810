//! The small facts every event parser needs: how to name what arrived when it is not what was
//! expected, and CloudWatch's timestamps in every written form.

use chrono::{DateTime, Utc};
use serde_json::Value;

/// Keys of a JSON object, for error messages that say what arrived.
pub fn keys_of(v: &Value) -> String {
    match v {
        Value::Object(m) => {
            let keys: Vec<&str> = m.keys().map(String::as_str).take(8).collect();
            format!("an object with keys [{}]", keys.join(", "))
        }
        Value::Array(_) => "an array".into(),
        Value::String(_) => "a string".into(),
        Value::Number(_) => "a number".into(),
        Value::Bool(_) => "a boolean".into(),
        Value::Null => "null".into(),
    }
}

/// CloudWatch writes `2019-10-02T17:04:40.985+0000`; EventBridge and SNS envelopes use RFC 3339.
pub fn parse_time(s: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(s)
        .or_else(|_| DateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S%.f%z"))
        .ok()
        .map(|t| t.with_timezone(&Utc))
}
