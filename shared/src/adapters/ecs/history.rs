//! What a diagnosis reads from ECS (deployments, events, stopped tasks, the task memory), and the
//! two changes a diagnosis may lead to (deploy a task definition, register one with more memory).

use aws_sdk_ecs::types::{DesiredStatus, Tag, Task, TaskDefinition, TaskDefinitionField};
use chrono::{DateTime, Utc};
use futures_util::future::join;

use super::EcsServices;
use crate::adapters::sdk::{effect_error, port_error};
use crate::model::{ContainerExit, Deployment, ServiceEvent, ServiceHistory, StoppedTask, Target};
use crate::ports::{EffectError, PortError};

/// Stopped tasks described per call (DescribeTasks takes at most 100).
const STOPPED_MAX: usize = 50;
/// Service events kept (ECS keeps the last 100).
const EVENTS_MAX: usize = 20;

fn time(t: Option<&aws_sdk_ecs::primitives::DateTime>) -> Option<DateTime<Utc>> {
    t.and_then(|t| DateTime::<Utc>::from_timestamp(t.secs(), t.subsec_nanos()))
}

impl EcsServices {
    pub(super) async fn read_history(
        &self,
        target: &Target,
        since: DateTime<Utc>,
    ) -> Result<ServiceHistory, PortError> {
        let Some(svc) = self.service(target).await? else {
            return Ok(ServiceHistory::default());
        };
        let deployments: Vec<Deployment> = svc
            .deployments()
            .iter()
            .map(|d| Deployment {
                id: d.id().unwrap_or_default().to_owned(),
                status: d.status().unwrap_or_default().to_owned(),
                rollout: d.rollout_state().map(|r| r.as_str().to_owned()),
                task_definition: d.task_definition().unwrap_or_default().to_owned(),
                created_at: time(d.created_at()),
                failed_tasks: d.failed_tasks(),
                desired: d.desired_count(),
                running: d.running_count(),
            })
            .collect();
        let events = svc
            .events()
            .iter()
            .take(EVENTS_MAX)
            .map(|e| ServiceEvent {
                at: time(e.created_at()),
                message: e.message().unwrap_or_default().to_owned(),
            })
            .collect();
        let primary = deployments
            .iter()
            .find(|d| d.status == "PRIMARY")
            .map(|d| d.task_definition.clone())
            .or_else(|| svc.task_definition().map(str::to_owned));
        let (stopped, memory) = join(self.stopped(target, since), async {
            match &primary {
                Some(td) => self
                    .task_definition(td)
                    .await
                    .map(|t| t.and_then(memory_of)),
                None => Ok(None),
            }
        })
        .await;
        Ok(ServiceHistory {
            deployments,
            events,
            stopped: stopped?,
            task_memory: memory?,
        })
    }

    /// The service's tasks stopped since `since`, newest first.
    async fn stopped(
        &self,
        target: &Target,
        since: DateTime<Utc>,
    ) -> Result<Vec<StoppedTask>, PortError> {
        let listed = self
            .client()
            .list_tasks()
            .cluster(&target.cluster)
            .service_name(&target.service)
            .desired_status(DesiredStatus::Stopped)
            .max_results(STOPPED_MAX as i32)
            .customize()
            .config_override(self.config().map_err(PortError)?)
            .send()
            .await
            .map_err(|e| port_error(&format!("list stopped tasks of {target}"), e))?;
        if listed.task_arns().is_empty() {
            return Ok(Vec::new());
        }
        let described = self
            .client()
            .describe_tasks()
            .cluster(&target.cluster)
            .set_tasks(Some(listed.task_arns().to_vec()))
            .customize()
            .config_override(self.config().map_err(PortError)?)
            .send()
            .await
            .map_err(|e| port_error(&format!("describe stopped tasks of {target}"), e))?;
        let group = format!("service:{}", target.service);
        let mut tasks: Vec<StoppedTask> = described
            .tasks()
            .iter()
            // ECS lists only the service's own; the group says so again where it is set.
            .filter(|t| t.group().is_none_or(|g| g == group))
            .map(stopped_task)
            .filter(|t| t.stopped_at.is_none_or(|at| at >= since))
            .collect();
        tasks.sort_by_key(|t| std::cmp::Reverse(t.stopped_at));
        Ok(tasks)
    }

    async fn task_definition(&self, arn: &str) -> Result<Option<TaskDefinition>, PortError> {
        Ok(self.described(arn, false).await?.0)
    }

    /// The task definition, and its tags when asked for (a new revision carries them on).
    async fn described(
        &self,
        arn: &str,
        with_tags: bool,
    ) -> Result<(Option<TaskDefinition>, Vec<Tag>), PortError> {
        let mut req = self
            .client()
            .describe_task_definition()
            .task_definition(arn);
        if with_tags {
            req = req.include(TaskDefinitionField::Tags);
        }
        let out = req
            .customize()
            .config_override(self.config().map_err(PortError)?)
            .send()
            .await
            .map_err(|e| port_error(&format!("describe task definition {arn}"), e))?;
        Ok((out.task_definition().cloned(), out.tags().to_vec()))
    }

