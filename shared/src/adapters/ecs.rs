//! `Services` on Amazon ECS.

use aws_sdk_ecs::Client;
use chrono::{DateTime, Utc};

use crate::aws::{effect_error, port_error, Budget};
use crate::decide::ServiceStatus;
use crate::ports::{Certainty, EffectError, PortError, Services};
use crate::target::Target;

#[derive(Debug, Clone)]
pub struct EcsServices {
    client: Client,
    budget: Budget,
}

impl EcsServices {
    pub fn new(client: &Client, budget: Budget) -> EcsServices {
        EcsServices {
            client: client.clone(),
            budget,
        }
    }

    fn config(&self) -> Result<aws_sdk_ecs::config::Builder, String> {
        Ok(aws_sdk_ecs::config::Builder::default().timeout_config(self.budget.timeouts()?))
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
        let out = self
            .client
            .describe_services()
            .cluster(&target.cluster)
            .services(&target.service)
            .customize()
            .config_override(self.config().map_err(PortError)?)
            .send()
            .await
            .map_err(|e| port_error(&format!("describe {target}"), e))?;
        let Some(svc) = out
            .services()
            .iter()
            .find(|s| s.service_name() == Some(target.service.as_str()))
        else {
            // ECS reports a missing service in `failures` (reason MISSING), not as an error.
            return Ok(None);
        };
        if svc.status() == Some("INACTIVE") {
            return Ok(None);
        }
        let primary_since = svc
            .deployments()
            .iter()
            .find(|d| d.status() == Some("PRIMARY"))
            .and_then(|d| d.created_at())
            .and_then(|t| DateTime::<Utc>::from_timestamp(t.secs(), t.subsec_nanos()));
        Ok(Some(ServiceStatus {
            desired: svc.desired_count(),
            running: svc.running_count(),
            primary_since,
        }))
    }

    async fn restart(&self, target: &Target) -> Result<(), EffectError> {
        self.client
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
        self.client
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
}
