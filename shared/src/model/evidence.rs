//! What `remediate` reads about a failing service before it acts: the guide's troubleshooting
//! runbook ("check the service, check the tasks, read the recent logs, check the database") as
//! data. Free text in it (stop reasons, events, log lines) is redacted where it is read.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// One deployment of a service, as ECS lists them (newest first).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Deployment {
    pub id: String,
    /// `PRIMARY` (the newest), `ACTIVE` (an older one still running tasks).
    pub status: String,
    /// `COMPLETED`, `IN_PROGRESS` or `FAILED`, where ECS says.
    pub rollout: Option<String>,
    pub task_definition: String,
    pub created_at: Option<DateTime<Utc>>,
    pub failed_tasks: i32,
    pub desired: i32,
    pub running: i32,
}

/// A line of the service's event log ("service api was unable to place a task…").
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServiceEvent {
    pub at: Option<DateTime<Utc>>,
    pub message: String,
}

/// How one container of a stopped task ended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContainerExit {
    pub name: String,
    pub exit_code: Option<i32>,
    pub reason: Option<String>,
}

/// A task of the service that stopped recently.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoppedTask {
    pub id: String,
    pub task_definition: String,
    pub started_at: Option<DateTime<Utc>>,
    pub stopped_at: Option<DateTime<Utc>>,
    /// `EssentialContainerExited`, `TaskFailedToStart`, `UserInitiated`, …
    pub stop_code: Option<String>,
    pub stopped_reason: Option<String>,
    pub containers: Vec<ContainerExit>,
}

/// The service's recent history as ECS keeps it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServiceHistory {
    pub deployments: Vec<Deployment>,
    /// Newest first.
    pub events: Vec<ServiceEvent>,
    pub stopped: Vec<StoppedTask>,
    /// The PRIMARY deployment's task memory (MiB), where the task definition sets it.
    pub task_memory: Option<i32>,
}

impl ServiceHistory {
    pub fn primary(&self) -> Option<&Deployment> {
        self.deployments.iter().find(|d| d.status == "PRIMARY")
    }
}

/// A line of the service's log group that matched `ERROR`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LogLine {
    pub at: Option<DateTime<Utc>>,
    pub message: String,
}

/// A database the policy names, and its status as RDS says it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DbHealth {
    pub id: String,
    pub status: String,
}

/// One source of evidence: what it said, or why it is missing (too slow, refused).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Sourced<T> {
    Read(T),
    LeftOut(String),
}

impl<T> Sourced<T> {
    pub fn read(&self) -> Option<&T> {
        match self {
            Sourced::Read(t) => Some(t),
            Sourced::LeftOut(_) => None,
        }
    }
}

/// Everything read about one service for one decision.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Evidence {
    /// When it was read: "recent" and "since the deployment" are measured from here.
    pub at: DateTime<Utc>,
    pub service: Sourced<ServiceHistory>,
    pub log_group: String,
    pub logs: Sourced<Vec<LogLine>>,
    pub databases: Vec<Sourced<DbHealth>>,
}

impl Evidence {
    /// What could not be read, one phrase each ("logs: over the 2s budget").
    pub fn left_out(&self) -> Vec<String> {
        let mut gaps = Vec::new();
        if let Sourced::LeftOut(why) = &self.service {
            gaps.push(format!("ECS: {why}"));
        }
        if let Sourced::LeftOut(why) = &self.logs {
            gaps.push(format!("logs {}: {why}", self.log_group));
        }
        for db in &self.databases {
            if let Sourced::LeftOut(why) = db {
                gaps.push(format!("RDS: {why}"));
            }
        }
        gaps
    }
}
