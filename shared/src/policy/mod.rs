//! The policy: what may be touched, within which bounds, and what each job does.
//!
//! It is TOML, validated whole at cold start so a typo fails the deploy, not an incident. One file
//! per section, each next to the others here and named for the job it configures:
//! `ecs` (the allowlist), `remediation` (guards and rules), `snapshots`, `maintenance`,
//! `certificates`, `backup` (with `restore_drill`); durations
//! have one parser (`duration`).

mod backup;
mod certificates;
mod diagnosis;
pub mod duration;
mod ecs;
mod maintenance;
mod remediation;
mod snapshots;

use serde::Deserialize;

pub use backup::{BackupPolicy, DrillPolicy, ObjectSource};
pub use certificates::{CertificatePolicy, Endpoint};
pub use diagnosis::{DiagnosisPolicy, ScaleUp};
pub use ecs::ServiceBounds;
pub use maintenance::{MaintenancePolicy, MaintenanceTask};
pub use remediation::{Guards, Rule};
pub use snapshots::SnapshotPolicy;

use crate::model::Database;

/// The policy compiled into every function: the AxiomCore operations guide.
pub const BUILT_IN: &str = include_str!("../../policy/axiomcore.toml");

#[derive(Debug, thiserror::Error)]
pub enum PolicyError {
    #[error("cannot read policy file {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("policy {origin} is not valid TOML for a policy: {message}")]
    Syntax { origin: String, message: String },
    #[error("policy {origin}: {field}: {problem}")]
    Invalid {
        origin: String,
        field: String,
        problem: String,
    },
}

/// Names the policy file in every error a section reports.
pub(crate) struct Fields<'a> {
    origin: &'a str,
}

