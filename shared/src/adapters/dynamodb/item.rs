//! Audit records as DynamoDB items: a flat JSON object's fields as attributes, and back.

use std::collections::HashMap;

use aws_sdk_dynamodb::types::AttributeValue;
use serde_json::{Map, Number, Value};

/// A flat JSON object as a DynamoDB item: strings, numbers and booleans as themselves, nulls left
/// out, anything nested as its JSON text.
pub fn to_item(v: &Value) -> HashMap<String, AttributeValue> {
    let mut out = HashMap::new();
    if let Value::Object(m) = v {
        for (k, v) in m {
            let av = match v {
                Value::Null => continue,
                Value::Bool(b) => AttributeValue::Bool(*b),
                Value::Number(x) => AttributeValue::N(x.to_string()),
                Value::String(x) => AttributeValue::S(x.clone()),
                other => AttributeValue::S(other.to_string()),
            };
            out.insert(k.clone(), av);
        }
    }
    out
}

pub fn from_item(item: &HashMap<String, AttributeValue>) -> Value {
    let mut m = Map::new();
    for (k, v) in item {
        let jv = match v {
            AttributeValue::S(x) => Value::String(x.clone()),
            AttributeValue::Bool(b) => Value::Bool(*b),
            AttributeValue::N(x) => x
                .parse::<i64>()
                .map(Value::from)
                .ok()
                .or_else(|| {
                    x.parse::<f64>()
                        .ok()
                        .and_then(Number::from_f64)
                        .map(Value::Number)
                })
                .unwrap_or_else(|| Value::String(x.clone())),
            _ => continue,
        };
        m.insert(k.clone(), jv);
    }
    Value::Object(m)
}
