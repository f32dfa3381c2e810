//! Why a service is failing, from its evidence: the guide's "Service Won't Start", "High Memory
//! Usage" and "API Service Not Responding" runbooks as one pure classifier. The decision then
//! knows whether a restart or a scale-out could help at all (`decide::diagnosed`).
//!
//! | finding | from | so |
//! |---|---|---|
//! | dependency down | a policy database RDS says is not serving (stopped, rebooting, failed…) | no ECS change: SEV1 naming it |
//! | crash loop | ≥ 2 stops with the same failure since the newest deployment began (still rolling out, or made within the hour), more than OOM kills | no restart: roll back, or SEV1 |
//! | out of memory | a task stopped with `OutOfMemoryError`, or an essential container killed (137) | restart as the rule says, and say OOM |
//! | no room | a service event says a task could not be placed | no scale-out: escalate |
//! | unclear | none of these | act as the rule says |

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

use crate::model::{Evidence, ServiceHistory, Sourced, StoppedTask};

/// Stops of the same failure that make a crash loop ("repeated").
pub const CRASH_LOOP_STOPS: usize = 2;
/// How far back stopped tasks and service events count.
pub const RECENT: Duration = Duration::minutes(15);
/// How long after a completed deployment its failures still make a crash loop "after a
/// deployment" (tasks that start, pass the rollout, then crash: aws/containers-roadmap#1206).
pub const AFTER_DEPLOYMENT: Duration = Duration::hours(1);

/// RDS statuses in which the database still takes connections.
const SERVING: &[&str] = &[
    "available",
    "backing-up",
    "storage-optimization",
    "configuring-enhanced-monitoring",
    "configuring-iam-database-auth",
    "configuring-log-exports",
];

/// Why a task failed, when it did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind", content = "code")]
pub enum Failure {
    /// `CannotPullContainerError`: the image (or its registry) cannot be reached.
    ImagePull,
    /// `ResourceInitializationError`: a secret or an environment file could not be injected.
    ResourceInit,
    /// The container or load-balancer health check failed.
    HealthCheck,
    /// The task never started.
    FailedToStart,
    /// An essential container exited with this code.
    Exit(i32),
}