    pub(super) async fn deploy_task_definition(
        &self,
        target: &Target,
        task_definition: &str,
    ) -> Result<(), EffectError> {
        self.client()
            .update_service()
            .cluster(&target.cluster)
            .service(&target.service)
            .task_definition(task_definition)
            .customize()
            .config_override(self.config().map_err(Self::too_late)?)
            .send()
            .await
            .map_err(|e| effect_error(&format!("deploy {task_definition} to {target}"), e))?;
        Ok(())
    }

    pub(super) async fn register_with_memory(
        &self,
        task_definition: &str,
        memory: i32,
    ) -> Result<String, EffectError> {
        let (td, tags) = self
            .described(task_definition, true)
            .await
            .map_err(|e| Self::too_late(e.0))?;
        let td = td.ok_or_else(|| {
            Self::too_late(format!("task definition {task_definition} not found"))
        })?;
        let from = memory_of(td.clone())
            .ok_or_else(|| Self::too_late(format!("{task_definition} sets no task memory")))?;
        let family = td
            .family()
            .ok_or_else(|| Self::too_late(format!("{task_definition} has no family")))?;
        let containers = td
            .container_definitions()
            .iter()
            .cloned()
            .map(|mut c| {
                // A container's hard limit grows with the task's, within it.
                c.memory = c.memory.map(|m| grown(m, from, memory));
                c
            })
            .collect();
        let out = self
            .client()
            .register_task_definition()
            .family(family)
            .set_task_role_arn(td.task_role_arn().map(str::to_owned))
            .set_execution_role_arn(td.execution_role_arn().map(str::to_owned))
            .set_network_mode(td.network_mode().cloned())
            .set_container_definitions(Some(containers))
            .set_volumes(Some(td.volumes().to_vec()))
            .set_placement_constraints(Some(td.placement_constraints().to_vec()))
            .set_requires_compatibilities(Some(td.requires_compatibilities().to_vec()))
            .set_cpu(td.cpu().map(str::to_owned))
            .memory(memory.to_string())
            .set_pid_mode(td.pid_mode().cloned())
            .set_ipc_mode(td.ipc_mode().cloned())
            .set_proxy_configuration(td.proxy_configuration().cloned())
            .set_ephemeral_storage(td.ephemeral_storage().cloned())
            .set_runtime_platform(td.runtime_platform().cloned())
            // `aws:` tags are AWS's own: a request may not set them.
            .set_tags(
                Some(
                    tags.into_iter()
                        .filter(|t| !t.key().is_some_and(|k| k.starts_with("aws:")))
                        .collect::<Vec<_>>(),
                )
                .filter(|t| !t.is_empty()),
            )
            .customize()
            .config_override(self.config().map_err(Self::too_late)?)
            .send()
            .await
            .map_err(|e| effect_error(&format!("register {family} with {memory} MiB"), e))?;
        out.task_definition()
            .and_then(|t| t.task_definition_arn())
            .map(str::to_owned)
            .ok_or_else(|| Self::too_late(format!("register {family}: no revision returned")))
    }
}

fn memory_of(td: TaskDefinition) -> Option<i32> {
    td.memory().and_then(|m| m.trim().parse().ok())
}

/// `m` MiB of a task of `from` MiB, for a task of `to` MiB.
fn grown(m: i32, from: i32, to: i32) -> i32 {
    let scaled = i64::from(m) * i64::from(to) / i64::from(from.max(1));
    i32::try_from(scaled.min(i64::from(to))).unwrap_or(to)
}

fn stopped_task(t: &Task) -> StoppedTask {
    StoppedTask {
        id: t
            .task_arn()
            .and_then(|a| a.rsplit('/').next())
            .unwrap_or_default()
            .to_owned(),
        task_definition: t.task_definition_arn().unwrap_or_default().to_owned(),
        started_at: time(t.started_at().or(t.created_at())),
        stopped_at: time(t.stopped_at()),
        stop_code: t.stop_code().map(|c| c.as_str().to_owned()),
        stopped_reason: t
            .stopped_reason()
            .filter(|r| !r.is_empty())
            .map(str::to_owned),
        containers: t
            .containers()
            .iter()
            .map(|c| ContainerExit {
                name: c.name().unwrap_or_default().to_owned(),
                exit_code: c.exit_code(),
                reason: c.reason().filter(|r| !r.is_empty()).map(str::to_owned),
            })
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::grown;

    #[test]
    fn container_limits_grow_with_the_task_within_it() {
        assert_eq!(grown(512, 1024, 1536), 768);
        assert_eq!(grown(1024, 1024, 2048), 2048);
        assert_eq!(grown(4096, 1024, 2048), 2048);
    }
}
