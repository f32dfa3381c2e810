//! `[ecs]`: the cluster, the services axiom-ops may touch (the allowlist) with their desired-count
//! bounds, and the alarm-name prefix that names a service.

use serde::{Deserialize, Serialize};

use super::{Fields, PolicyError};

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct Raw {
    cluster: String,
    #[serde(default = "default_prefix")]
    alarm_prefix: String,
    services: Vec<ServiceBounds>,
}

fn default_prefix() -> String {
    "axiomcore-".to_owned()
}

/// A service the policy allows axiom-ops to touch, with its desired-count bounds.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ServiceBounds {
    pub name: String,
    pub min: i32,
    pub max: i32,
    /// Where its ERROR lines are read (default `/aws/ecs/axiomcore/<name>`, the guide's).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub log_group: Option<String>,
}

/// The validated section.
pub(super) struct Ecs {
    pub cluster: String,
    pub alarm_prefix: String,
    pub services: Vec<ServiceBounds>,
}

pub(super) fn validate(raw: Raw, fields: &Fields) -> Result<Ecs, PolicyError> {
    if raw.cluster.trim().is_empty() {
        return Err(fields.invalid("ecs.cluster", "must not be empty"));
    }
    if raw.services.is_empty() {
        return Err(fields.invalid(
            "ecs.services",
            "list at least one service: nothing outside it is ever touched",
        ));
    }
    for (i, s) in raw.services.iter().enumerate() {
        let field = format!("ecs.services[{i}] ({})", s.name);
        if s.name.trim().is_empty() {
            return Err(fields.invalid(&field, "name must not be empty"));
        }
        if s.min < 0 {
            return Err(fields.invalid(&field, format!("min {} is negative", s.min)));
        }
        if s.max < s.min {
            return Err(fields.invalid(&field, format!("max {} is below min {}", s.max, s.min)));
        }
        if raw.services[..i].iter().any(|o| o.name == s.name) {
            return Err(fields.invalid(&field, "listed twice"));
        }
    }
    Ok(Ecs {
        cluster: raw.cluster,
        alarm_prefix: raw.alarm_prefix,
        services: raw.services,
    })
}
