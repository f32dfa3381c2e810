//! `Secrets` on Secrets Manager. A value is held as `Plaintext` from the moment it is read; no
//! error message here carries one.

use aws_sdk_secretsmanager::primitives::Blob;
use aws_sdk_secretsmanager::Client;

use super::sdk::{effect_error, port_error, Budget, Lazy};
use crate::model::{Plaintext, SecretValue};
use crate::ports::{Certainty, EffectError, PortError, Secrets};

#[derive(Debug, Clone)]
pub struct SecretsManager {
    client: Lazy<Client>,
    budget: Budget,
}

impl SecretsManager {
    pub fn new(client: &Client, budget: Budget) -> SecretsManager {
        SecretsManager::lazy(&Lazy::ready(client.clone()), budget)
    }

    /// Over a client built at its first use.
    pub fn lazy(client: &Lazy<Client>, budget: Budget) -> SecretsManager {
        SecretsManager {
            client: client.clone(),
            budget,
        }
    }

    fn config(&self) -> Result<aws_sdk_secretsmanager::config::Builder, String> {
        Ok(aws_sdk_secretsmanager::config::Builder::default()
            .timeout_config(self.budget.timeouts()?))
    }
}

impl Secrets for SecretsManager {
    async fn read(&self, name: &str) -> Result<Option<SecretValue>, PortError> {
        let res = self
            .client
            .get()
            .get_secret_value()
            .secret_id(name)
            .customize()
            .config_override(self.config().map_err(PortError)?)
            .send()
            .await;
        let out = match res {
            Ok(out) => out,
            Err(e)
                if e.as_service_error()
                    .is_some_and(|se| se.is_resource_not_found_exception()) =>
            {
                return Ok(None)
            }
            Err(e) => return Err(port_error(&format!("read secret {name}"), e)),
        };
        let version_id = out
            .version_id
            .ok_or_else(|| PortError(format!("secret {name}: no version id in the answer")))?;
        let (value, binary) = match (out.secret_string, out.secret_binary) {
            (Some(s), _) => (Plaintext::new(s.into_bytes()), false),
            (None, Some(b)) => (Plaintext::new(b.into_inner()), true),
            (None, None) => {
                return Err(PortError(format!(
                    "secret {name}: its current version has no value"
                )))
            }
        };
        Ok(Some(SecretValue {
            version_id,
            value,
            binary,
        }))
    }

    async fn put(
        &self,
        name: &str,
        value: &Plaintext,
        binary: bool,
    ) -> Result<String, EffectError> {
        let cfg = self.config().map_err(|message| EffectError {
            certainty: Certainty::Failed,
            message,
        })?;
        let req = self.client.get().put_secret_value().secret_id(name);
        let req = if binary {
            req.secret_binary(Blob::new(value.expose()))
        } else {
            let text = std::str::from_utf8(value.expose()).map_err(|_| EffectError {
                certainty: Certainty::Failed,
                message: format!("the backup of {name} is a string secret that is not UTF-8"),
            })?;
            req.secret_string(text)
        };
        let out = req
            .customize()
            .config_override(cfg)
            .send()
            .await
            .map_err(|e| effect_error(&format!("put a new version of secret {name}"), e))?;
        out.version_id.ok_or_else(|| EffectError {
            certainty: Certainty::Unknown,
            message: format!("secret {name}: no version id for the new version"),
        })
    }
}
