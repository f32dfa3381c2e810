//! Evidence as the emulator cannot make it: deployments, stopped tasks, service events.
#![allow(dead_code)]

use axiom_ops::model::{
    ContainerExit, DbHealth, Deployment, Evidence, LogLine, ServiceEvent, ServiceHistory, Sourced,
    StoppedTask,
};
use chrono::Duration;

use super::t0;

pub const TD7: &str = "arn:aws:ecs:us-east-1:123456789012:task-definition/axiomcore-api:7";
pub const TD6: &str = "arn:aws:ecs:us-east-1:123456789012:task-definition/axiomcore-api:6";
pub const PULL: &str = "CannotPullContainerError: pull image manifest has been retried 5 time(s)";
pub const OOM: &str = "OutOfMemoryError: Container killed due to memory usage";

pub fn deployments() -> Vec<Deployment> {
    let d = |status: &str, td: &str, ago: i64| Deployment {
        id: format!("ecs-svc/{ago}"),
        status: status.into(),
        rollout: Some(
            if status == "PRIMARY" {
                "IN_PROGRESS"
            } else {
                "COMPLETED"
            }
            .into(),
        ),
        task_definition: td.into(),
        created_at: Some(t0() - Duration::minutes(ago)),
        failed_tasks: 0,
        desired: 3,
        running: 3,
    };
    vec![d("PRIMARY", TD7, 10), d("ACTIVE", TD6, 600)]
}

pub fn stopped(
    reason: Option<&str>,
    code: Option<&str>,
    exit: Option<i32>,
    ago: i64,
) -> StoppedTask {
    StoppedTask {
        id: format!("task-{ago}"),
        task_definition: TD7.into(),
        started_at: Some(t0() - Duration::minutes(ago) - Duration::seconds(30)),
        stopped_at: Some(t0() - Duration::minutes(ago)),
        stop_code: code.map(str::to_owned),
        stopped_reason: reason.map(str::to_owned),
        containers: vec![ContainerExit {
            name: "api".into(),
            exit_code: exit,
            reason: None,
        }],
    }
}

pub fn evidence(tasks: Vec<StoppedTask>, events: Vec<ServiceEvent>, db: &str) -> Evidence {
    Evidence {
        at: t0(),
        service: Sourced::Read(ServiceHistory {
            deployments: deployments(),
            events,
            stopped: tasks,
            task_memory: Some(1024),
        }),
        log_group: "/aws/ecs/axiomcore/api".into(),
        logs: Sourced::Read(vec![LogLine {
            at: Some(t0()),
            message: "ERROR db connect failed".into(),
        }]),
        databases: vec![Sourced::Read(DbHealth {
            id: "axiomcore-production".into(),
            status: db.into(),
        })],
    }
}

pub fn pulls(n: usize) -> Vec<StoppedTask> {
    (0..n)
        .map(|i| stopped(Some(PULL), Some("TaskFailedToStart"), None, 1 + i as i64))
        .collect()
}
