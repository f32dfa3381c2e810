//! `Services` on Amazon ECS.

mod history;

use aws_sdk_ecs::Client;
use chrono::{DateTime, Utc};

use super::sdk::{effect_error, port_error, Budget, Lazy};
use crate::model::Target;
use crate::model::{ServiceHistory, ServiceStatus, TaskSpec, TaskState};
use crate::ports::{Certainty, EffectError, PortError, Services, Tasks};

#[derive(Debug, Clone)]
pub struct EcsServices {
    client: Lazy<Client>,
    budget: Budget,
}

impl EcsServices {
    pub fn new(client: &Client, budget: Budget) -> EcsServices {
        EcsServices {
            client: Lazy::ready(client.clone()),
            budget,
        }
    }

    /// Over a client built at its first use.
    pub fn lazy(client: &Lazy<Client>, budget: Budget) -> EcsServices {
        EcsServices {
            client: client.clone(),
            budget,
        }
    }

    fn client(&self) -> &Client {
        self.client.get()
    }

    fn config(&self) -> Result<aws_sdk_ecs::config::Builder, String> {
        Ok(aws_sdk_ecs::config::Builder::default().timeout_config(self.budget.timeouts()?))
    }

    /// The service as ECS describes it; `None` when ECS does not know it.
    async fn service(
        &self,
        target: &Target,
    ) -> Result<Option<aws_sdk_ecs::types::Service>, PortError> {
        let out = self
            .client()
            .describe_services()
            .cluster(&target.cluster)
            .services(&target.service)
            .customize()
            .config_override(self.config().map_err(PortError)?)
            .send()
            .await
            .map_err(|e| port_error(&format!("describe {target}"), e))?;
        // ECS reports a missing service in `failures` (reason MISSING), not as an error.
        Ok(out
            .services()
            .iter()
            .find(|s| s.service_name() == Some(target.service.as_str()))
            .cloned())
    }

    fn too_late(message: String) -> EffectError {
        EffectError {
            certainty: Certainty::Failed,
            message,
        }
    }
}

impl Services for EcsServices {
    async fn describe(&self, target: &Target) -> Result<Option<ServiceStatus>, PortError> {
        let Some(svc) = self.service(target).await? else {
            return Ok(None);
        };
        if svc.status() == Some("INACTIVE") {
            return Ok(None);
        }
        let primary = svc
            .deployments()
            .iter()
            .find(|d| d.status() == Some("PRIMARY"));
        let primary_since = primary
            .and_then(|d| d.created_at())
            .and_then(|t| DateTime::<Utc>::from_timestamp(t.secs(), t.subsec_nanos()));
        let task_definition = primary
            .and_then(|d| d.task_definition())
            .or(svc.task_definition())
            .map(str::to_owned);
        Ok(Some(ServiceStatus {
            desired: svc.desired_count(),
            running: svc.running_count(),
            primary_since,
            deployments: svc.deployments().len(),
            // Application Auto Scaling is asked separately, where the job uses it.
            scaling: None,
            task_definition,
        }))
    }

    async fn restart(&self, target: &Target) -> Result<(), EffectError> {
        self.client()
            .update_service()
            .cluster(&target.cluster)
            .service(&target.service)
            .force_new_deployment(true)
            .customize()
            .config_override(self.config().map_err(Self::too_late)?)
            .send()
            .await
            .map_err(|e| effect_error(&format!("force new deployment of {target}"), e))?;
        Ok(())
    }

    async fn set_desired(&self, target: &Target, count: i32) -> Result<(), EffectError> {
        self.client()
            .update_service()
            .cluster(&target.cluster)
            .service(&target.service)
            .desired_count(count)
            .customize()
            .config_override(self.config().map_err(Self::too_late)?)
            .send()
            .await
            .map_err(|e| effect_error(&format!("set desired count of {target} to {count}"), e))?;
        Ok(())
    }

    async fn history(
        &self,
        target: &Target,
        since: DateTime<Utc>,
    ) -> Result<ServiceHistory, PortError> {
        self.read_history(target, since).await
    }

