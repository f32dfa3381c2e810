//! `Scaling` on Application Auto Scaling (ECS service desired count).

use aws_sdk_applicationautoscaling::types::{ScalableDimension, ServiceNamespace, SuspendedState};
use aws_sdk_applicationautoscaling::Client;

use super::sdk::{effect_error, port_error, Budget, Lazy};
use crate::model::Target;
use crate::ports::{Certainty, EffectError, PortError, Scaling};

#[derive(Debug, Clone)]
pub struct AppAutoScaling {
    client: Lazy<Client>,
    budget: Budget,
}

fn resource(t: &Target) -> String {
    format!("service/{}/{}", t.cluster, t.service)
}

impl AppAutoScaling {
    pub fn new(client: &Client, budget: Budget) -> AppAutoScaling {
        AppAutoScaling {
            client: Lazy::ready(client.clone()),
            budget,
        }
    }

    /// Over a client built at its first use.
    pub fn lazy(client: &Lazy<Client>, budget: Budget) -> AppAutoScaling {
        AppAutoScaling {
            client: client.clone(),
            budget,
        }
    }

    fn client(&self) -> &Client {
        self.client.get()
    }

    fn config(&self) -> Result<aws_sdk_applicationautoscaling::config::Builder, String> {
        Ok(aws_sdk_applicationautoscaling::config::Builder::default()
            .timeout_config(self.budget.timeouts()?))
    }

    /// `suspended: None` leaves the target's suspension as it is.
    async fn register(
        &self,
        t: &Target,
        suspended: Option<bool>,
        bounds: Option<(i32, i32)>,
    ) -> Result<(), EffectError> {
        let cfg = self.config().map_err(|message| EffectError {
            certainty: Certainty::Failed,
            message,
        })?;
        let state = suspended.map(|suspended| {
            SuspendedState::builder()
                .dynamic_scaling_in_suspended(suspended)
                .dynamic_scaling_out_suspended(suspended)
                .scheduled_scaling_suspended(suspended)
                .build()
        });
        self.client()
            .register_scalable_target()
            .service_namespace(ServiceNamespace::Ecs)
            .resource_id(resource(t))
            .scalable_dimension(ScalableDimension::EcsServiceDesiredCount)
            .set_min_capacity(bounds.map(|b| b.0))
            .set_max_capacity(bounds.map(|b| b.1))
            .set_suspended_state(state)
            .customize()
            .config_override(cfg)
            .send()
            .await
            .map_err(|e| {
                effect_error(
                    &format!(
                        "{} scaling of {t}",
                        match suspended {
                            Some(true) => "suspend",
                            Some(false) => "resume",
                            None => "set the bounds of",
                        }
                    ),
                    e,
                )
            })?;
        Ok(())
    }
}

impl Scaling for AppAutoScaling {
    async fn bounds(&self, t: &Target) -> Result<Option<(i32, i32)>, PortError> {
        let out = self
            .client()
            .describe_scalable_targets()
            .service_namespace(ServiceNamespace::Ecs)
            .resource_ids(resource(t))
            .scalable_dimension(ScalableDimension::EcsServiceDesiredCount)
            .customize()
            .config_override(self.config().map_err(PortError)?)
            .send()
            .await
            .map_err(|e| port_error(&format!("describe scaling of {t}"), e))?;
        Ok(out
            .scalable_targets()
            .first()
            .map(|s| (s.min_capacity(), s.max_capacity())))
    }

    async fn suspend(&self, t: &Target) -> Result<(), EffectError> {
        self.register(t, Some(true), None).await
    }

    async fn resume(&self, t: &Target, min: i32, max: i32) -> Result<(), EffectError> {
        self.register(t, Some(false), Some((min, max))).await
    }

    async fn set_bounds(&self, t: &Target, min: i32, max: i32) -> Result<(), EffectError> {
        self.register(t, None, Some((min, max))).await
    }
}
