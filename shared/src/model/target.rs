//! An ECS service, named as `cluster/service` everywhere: ledger keys, notices, the CLI.

use std::fmt;

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Target {
    pub cluster: String,
    pub service: String,
}

impl Target {
    pub fn new(cluster: impl Into<String>, service: impl Into<String>) -> Target {
        Target {
            cluster: cluster.into(),
            service: service.into(),
        }
    }

    /// `cluster/service`, as the CLI takes it.
    pub fn parse(s: &str) -> Option<Target> {
        let (cluster, service) = s.split_once('/')?;
        if cluster.is_empty() || service.is_empty() || service.contains('/') {
            return None;
        }
        Some(Target::new(cluster, service))
    }
}

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.cluster, self.service)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn target_parses_from_cli_form() {
        assert_eq!(Target::parse("c/api"), Some(Target::new("c", "api")));
        assert_eq!(Target::parse("c"), None);
        assert_eq!(Target::parse("/api"), None);
        assert_eq!(Target::parse("c/a/b"), None);
    }
}
