//! `[maintenance]`: the monthly window — the mode parameter, the health check, the timings, the
//! pre-maintenance snapshot and the tasks to run.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::{duration, Fields, PolicyError};
use crate::model::{Database, TaskSpec};

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct Raw {
    parameter: String,
    health_url: String,
    #[serde(default = "default_health_attempts")]
    health_attempts: u32,
    #[serde(default = "default_30s")]
    health_interval: String,
    #[serde(default = "default_window")]
    duration: String,
    #[serde(default = "default_cutoff")]
    cutoff_before_end: String,
    #[serde(default = "default_monitor")]
    monitor: String,
    #[serde(default = "default_30s")]
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
fn default_30s() -> String {
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
        spec: TaskSpec,
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

/// `services` and `databases` are the policy's allowlists: a task or the snapshot outside them
/// is refused here.
pub(super) fn validate(
    m: Raw,
    services: &[&str],
    databases: &[Database],
    fields: &Fields,
) -> Result<MaintenancePolicy, PolicyError> {
    let d =
        |field: &str, text: &str| duration::parse(fields, &format!("maintenance.{field}"), text);
    for (i, t) in m.tasks.iter().enumerate() {
        if let MaintenanceTask::Redeploy { service } = t {
            if !services.contains(&service.as_str()) {
                return Err(fields.invalid(
                    &format!("maintenance.tasks[{i}]"),
                    format!("service {service:?} is not in ecs.services"),
                ));
            }
        }
    }
    if !databases.iter().any(|db| db.id == m.database) {
        return Err(fields.invalid(
            "maintenance.database",
            format!("{:?} is not in databases", m.database),
        ));
    }
    if !(m.health_url.starts_with("http://") || m.health_url.starts_with("https://")) {
        return Err(fields.invalid(
            "maintenance.health_url",
            format!("{:?} is not an http(s) URL", m.health_url),
        ));
    }
    let policy = MaintenancePolicy {
        health_attempts: m.health_attempts.max(1),
        health_interval: d("health_interval", &m.health_interval)?,
        duration: d("duration", &m.duration)?,
        cutoff_before_end: d("cutoff_before_end", &m.cutoff_before_end)?,
        monitor: d("monitor", &m.monitor)?,
        poll_interval: d("poll_interval", &m.poll_interval)?,
        step_timeout: d("step_timeout", &m.step_timeout)?,
        parameter: m.parameter,
        health_url: m.health_url,
        database: m.database,
        scale_to: m.scale_to,
        tasks: m.tasks,
    };
    if policy.cutoff_before_end >= policy.duration {
        return Err(fields.invalid(
            "maintenance.cutoff_before_end",
            "must be shorter than duration",
        ));
    }
    if policy.scale_to < 0 {
        return Err(fields.invalid("maintenance.scale_to", "must not be negative"));
    }
    Ok(policy)
}
