//! `Keys` on KMS: MACs computed inside KMS, direct encryption of small values, data keys for
//! envelope encryption, decryption bound to an encryption context.

use aws_sdk_kms::primitives::Blob;
use aws_sdk_kms::types::{DataKeySpec, MacAlgorithmSpec};
use aws_sdk_kms::Client;

use super::sdk::{port_error, Budget, Lazy};
use crate::model::Plaintext;
use crate::ports::{Context, Keys, PortError};

#[derive(Debug, Clone)]
pub struct KmsKeys {
    client: Lazy<Client>,
    budget: Budget,
}

impl KmsKeys {
    pub fn new(client: &Client, budget: Budget) -> KmsKeys {
        KmsKeys::lazy(&Lazy::ready(client.clone()), budget)
    }

    /// Over a client built at its first use.
    pub fn lazy(client: &Lazy<Client>, budget: Budget) -> KmsKeys {
        KmsKeys {
            client: client.clone(),
            budget,
        }
    }

    fn config(&self) -> Result<aws_sdk_kms::config::Builder, PortError> {
        Ok(aws_sdk_kms::config::Builder::default()
            .timeout_config(self.budget.timeouts().map_err(PortError)?))
    }
}

impl Keys for KmsKeys {
    async fn mac(&self, key_id: &str, message: &[u8]) -> Result<Vec<u8>, PortError> {
        let out = self
            .client
            .get()
            .generate_mac()
            .key_id(key_id)
            .mac_algorithm(MacAlgorithmSpec::HmacSha256)
            .message(Blob::new(message))
            .customize()
            .config_override(self.config()?)
            .send()
            .await
            .map_err(|e| port_error(&format!("compute a MAC with {key_id}"), e))?;
        out.mac
            .map(Blob::into_inner)
            .ok_or_else(|| PortError(format!("KMS returned no MAC for {key_id}")))
    }

    async fn encrypt(
        &self,
        key_id: &str,
        plaintext: &Plaintext,
        context: &Context,
    ) -> Result<Vec<u8>, PortError> {
        let out = self
            .client
            .get()
            .encrypt()
            .key_id(key_id)
            .plaintext(Blob::new(plaintext.expose()))
            .set_encryption_context(Some(context.clone().into_iter().collect()))
            .customize()
            .config_override(self.config()?)
            .send()
            .await
            .map_err(|e| port_error(&format!("encrypt with {key_id}"), e))?;
        out.ciphertext_blob
            .map(Blob::into_inner)
            .ok_or_else(|| PortError(format!("KMS returned no ciphertext for {key_id}")))
    }

    async fn data_key(
        &self,
        key_id: &str,
        context: &Context,
    ) -> Result<(Plaintext, Vec<u8>), PortError> {
        let out = self
            .client
            .get()
            .generate_data_key()
            .key_id(key_id)
            .key_spec(DataKeySpec::Aes256)
            .set_encryption_context(Some(context.clone().into_iter().collect()))
            .customize()
            .config_override(self.config()?)
            .send()
            .await
            .map_err(|e| port_error(&format!("generate a data key with {key_id}"), e))?;
        match (out.plaintext, out.ciphertext_blob) {
            (Some(plain), Some(wrapped)) => {
                Ok((Plaintext::new(plain.into_inner()), wrapped.into_inner()))
            }
            _ => Err(PortError(format!(
                "KMS returned an incomplete data key for {key_id}"
            ))),
        }
    }

    async fn decrypt(&self, ciphertext: &[u8], context: &Context) -> Result<Plaintext, PortError> {
        let out = self
            .client
            .get()
            .decrypt()
            .ciphertext_blob(Blob::new(ciphertext))
            .set_encryption_context(Some(context.clone().into_iter().collect()))
            .customize()
            .config_override(self.config()?)
            .send()
            .await
            .map_err(|e| port_error("decrypt a backup", e))?;
        out.plaintext
            .map(|p| Plaintext::new(p.into_inner()))
            .ok_or_else(|| PortError("KMS returned no plaintext".into()))
    }
}