impl Fields<'_> {
    pub(crate) fn invalid(&self, field: &str, problem: impl Into<String>) -> PolicyError {
        PolicyError::Invalid {
            origin: self.origin.to_owned(),
            field: field.to_owned(),
            problem: problem.into(),
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPolicy {
    ecs: ecs::Raw,
    #[serde(default)]
    databases: Vec<Database>,
    #[serde(default)]
    guards: remediation::RawGuards,
    #[serde(default)]
    rules: Vec<remediation::RawRule>,
    #[serde(default)]
    snapshots: snapshots::Raw,
    #[serde(default)]
    maintenance: Option<maintenance::Raw>,
    #[serde(default)]
    certificates: certificates::Raw,
    #[serde(default)]
    diagnosis: diagnosis::Raw,
    #[serde(default)]
    backup: backup::Raw,
    #[serde(default)]
    restore_drill: backup::RawDrill,
}

/// A validated policy.
#[derive(Debug, Clone)]
pub struct Policy {
    pub cluster: String,
    pub alarm_prefix: String,
    pub services: Vec<ServiceBounds>,
    pub databases: Vec<Database>,
    pub guards: Guards,
    pub rules: Vec<Rule>,
    pub snapshots: SnapshotPolicy,
    pub maintenance: Option<MaintenancePolicy>,
    pub certificates: CertificatePolicy,
    pub diagnosis: DiagnosisPolicy,
    pub backup: BackupPolicy,
    pub restore_drill: DrillPolicy,
}

impl Policy {
    /// The built-in AxiomCore policy.
    pub fn built_in() -> Result<Policy, PolicyError> {
        Policy::from_toml(BUILT_IN, "(built-in)")
    }

    /// Reads the policy named by `OPS_POLICY_FILE`, or the built-in one when it is unset.
    pub fn load(path: Option<&str>) -> Result<Policy, PolicyError> {
        match path {
            None => Policy::built_in(),
            Some(path) => {
                let text = std::fs::read_to_string(path).map_err(|source| PolicyError::Read {
                    path: path.to_owned(),
                    source,
                })?;
                Policy::from_toml(&text, path)
            }
        }
    }

    pub fn from_toml(text: &str, origin: &str) -> Result<Policy, PolicyError> {
        let raw: RawPolicy = toml::from_str(text).map_err(|e| PolicyError::Syntax {
            origin: origin.to_owned(),
            message: e.to_string().trim().to_owned(),
        })?;
        let fields = Fields { origin };
        let ecs = ecs::validate(raw.ecs, &fields)?;
        let guards = remediation::guards(&raw.guards, &fields)?;
        let diagnosis = diagnosis::validate(raw.diagnosis, &fields)?;
        let rules = remediation::rules(&raw.rules, diagnosis.scale_up.is_some(), &fields)?;
        let snapshots = snapshots::validate(raw.snapshots, &fields)?;
        let maintenance = match raw.maintenance {
            None => None,
            Some(m) => {
                let services: Vec<&str> = ecs.services.iter().map(|s| s.name.as_str()).collect();
                Some(maintenance::validate(
                    m,
                    &services,
                    &raw.databases,
                    &fields,
                )?)
            }
        };
        let certificates = certificates::validate(raw.certificates, &fields)?;
        let backup = backup::validate(raw.backup, &fields)?;
        let restore_drill = backup::validate_drill(raw.restore_drill, &fields)?;
        Ok(Policy {
            backup,
            restore_drill,
            certificates,
            diagnosis,
            cluster: ecs.cluster,
            alarm_prefix: ecs.alarm_prefix,
            services: ecs.services,
            databases: raw.databases,
            guards,
            rules,
            snapshots,
            maintenance,
        })
    }

    /// The bounds of an allowlisted service, or `None` when it may not be touched.
    pub fn service(&self, cluster: &str, service: &str) -> Option<&ServiceBounds> {
        if cluster != self.cluster {
            return None;
        }
        self.services.iter().find(|s| s.name == service)
    }

    /// The log group whose ERROR lines are a service's evidence.
    pub fn log_group(&self, service: &str) -> String {
        self.services
            .iter()
            .find(|s| s.name == service)
            .and_then(|s| s.log_group.clone())
            .unwrap_or_else(|| format!("/aws/ecs/axiomcore/{service}"))
    }

    pub fn database(&self, id: &str) -> Option<&Database> {
        self.databases.iter().find(|d| d.id == id)
    }

    /// The first rule matching the alarm name. Without one, the alarm is only announced (SEV3).
    pub fn rule_for(&self, alarm_name: &str) -> Option<&Rule> {
        self.rules.iter().find(|r| r.matches(alarm_name))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Action, Severity};
    use std::time::Duration;

    #[test]
    fn built_in_policy_is_the_guide() {
        let p = Policy::built_in().expect("built-in policy parses");
        assert_eq!(p.cluster, "axiomcore-production");
        assert_eq!(
            p.service("axiomcore-production", "api")
                .map(|s| (s.min, s.max)),
            Some((2, 10))
        );
        assert_eq!(
            p.service("axiomcore-production", "frontend")
                .map(|s| (s.min, s.max)),
            Some((2, 6))
        );
        assert!(p.service("other-cluster", "api").is_none());
        assert!(p.service("axiomcore-production", "worker").is_none());
        let expect = [
            (
                "axiomcore-api-down-critical",
                (Action::Restart, 0),
                Severity::Sev1,
            ),
            (
                "axiomcore-api-errors-critical",
                (Action::Restart, 0),
                Severity::Sev2,
            ),
            (
                "axiomcore-api-memory-critical",
                (Action::Restart, 0),
                Severity::Sev2,
            ),
            (
                "axiomcore-api-latency-critical",
                (Action::ScaleOut, 2),
                Severity::Sev2,
            ),
            (
                "axiomcore-frontend-cpu-critical",
                (Action::ScaleOut, 2),
                Severity::Sev2,
            ),
            (
                "axiomcore-api-cert-critical",
                (Action::Notify, 0),
                Severity::Sev2,
            ),
            (
                "axiomcore-api-disk-warning",
                (Action::Notify, 0),
                Severity::Sev3,
            ),
            ("billing-spike", (Action::Notify, 0), Severity::Sev3),
        ];
        for (name, action, sev) in expect {
            let r = p.rule_for(name).expect("a rule matches");
            assert_eq!(
                ((r.action, r.scale_by), r.severity),
                (action, sev),
                "{name}"
            );
        }
        assert_eq!(p.guards.restart_cooldown, Duration::from_secs(600));
        assert_eq!(p.guards.scale_out_cooldown, Duration::from_secs(300));
        assert_eq!(p.guards.circuit_window, Duration::from_secs(3600));
    }

    fn err_of(text: &str) -> String {
        Policy::from_toml(text, "test.toml")
            .expect_err("must be rejected")
            .to_string()
    }

    const ECS: &str =
        "[ecs]\ncluster = \"c\"\n[[ecs.services]]\nname = \"api\"\nmin = 2\nmax = 4\n";

    #[test]
    fn invalid_policies_name_the_field() {
        assert!(err_of("").contains("ecs"));
        assert!(err_of("[ecs]\ncluster = \"c\"\nservices = []\n").contains("ecs.services"));
        assert!(err_of(&ECS.replace("max = 4", "max = 1")).contains("max 1 is below min 2"));
        assert!(
            err_of(&format!("{ECS}[guards]\nrestart_cooldown = \"soon\"\n"))
                .contains("guards.restart_cooldown")
        );
        assert!(err_of(&format!(
            "{ECS}[[rules]]\nalarm = \"*\"\naction = \"reboot\"\nseverity = \"SEV2\"\n"
        ))
        .contains("\"reboot\""));
        assert!(err_of(&format!(
            "{ECS}[[rules]]\nalarm = \"*\"\naction = \"scale_out\"\nseverity = \"SEV2\"\n"
        ))
        .contains("needs `by`"));
        assert!(err_of(&format!(
            "{ECS}[[rules]]\nalarm = \"*\"\naction = \"notify\"\nseverity = \"SEV9\"\n"
        ))
        .contains("SEV9"));
        assert!(err_of(&format!("{ECS}[typo]\nx = 1\n")).contains("typo"));
    }

    #[test]
    fn maintenance_tasks_parse_and_are_checked() {
        let p = Policy::built_in().expect("built-in");
        let m = p.maintenance.expect("the guide's window");
        assert_eq!(m.tasks.len(), 2);
        assert_eq!(m.duration, Duration::from_secs(4 * 3600));
        let with_task = BUILT_IN.replace(
            "[guards]",
            "[[maintenance.tasks]]\nkind = \"run-task\"\nname = \"migrations\"\ntask_definition = \"axiomcore-migrations\"\nsubnets = [\"subnet-1\"]\n\n[guards]",
        );
        let p = Policy::from_toml(&with_task, "t").expect("run-task parses");
        assert!(matches!(
            p.maintenance.as_ref().and_then(|m| m.tasks.last()),
            Some(MaintenanceTask::RunTask { name, spec }) if name == "migrations" && spec.launch_type == "FARGATE"
        ));
        let bad = BUILT_IN.replace("service = \"frontend\"", "service = \"worker\"");
        assert!(err_of(&bad).contains("worker"));
        let bad = BUILT_IN.replace("cutoff_before_end = \"30m\"", "cutoff_before_end = \"5h\"");
        assert!(err_of(&bad).contains("cutoff_before_end"));
    }

    #[test]
    fn missing_policy_file_is_named() {
        let e = Policy::load(Some("/nonexistent/policy.toml")).expect_err("missing file");
        assert!(e.to_string().contains("/nonexistent/policy.toml"));
    }
}