impl Failure {
    pub fn describe(&self) -> String {
        match self {
            Failure::ImagePull => "the image cannot be pulled (CannotPullContainerError)".into(),
            Failure::ResourceInit => {
                "secrets or environment cannot be injected (ResourceInitializationError)".into()
            }
            Failure::HealthCheck => "the health check fails".into(),
            Failure::FailedToStart => "the task fails to start".into(),
            Failure::Exit(code) => format!("the essential container exits with code {code}"),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum Finding {
    DependencyDown {
        database: String,
        status: String,
    },
    OutOfMemory {
        stops: usize,
        /// The running task definition's memory (MiB), when it sets one.
        memory: Option<i32>,
    },
    CrashLoop {
        failure: Failure,
        stops: usize,
        /// The newest deployment's task definition.
        deployment: Option<String>,
        /// The task definition of the last completed deployment, still listed.
        rollback_to: Option<String>,
        /// One of the stops' reasons, redacted.
        example: Option<String>,
    },
    NoRoom {
        message: String,
    },
    Unclear,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Diagnosis {
    pub finding: Finding,
    pub evidence: Evidence,
}

enum Stop {
    Oom,
    Failed(Failure),
}

/// The finding the evidence supports; the most serious first.
pub fn classify(evidence: Evidence) -> Diagnosis {
    let finding = dependency_down(&evidence)
        .or_else(|| evidence.service.read().and_then(|h| tasks(h, evidence.at)))
        .or_else(|| {
            evidence
                .service
                .read()
                .and_then(|h| no_room(h, evidence.at))
        })
        .unwrap_or(Finding::Unclear);
    Diagnosis { finding, evidence }
}

fn dependency_down(e: &Evidence) -> Option<Finding> {
    e.databases.iter().find_map(|db| match db {
        Sourced::Read(db) if !SERVING.contains(&db.status.as_str()) => {
            Some(Finding::DependencyDown {
                database: db.id.clone(),
                status: db.status.clone(),
            })
        }
        Sourced::Read(_) => None,
        Sourced::LeftOut(_) => None,
    })
}

/// Out of memory or a crash loop, from the tasks stopped recently; the more frequent wins.
fn tasks(h: &ServiceHistory, at: DateTime<Utc>) -> Option<Finding> {
    let primary = h.primary();
    let since = primary.and_then(|p| p.created_at);
    let running = primary
        .map(|p| p.task_definition.as_str())
        .filter(|t| !t.is_empty());
    let recent: Vec<(&StoppedTask, Stop)> = h
        .stopped
        .iter()
        .filter(|t| t.stopped_at.is_none_or(|s| s >= at - RECENT))
        // A task of an earlier deployment says nothing of the newest one. Unknown times count.
        .filter(|t| match (since, t.started_at.or(t.stopped_at)) {
            (Some(since), Some(t)) => t >= since,
            _ => true,
        })
        .filter(|t| running.is_none_or(|r| t.task_definition.is_empty() || t.task_definition == r))
        .filter_map(|t| stop_of(t).map(|s| (t, s)))
        .collect();
    let ooms = recent
        .iter()
        .filter(|(_, s)| matches!(s, Stop::Oom))
        .count();
    let oom = (ooms > 0).then_some(Finding::OutOfMemory {
        stops: ooms,
        memory: h.task_memory,
    });
    // A loop only "after a deployment": one still rolling out, or made in the last hour. A
    // failure on a long-settled deployment is the load's or a dependency's, not the release's.
    // (No rollout state — a Classic Load Balancer, CodeDeploy — goes by the age alone.)
    let fresh = primary.is_none_or(|p| {
        p.rollout.as_deref() == Some("IN_PROGRESS")
            || p.created_at.is_none_or(|c| at - c <= AFTER_DEPLOYMENT)
    });
    // The failure seen most often; on a tie, the newest (listed first).
    let mut best: Option<(&Failure, usize, &StoppedTask)> = None;
    for (t, s) in &recent {
        let Stop::Failed(f) = s else { continue };
        let n = recent
            .iter()
            .filter(|(_, o)| matches!(o, Stop::Failed(g) if g == f))
            .count();
        if best.is_none_or(|(_, m, _)| n > m) {
            best = Some((f, n, t));
        }
    }
    let Some((failure, stops, example)) =
        best.filter(|(_, n, _)| fresh && *n >= CRASH_LOOP_STOPS && *n > ooms)
    else {
        return oom;
    };
    let deployment = primary.map(|p| p.task_definition.clone());
    let rollback_to = h
        .deployments
        .iter()
        .filter(|d| d.status != "PRIMARY")
        .filter(|d| d.rollout.as_deref().is_none_or(|r| r == "COMPLETED"))
        .filter(|d| Some(&d.task_definition) != deployment.as_ref())
        .max_by_key(|d| d.created_at)
        .map(|d| d.task_definition.clone());
    Some(Finding::CrashLoop {
        failure: failure.clone(),
        stops,
        deployment,
        rollback_to,
        example: example
            .stopped_reason
            .clone()
            .or_else(|| example.containers.iter().find_map(|c| c.reason.clone())),
    })
}

/// Codes with which ECS itself stopped a task: a 137 then is its SIGKILL, not the kernel's.
const STOPPED_BY_ECS: &[&str] = &[
    "UserInitiated",
    "ServiceSchedulerInitiated",
    "SpotInterruption",
    "TerminationNotice",
];

fn stop_of(t: &StoppedTask) -> Option<Stop> {
    let texts: Vec<&str> = t
        .stopped_reason
        .iter()
        .map(String::as_str)
        .chain(t.containers.iter().filter_map(|c| c.reason.as_deref()))
        .collect();
    let any = |needle: &str| texts.iter().any(|s| s.contains(needle));
    let by_ecs = t
        .stop_code
        .as_deref()
        .is_some_and(|c| STOPPED_BY_ECS.contains(&c));
    if any("OutOfMemoryError") || (!by_ecs && t.containers.iter().any(|c| c.exit_code == Some(137)))
    {
        return Some(Stop::Oom);
    }
    if any("CannotPullContainerError") {
        return Some(Stop::Failed(Failure::ImagePull));
    }
    if any("ResourceInitializationError") {
        return Some(Stop::Failed(Failure::ResourceInit));
    }
    let reason = t
        .stopped_reason
        .as_deref()
        .unwrap_or("")
        .to_ascii_lowercase();
    if reason.contains("health check") {
        return Some(Stop::Failed(Failure::HealthCheck));
    }
    let essential = t.stop_code.as_deref() == Some("EssentialContainerExited")
        || reason.contains("essential container in task exited");
    if essential {
        if let Some(code) = t
            .containers
            .iter()
            .filter_map(|c| c.exit_code)
            .find(|c| *c != 0)
        {
            return Some(Stop::Failed(Failure::Exit(code)));
        }
    }
    (t.stop_code.as_deref() == Some("TaskFailedToStart"))
        .then_some(Stop::Failed(Failure::FailedToStart))
}

/// What ECS says when it cannot place a task (no instance with room, no Fargate capacity).
const NO_ROOM: &[&str] = &[
    "unable to place a task",
    "no container instance met all of its requirements",
    "insufficient memory",
    "insufficient cpu",
    "capacity is unavailable",
];

fn no_room(h: &ServiceHistory, at: DateTime<Utc>) -> Option<Finding> {
    h.events
        .iter()
        .filter(|e| e.at.is_none_or(|t| t >= at - RECENT))
        .find(|e| {
            let m = e.message.to_ascii_lowercase();
            NO_ROOM.iter().any(|n| m.contains(n))
        })
        .map(|e| Finding::NoRoom {
            message: e.message.clone(),
        })
}

impl Diagnosis {
    /// The finding in one sentence.
    pub fn headline(&self) -> String {
        match &self.finding {
            Finding::DependencyDown { database, status } => {
                format!("the database {database} is {status}")
            }
            Finding::OutOfMemory { stops, memory } => format!(
                "out of memory: {stops} task(s) killed for memory in the last {}m{}",
                RECENT.num_minutes(),
                memory
                    .map(|m| format!(" (task memory {m} MiB)"))
                    .unwrap_or_default()
            ),
            Finding::CrashLoop {
                failure,
                stops,
                deployment,
                ..
            } => format!(
                "crash loop: {} ({stops} stops since the deployment of {})",
                failure.describe(),
                deployment
                    .as_deref()
                    .map(short_task_definition)
                    .unwrap_or("the service")
            ),
            Finding::NoRoom { message } => format!("no room to place tasks: {message}"),
            Finding::Unclear => "no known cause in the evidence".into(),
        }
    }

    /// At most three lines for a notice's text: the finding, the newest ERROR line, and what
    /// could not be read.
    pub fn summary(&self) -> Vec<String> {
        let mut lines = vec![format!("Diagnosis: {}", self.headline())];
        if let Some(line) = self.evidence.logs.read().and_then(|l| l.last()) {
            lines.push(format!("Last ERROR: {}", line.message));
        }
        let gaps = self.evidence.left_out();
        if !gaps.is_empty() {
            lines.push(format!("Left out: {}", gaps.join("; ")));
        }
        lines
    }
}

/// `family:revision` of a task-definition ARN.
pub fn short_task_definition(arn: &str) -> &str {
    arn.rsplit('/').next().unwrap_or(arn)
}
