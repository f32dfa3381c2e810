//! ECS as the jobs see it: a service's counts and deployments, and one-off tasks.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// What ECS says about the service right now.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ServiceStatus {
    pub desired: i32,
    pub running: i32,
    /// When the PRIMARY deployment was created: a restart made after `t` shows a later one.
    pub primary_since: Option<DateTime<Utc>>,
    /// Deployments in flight: one, with `running == desired`, is a steady state.
    pub deployments: usize,
    /// (MinCapacity, MaxCapacity) when Application Auto Scaling owns the count too.
    pub scaling: Option<(i32, i32)>,
    /// The PRIMARY deployment's task definition: a rollback or scale-up shows here once made.
    pub task_definition: Option<String>,
}

impl ServiceStatus {
    pub fn steady(&self) -> bool {
        self.deployments <= 1 && self.running == self.desired
    }
}

/// A finished (or not yet finished) one-off ECS task.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaskState {
    pub last_status: String,
    /// Every container's exit code, once it has one.
    pub exit_codes: Vec<Option<i32>>,
    pub reason: Option<String>,
}

impl TaskState {
    /// Finished when stopped, or when every container has exited (ECS sets the codes first).
    pub fn finished(&self) -> bool {
        self.last_status == "STOPPED"
            || (!self.exit_codes.is_empty() && self.exit_codes.iter().all(Option::is_some))
    }
}

/// How a one-off task is started (Fargate needs its network).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TaskSpec {
    pub task_definition: String,
    #[serde(default = "default_launch")]
    pub launch_type: String,
    #[serde(default)]
    pub subnets: Vec<String>,
    #[serde(default)]
    pub security_groups: Vec<String>,
}

fn default_launch() -> String {
    "FARGATE".into()
}
