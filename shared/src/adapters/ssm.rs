//! `Parameters` on SSM Parameter Store.

use aws_sdk_ssm::types::ParameterType;
use aws_sdk_ssm::Client;

use super::sdk::{effect_error, port_error, Budget, Lazy};
use crate::ports::{Certainty, EffectError, Parameters, PortError};

#[derive(Debug, Clone)]
pub struct SsmParameters {
    client: Lazy<Client>,
    budget: Budget,
}

impl SsmParameters {
    pub fn new(client: &Client, budget: Budget) -> SsmParameters {
        SsmParameters {
            client: Lazy::ready(client.clone()),
            budget,
        }
    }

    /// Over a client built at its first use.
    pub fn lazy(client: &Lazy<Client>, budget: Budget) -> SsmParameters {
        SsmParameters {
            client: client.clone(),
            budget,
        }
    }

    fn client(&self) -> &Client {
        self.client.get()
    }

    fn config(&self) -> Result<aws_sdk_ssm::config::Builder, String> {
        Ok(aws_sdk_ssm::config::Builder::default().timeout_config(self.budget.timeouts()?))
    }
}

impl Parameters for SsmParameters {
    async fn put(&self, name: &str, value: &str) -> Result<(), EffectError> {
        let cfg = self.config().map_err(|message| EffectError {
            certainty: Certainty::Failed,
            message,
        })?;
        self.client()
            .put_parameter()
            .name(name)
            .value(value)
            .r#type(ParameterType::String)
            .overwrite(true)
            .customize()
            .config_override(cfg)
            .send()
            .await
            .map_err(|e| effect_error(&format!("set {name} = {value}"), e))?;
        Ok(())
    }

    async fn get(&self, name: &str) -> Result<Option<String>, PortError> {
        let res = self
            .client()
            .get_parameter()
            .name(name)
            .customize()
            .config_override(self.config().map_err(PortError)?)
            .send()
            .await;
        match res {
            Ok(out) => Ok(out.parameter().and_then(|p| p.value()).map(str::to_owned)),
            Err(e)
                if e.as_service_error()
                    .is_some_and(|se| se.is_parameter_not_found()) =>
            {
                Ok(None)
            }
            Err(e) => Err(port_error(&format!("read {name}"), e)),
        }
    }
}