    async fn deploy(&self, target: &Target, task_definition: &str) -> Result<(), EffectError> {
        self.deploy_task_definition(target, task_definition).await
    }

    async fn with_memory(&self, task_definition: &str, memory: i32) -> Result<String, EffectError> {
        self.register_with_memory(task_definition, memory).await
    }
}

impl Tasks for EcsServices {
    async fn run(
        &self,
        cluster: &str,
        spec: &TaskSpec,
        started_by: &str,
    ) -> Result<String, EffectError> {
        use aws_sdk_ecs::types::{
            AwsVpcConfiguration, DesiredStatus, LaunchType, NetworkConfiguration,
        };
        for status in [DesiredStatus::Running, DesiredStatus::Stopped] {
            let found = self
                .client()
                .list_tasks()
                .cluster(cluster)
                .started_by(started_by)
                .desired_status(status)
                .customize()
                .config_override(self.config().map_err(Self::too_late)?)
                .send()
                .await
                .map_err(|e| effect_error(&format!("list tasks started by {started_by}"), e))?;
            if let Some(arn) = found.task_arns().first() {
                return Ok(arn.clone());
            }
        }
        // Idempotent at AWS: the same token within its window starts no second task.
        let mut req = self
            .client()
            .run_task()
            .cluster(cluster)
            .task_definition(&spec.task_definition)
            .launch_type(LaunchType::from(spec.launch_type.as_str()))
            .started_by(started_by)
            .client_token(client_token(started_by));
        if !spec.subnets.is_empty() {
            let vpc = AwsVpcConfiguration::builder()
                .set_subnets(Some(spec.subnets.clone()))
                .set_security_groups(Some(spec.security_groups.clone()))
                .build()
                .map_err(|e| Self::too_late(format!("task network: {e}")))?;
            req = req.network_configuration(
                NetworkConfiguration::builder()
                    .awsvpc_configuration(vpc)
                    .build(),
            );
        }
        // Never retried blindly either: an answer that does not come is an unknown outcome, and
        // the next step looks the task up by `started_by` before it would start one.
        let out = req
            .customize()
            .config_override(
                self.config()
                    .map_err(Self::too_late)?
                    .retry_config(aws_config::retry::RetryConfig::disabled()),
            )
            .send()
            .await
            .map_err(|e| {
                // Throttled: it did not run. Not a reason to roll the window back: the next step
                // looks it up and starts it.
                let throttled = e
                    .as_service_error()
                    .and_then(|se| aws_sdk_ecs::error::ProvideErrorMetadata::code(se))
                    .is_some_and(|c| c.contains("Throttl"));
                let mut err = effect_error(&format!("run task {}", spec.task_definition), e);
                if throttled {
                    err.certainty = Certainty::Unknown;
                }
                err
            })?;
        if let Some(f) = out.failures().first() {
            return Err(Self::too_late(format!(
                "run task {}: {}",
                spec.task_definition,
                f.reason().unwrap_or("failed")
            )));
        }
        out.tasks()
            .first()
            .and_then(|t| t.task_arn())
            .map(str::to_owned)
            .ok_or_else(|| {
                Self::too_late(format!(
                    "run task {}: no task started",
                    spec.task_definition
                ))
            })
    }

    async fn state(&self, cluster: &str, task_arn: &str) -> Result<Option<TaskState>, PortError> {
        let out = self
            .client()
            .describe_tasks()
            .cluster(cluster)
            .tasks(task_arn)
            .customize()
            .config_override(self.config().map_err(PortError)?)
            .send()
            .await
            .map_err(|e| port_error(&format!("describe task {task_arn}"), e))?;
        Ok(out.tasks().first().map(|t| TaskState {
            last_status: t.last_status().unwrap_or("UNKNOWN").to_owned(),
            exit_codes: t.containers().iter().map(|c| c.exit_code()).collect(),
            reason: t.stopped_reason().map(str::to_owned),
        }))
    }
}

/// RunTask's `clientToken` (at most 64 ASCII characters) for a task named by `started_by`.
fn client_token(started_by: &str) -> String {
    started_by
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
        .take(64)
        .collect()
}
