//! The policy: what may be touched, within which bounds, and what each alarm asks for.
//!
//! It is TOML, validated whole at cold start so a typo fails the deploy, not an incident.

use std::fmt;
use std::time::Duration;

use glob::Pattern;
use serde::{Deserialize, Serialize};

use crate::retention::{Keep, Within};

/// No duration in a policy may exceed this: time arithmetic stays far from overflow.
const TEN_YEARS: Duration = Duration::from_secs(3650 * 86_400);

/// The policy compiled into every function: the AxiomCore operations guide.
pub const BUILT_IN: &str = include_str!("../policy/axiomcore.toml");

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

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Severity {
    #[serde(rename = "SEV1")]
    Sev1,
    #[serde(rename = "SEV2")]
    Sev2,
    #[serde(rename = "SEV3")]
    Sev3,
    #[serde(rename = "SEV4")]
    Sev4,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Sev1 => "SEV1",
            Severity::Sev2 => "SEV2",
            Severity::Sev3 => "SEV3",
            Severity::Sev4 => "SEV4",
        }
    }

    /// The more urgent of two severities (SEV1 is the most urgent).
    pub fn most_urgent(self, other: Severity) -> Severity {
        self.min(other)
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What a rule asks for when its alarm goes to ALARM.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum RuleAction {
    Restart,
    ScaleOut { by: i32 },
    Notify,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPolicy {
    ecs: RawEcs,
    #[serde(default)]
    databases: Vec<Database>,
    #[serde(default)]
    guards: RawGuards,
    #[serde(default)]
    rules: Vec<RawRule>,
    #[serde(default)]
    snapshots: RawSnapshots,
    #[serde(default)]
    maintenance: Option<RawMaintenance>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawMaintenance {
    parameter: String,
    health_url: String,
    #[serde(default = "default_health_attempts")]
    health_attempts: u32,
    #[serde(default = "default_health_interval")]
    health_interval: String,
    #[serde(default = "default_window")]
    duration: String,
    #[serde(default = "default_cutoff")]
    cutoff_before_end: String,
    #[serde(default = "default_monitor")]
    monitor: String,
    #[serde(default = "default_poll")]
    poll_interval: String,
    #[serde(default = "default_step_timeout")]
    step_timeout: String,
    database: String,
    #[serde(default = "default_scale_to")]
    scale_to: i32,
    #[serde(default)]
    tasks: Vec<MaintenanceTask>,
}

fn default_health_attempts() -> u32 {
    10
}
fn default_health_interval() -> String {
    "30s".into()
}
fn default_window() -> String {
    "4h".into()
}
fn default_cutoff() -> String {
    "30m".into()
}
fn default_monitor() -> String {
    "15m".into()
}
fn default_poll() -> String {
    "30s".into()
}
fn default_step_timeout() -> String {
    "45m".into()
}
fn default_scale_to() -> i32 {
    1
}

/// A maintenance task: `redeploy` a service (pick up patched images) or `run-task` (migrations).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(tag = "kind", rename_all = "kebab-case", deny_unknown_fields)]
pub enum MaintenanceTask {
    Redeploy {
        service: String,
    },
    RunTask {
        name: String,
        #[serde(flatten)]
        spec: crate::ports::TaskSpec,
    },
}

/// The monthly maintenance window.
#[derive(Debug, Clone, PartialEq)]
pub struct MaintenancePolicy {
    pub parameter: String,
    pub health_url: String,
    pub health_attempts: u32,
    pub health_interval: Duration,
    pub duration: Duration,
    pub cutoff_before_end: Duration,
    pub monitor: Duration,
    pub poll_interval: Duration,
    pub step_timeout: Duration,
    pub database: String,
    pub scale_to: i32,
    pub tasks: Vec<MaintenanceTask>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSnapshots {
    #[serde(default)]
    keep_last: u32,
    #[serde(default)]
    keep_hourly: u32,
    #[serde(default = "default_keep_daily")]
    keep_daily: u32,
    #[serde(default = "default_keep_weekly")]
    keep_weekly: u32,
    #[serde(default = "default_keep_monthly")]
    keep_monthly: u32,
    #[serde(default)]
    keep_yearly: u32,
    #[serde(default)]
    keep_within: Option<String>,
    #[serde(default = "default_max_deletions")]
    max_deletions: usize,
    #[serde(default = "default_stuck_after")]
    stuck_after: String,
    #[serde(default = "default_quota_warn")]
    quota_warn_percent: u32,
    #[serde(default)]
    copy_to_region: Option<String>,
    #[serde(default)]
    copy_kms_key_id: Option<String>,
}

impl Default for RawSnapshots {
    fn default() -> Self {
        RawSnapshots {
            keep_last: 0,
            keep_hourly: 0,
            keep_daily: default_keep_daily(),
            keep_weekly: default_keep_weekly(),
            keep_monthly: default_keep_monthly(),
            keep_yearly: 0,
            keep_within: None,
            max_deletions: default_max_deletions(),
            stuck_after: default_stuck_after(),
            quota_warn_percent: default_quota_warn(),
            copy_to_region: None,
            copy_kms_key_id: None,
        }
    }
}

fn default_keep_daily() -> u32 {
    7
}
fn default_keep_weekly() -> u32 {
    4
}
fn default_keep_monthly() -> u32 {
    12
}
fn default_max_deletions() -> usize {
    50
}
fn default_stuck_after() -> String {
    "6h".into()
}
fn default_quota_warn() -> u32 {
    80
}

/// How scheduled snapshots are kept, verified and copied.
#[derive(Debug, Clone, PartialEq)]
pub struct SnapshotPolicy {
    pub keep: Keep,
    pub max_deletions: usize,
    /// A snapshot still `creating` after this long is announced.
    pub stuck_after: Duration,
    pub quota_warn_percent: u32,
    /// Disaster-recovery copy: the region, and optionally a KMS key there.
    pub copy_to_region: Option<String>,
    pub copy_kms_key_id: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawEcs {
    cluster: String,
    #[serde(default = "default_prefix")]
    alarm_prefix: String,
    services: Vec<ServiceBounds>,
}

fn default_prefix() -> String {
    "axiomcore-".to_owned()
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawGuards {
    #[serde(default = "default_restart_cooldown")]
    restart_cooldown: String,
    #[serde(default = "default_scale_out_cooldown")]
    scale_out_cooldown: String,
    #[serde(default = "default_circuit_max")]
    circuit_max_restarts: u32,
    #[serde(default = "default_circuit_window")]
    circuit_window: String,
}

impl Default for RawGuards {
    fn default() -> Self {
        RawGuards {
            restart_cooldown: default_restart_cooldown(),
            scale_out_cooldown: default_scale_out_cooldown(),
            circuit_max_restarts: default_circuit_max(),
            circuit_window: default_circuit_window(),
        }
    }
}

fn default_restart_cooldown() -> String {
    "10m".into()
}
fn default_scale_out_cooldown() -> String {
    "5m".into()
}
fn default_circuit_max() -> u32 {
    3
}
fn default_circuit_window() -> String {
    "60m".into()
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRule {
    alarm: String,
    action: String,
    #[serde(default)]
    by: Option<i32>,
    severity: Severity,
}

/// A service the policy allows axiom-ops to touch, with its desired-count bounds.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ServiceBounds {
    pub name: String,
    pub min: i32,
    pub max: i32,
}

/// A database the policy allows axiom-ops to snapshot.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Database {
    pub id: String,
    #[serde(default = "default_db_kind")]
    pub kind: String,
}

fn default_db_kind() -> String {
    "instance".into()
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Guards {
    pub restart_cooldown: Duration,
    pub scale_out_cooldown: Duration,
    pub circuit_max_restarts: u32,
    pub circuit_window: Duration,
}

#[derive(Debug, Clone)]
pub struct Rule {
    pub pattern: String,
    matcher: Pattern,
    pub action: RuleAction,
    pub severity: Severity,
}

impl Rule {
    pub fn matches(&self, alarm_name: &str) -> bool {
        self.matcher.matches(alarm_name)
    }
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
        let invalid = |field: String, problem: String| PolicyError::Invalid {
            origin: origin.to_owned(),
            field,
            problem,
        };

        if raw.ecs.cluster.trim().is_empty() {
            return Err(invalid("ecs.cluster".into(), "must not be empty".into()));
        }
        if raw.ecs.services.is_empty() {
            return Err(invalid(
                "ecs.services".into(),
                "list at least one service: nothing outside it is ever touched".into(),
            ));
        }
        for (i, s) in raw.ecs.services.iter().enumerate() {
            let field = format!("ecs.services[{i}] ({})", s.name);
            if s.name.trim().is_empty() {
                return Err(invalid(field, "name must not be empty".into()));
            }
            if s.min < 0 {
                return Err(invalid(field, format!("min {} is negative", s.min)));
            }
            if s.max < s.min {
                return Err(invalid(
                    field,
                    format!("max {} is below min {}", s.max, s.min),
                ));
            }
            if raw.ecs.services[..i].iter().any(|o| o.name == s.name) {
                return Err(invalid(field, "listed twice".into()));
            }
        }

        let duration = |field: &str, text: &str| -> Result<Duration, PolicyError> {
            let d = humantime::parse_duration(text).map_err(|e| {
                invalid(
                    format!("guards.{field}"),
                    format!("{text:?} is not a duration like \"10m\": {e}"),
                )
            })?;
            if d.is_zero() {
                return Err(invalid(
                    format!("guards.{field}"),
                    "must be longer than zero".into(),
                ));
            }
            if d > TEN_YEARS {
                return Err(invalid(
                    format!("guards.{field}"),
                    "must be at most ten years".into(),
                ));
            }
            Ok(d)
        };
        let guards = Guards {
            restart_cooldown: duration("restart_cooldown", &raw.guards.restart_cooldown)?,
            scale_out_cooldown: duration("scale_out_cooldown", &raw.guards.scale_out_cooldown)?,
            circuit_max_restarts: raw.guards.circuit_max_restarts,
            circuit_window: duration("circuit_window", &raw.guards.circuit_window)?,
        };
        if guards.circuit_max_restarts == 0 {
            return Err(invalid(
                "guards.circuit_max_restarts".into(),
                "must be at least 1".into(),
            ));
        }

        let mut rules = Vec::with_capacity(raw.rules.len());
        for (i, r) in raw.rules.iter().enumerate() {
            let field = format!("rules[{i}] ({})", r.alarm);
            // `glob` patterns match without compiling a regex: cheap at every cold start.
            let matcher = Pattern::new(&r.alarm)
                .map_err(|e| invalid(field.clone(), format!("bad alarm pattern: {e}")))?;
            let action = match (r.action.as_str(), r.by) {
                ("restart", None) => RuleAction::Restart,
                ("notify", None) => RuleAction::Notify,
                ("scale_out", Some(by)) if by >= 1 => RuleAction::ScaleOut { by },
                ("scale_out", Some(by)) => {
                    return Err(invalid(field, format!("by = {by}: must be at least 1")))
                }
                ("scale_out", None) => {
                    return Err(invalid(field, "scale_out needs `by`, e.g. by = 2".into()))
                }
                ("restart" | "notify", Some(_)) => {
                    return Err(invalid(field, "`by` only goes with scale_out".into()))
                }
                (other, _) => {
                    return Err(invalid(
                        field,
                        format!("action {other:?} is not one of restart, scale_out, notify"),
                    ))
                }
            };
            rules.push(Rule {
                pattern: r.alarm.clone(),
                matcher,
                action,
                severity: r.severity,
            });
        }

        for (i, d) in raw.databases.iter().enumerate() {
            if d.kind != "instance" && d.kind != "cluster" {
                return Err(invalid(
                    format!("databases[{i}] ({})", d.id),
                    format!("kind {:?} is not instance or cluster", d.kind),
                ));
            }
        }

        let rs = &raw.snapshots;
        let within = match &rs.keep_within {
            None => None,
            Some(w) => {
                Some(Within::parse(w).map_err(|e| invalid("snapshots.keep_within".into(), e))?)
            }
        };
        let keep = Keep {
            last: rs.keep_last,
            hourly: rs.keep_hourly,
            daily: rs.keep_daily,
            weekly: rs.keep_weekly,
            monthly: rs.keep_monthly,
            yearly: rs.keep_yearly,
            within,
        };
        if keep
            == (Keep {
                last: 0,
                hourly: 0,
                daily: 0,
                weekly: 0,
                monthly: 0,
                yearly: 0,
                within: None,
            })
        {
            // restic refuses an empty policy too: it would delete every snapshot but the newest.
            return Err(invalid(
                "snapshots".into(),
                "every keep_* is 0: at least one must keep something".into(),
            ));
        }
        if rs.max_deletions == 0 {
            return Err(invalid(
                "snapshots.max_deletions".into(),
                "must be at least 1".into(),
            ));
        }
        if !(1..=100).contains(&rs.quota_warn_percent) {
            return Err(invalid(
                "snapshots.quota_warn_percent".into(),
                format!("{} is not within 1..=100", rs.quota_warn_percent),
            ));
        }
        let stuck_after = humantime::parse_duration(&rs.stuck_after).map_err(|e| {
            invalid(
                "snapshots.stuck_after".into(),
                format!("{:?} is not a duration like \"6h\": {e}", rs.stuck_after),
            )
        })?;
        if rs.copy_kms_key_id.is_some() && rs.copy_to_region.is_none() {
            return Err(invalid(
                "snapshots.copy_kms_key_id".into(),
                "needs copy_to_region".into(),
            ));
        }
        let snapshots = SnapshotPolicy {
            keep,
            max_deletions: rs.max_deletions,
            stuck_after,
            quota_warn_percent: rs.quota_warn_percent,
            copy_to_region: rs.copy_to_region.clone(),
            copy_kms_key_id: rs.copy_kms_key_id.clone(),
        };

        let maintenance = match &raw.maintenance {
            None => None,
            Some(m) => {
                let d = |field: &str, text: &str| -> Result<Duration, PolicyError> {
                    humantime::parse_duration(text)
                        .ok()
                        .filter(|d| *d > TEN_YEARS)
                        .map_or(Ok(()), |_| {
                            Err(invalid(
                                format!("maintenance.{field}"),
                                "must be at most ten years".into(),
                            ))
                        })?;
                    humantime::parse_duration(text).map_err(|e| {
                        invalid(
                            format!("maintenance.{field}"),
                            format!("{text:?} is not a duration like \"30m\": {e}"),
                        )
                    })
                };
                let services: Vec<&str> =
                    raw.ecs.services.iter().map(|s| s.name.as_str()).collect();
                for (i, t) in m.tasks.iter().enumerate() {
                    if let MaintenanceTask::Redeploy { service } = t {
                        if !services.contains(&service.as_str()) {
                            return Err(invalid(
                                format!("maintenance.tasks[{i}]"),
                                format!("service {service:?} is not in ecs.services"),
                            ));
                        }
                    }
                }
                if !raw.databases.iter().any(|db| db.id == m.database) {
                    return Err(invalid(
                        "maintenance.database".into(),
                        format!("{:?} is not in databases", m.database),
                    ));
                }
                if !(m.health_url.starts_with("http://") || m.health_url.starts_with("https://")) {
                    return Err(invalid(
                        "maintenance.health_url".into(),
                        format!("{:?} is not an http(s) URL", m.health_url),
                    ));
                }
                let policy = MaintenancePolicy {
                    parameter: m.parameter.clone(),
                    health_url: m.health_url.clone(),
                    health_attempts: m.health_attempts.max(1),
                    health_interval: d("health_interval", &m.health_interval)?,
                    duration: d("duration", &m.duration)?,
                    cutoff_before_end: d("cutoff_before_end", &m.cutoff_before_end)?,
                    monitor: d("monitor", &m.monitor)?,
                    poll_interval: d("poll_interval", &m.poll_interval)?,
                    step_timeout: d("step_timeout", &m.step_timeout)?,
                    database: m.database.clone(),
                    scale_to: m.scale_to,
                    tasks: m.tasks.clone(),
                };
                if policy.cutoff_before_end >= policy.duration {
                    return Err(invalid(
                        "maintenance.cutoff_before_end".into(),
                        "must be shorter than duration".into(),
                    ));
                }
                if policy.scale_to < 0 {
                    return Err(invalid(
                        "maintenance.scale_to".into(),
                        "must not be negative".into(),
                    ));
                }
                Some(policy)
            }
        };

        Ok(Policy {
            maintenance,
            snapshots,
            cluster: raw.ecs.cluster,
            alarm_prefix: raw.ecs.alarm_prefix,
            services: raw.ecs.services,
            databases: raw.databases,
            guards,
            rules,
        })
    }

    /// The bounds of an allowlisted service, or `None` when it may not be touched.
    pub fn service(&self, cluster: &str, service: &str) -> Option<&ServiceBounds> {
        if cluster != self.cluster {
            return None;
        }
        self.services.iter().find(|s| s.name == service)
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
                RuleAction::Restart,
                Severity::Sev1,
            ),
            (
                "axiomcore-api-errors-critical",
                RuleAction::Restart,
                Severity::Sev2,
            ),
            (
                "axiomcore-api-memory-critical",
                RuleAction::Restart,
                Severity::Sev2,
            ),
            (
                "axiomcore-api-latency-critical",
                RuleAction::ScaleOut { by: 2 },
                Severity::Sev2,
            ),
            (
                "axiomcore-frontend-cpu-critical",
                RuleAction::ScaleOut { by: 2 },
                Severity::Sev2,
            ),
            (
                "axiomcore-api-cert-critical",
                RuleAction::Notify,
                Severity::Sev2,
            ),
            (
                "axiomcore-api-disk-warning",
                RuleAction::Notify,
                Severity::Sev3,
            ),
            ("billing-spike", RuleAction::Notify, Severity::Sev3),
        ];
        for (name, action, sev) in expect {
            let r = p.rule_for(name).expect("a rule matches");
            assert_eq!((r.action, r.severity), (action, sev), "{name}");
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
