//! Which ECS service an alarm is about, and whether the policy lets us touch it.

use super::alarm::AlarmTransition;
use crate::model::Target;
use crate::policy::{Policy, ServiceBounds};

#[derive(Debug, Clone, PartialEq)]
pub enum Resolution<'p> {
    /// Allowlisted: may be acted on within these bounds.
    Allowed(Target, &'p ServiceBounds),
    /// Named, but not in the allowlist: never touched.
    NotAllowed(Target),
    /// Named by an event the policy does not trust to name it (why): never touched.
    Untrusted(Target, String),
    /// Neither ECS dimensions nor an alarm name of the policy's form.
    Unknown,
}

impl Resolution<'_> {
    pub fn target(&self) -> Option<&Target> {
        match self {
            Resolution::Allowed(t, _) | Resolution::NotAllowed(t) | Resolution::Untrusted(t, _) => {
                Some(t)
            }
            Resolution::Unknown => None,
        }
    }
}

/// ECS `ClusterName`/`ServiceName` dimensions when the alarm has them, else the `<service>` part
/// of `<prefix><service>-<signal>-<level>` in the policy's cluster.
///
/// Dimensions are believed only on an alarm whose name carries the policy's prefix (anyone may
/// create `billing-down-critical` on api's metrics), and a `ClusterName` of another cluster is
/// never the policy's, whatever else the event says.
pub fn resolve<'p>(alarm: &AlarmTransition, policy: &'p Policy) -> Resolution<'p> {
    let by_name = service_from_name(&alarm.alarm_name, &policy.alarm_prefix);
    let dims = &alarm.dimensions;
    if let Some(cluster) = dims.get("ClusterName").filter(|c| **c != policy.cluster) {
        let service = dims
            .get("ServiceName")
            .cloned()
            .or(by_name)
            .unwrap_or_default();
        return Resolution::Untrusted(
            Target::new(cluster.clone(), service),
            format!(
                "its ClusterName is {cluster}, not the policy's {}",
                policy.cluster
            ),
        );
    }
    let target = match dims.get("ServiceName") {
        Some(service) if !alarm.alarm_name.starts_with(&policy.alarm_prefix) => {
            return Resolution::Untrusted(
                Target::new(policy.cluster.clone(), service.clone()),
                format!(
                    "{} does not carry the policy's prefix `{}`, so its dimensions are not believed",
                    alarm.alarm_name, policy.alarm_prefix
                ),
            );
        }
        Some(service) => Some(Target::new(policy.cluster.clone(), service.clone())),
        None => by_name.map(|s| Target::new(policy.cluster.clone(), s)),
    };
    match target {
        None => Resolution::Unknown,
        Some(t) => match policy.service(&t.cluster, &t.service) {
            Some(bounds) => Resolution::Allowed(t, bounds),
            None => Resolution::NotAllowed(t),
        },
    }
}

/// `axiomcore-api-cpu-critical` → `api`; service names may themselves hold dashes.
pub fn service_from_name(alarm_name: &str, prefix: &str) -> Option<String> {
    let rest = alarm_name.strip_prefix(prefix)?;
    let mut parts = rest.rsplitn(3, '-');
    let level = parts.next()?;
    let _signal = parts.next()?;
    let service = parts.next()?;
    if !matches!(level, "critical" | "warning") || service.is_empty() {
        return None;
    }
    Some(service.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn service_part_of_alarm_names() {
        let p = "axiomcore-";
        assert_eq!(
            service_from_name("axiomcore-api-cpu-critical", p).as_deref(),
            Some("api")
        );
        assert_eq!(
            service_from_name("axiomcore-api-gw-down-warning", p).as_deref(),
            Some("api-gw")
        );
        assert_eq!(service_from_name("axiomcore-api-cpu-high", p), None);
        assert_eq!(service_from_name("other-api-cpu-critical", p), None);
        assert_eq!(service_from_name("axiomcore-cpu-critical", p), None);
    }
}
