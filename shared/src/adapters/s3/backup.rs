//! `Objects` and `BackupStore` on S3: the configuration objects where they live (read only), and the
//! backup bucket, where everything is written with SSE-KMS under the backup key.

use std::collections::{BTreeMap, HashMap};

use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::{
    ChecksumAlgorithm, ChecksumMode, MetadataDirective, ServerSideEncryption, TaggingDirective,
};
use aws_sdk_s3::Client;
use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};
use sha2::{Digest, Sha256};

use crate::adapters::sdk::{effect_error, port_error, Budget, Lazy};
use crate::model::{hex, Copied, ObjectHead, Stored};
use crate::ports::{BackupStore, Certainty, EffectError, Objects, PortError};

/// `CopySource` is URL-encoded, its slashes kept.
const COPY_SOURCE: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'/')
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

#[derive(Debug, Clone)]
pub struct S3Backups {
    client: Lazy<Client>,
    bucket: String,
    kms_key_id: String,
    budget: Budget,
}

fn failed(message: String) -> EffectError {
    EffectError {
        certainty: Certainty::Failed,
        message,
    }
}

impl S3Backups {
    pub fn new(client: &Client, bucket: &str, kms_key_id: &str, budget: Budget) -> S3Backups {
        S3Backups::lazy(&Lazy::ready(client.clone()), bucket, kms_key_id, budget)
    }

    /// Over a client built at its first use.
    pub fn lazy(
        client: &Lazy<Client>,
        bucket: &str,
        kms_key_id: &str,
        budget: Budget,
    ) -> S3Backups {
        S3Backups {
            client: client.clone(),
            bucket: bucket.to_owned(),
            kms_key_id: kms_key_id.to_owned(),
            budget,
        }
    }

    pub fn bucket(&self) -> &str {
        &self.bucket
    }

    fn config(&self) -> Result<aws_sdk_s3::config::Builder, String> {
        Ok(aws_sdk_s3::config::Builder::default().timeout_config(self.budget.timeouts()?))
    }

    fn at(&self, key: &str) -> String {
        format!("s3://{}/{key}", self.bucket)
    }

    /// A HEAD; `checksum` asks for the object's checksum too, which S3 answers for an SSE-KMS
    /// object only to a caller that may decrypt it.
    async fn head_of(
        &self,
        bucket: &str,
        key: &str,
        checksum: bool,
    ) -> Result<Option<aws_sdk_s3::operation::head_object::HeadObjectOutput>, PortError> {
        let res = self
            .client
            .get()
            .head_object()
            .bucket(bucket)
            .key(key)
            .set_checksum_mode(checksum.then_some(ChecksumMode::Enabled))
            .customize()
            .config_override(self.config().map_err(PortError)?)
            .send()
            .await;
        match res {
            Ok(out) => Ok(Some(out)),
            Err(e) if e.as_service_error().is_some_and(|se| se.is_not_found()) => Ok(None),
            Err(e) => Err(port_error(&format!("read s3://{bucket}/{key}"), e)),
        }
    }
}

impl Objects for S3Backups {
    async fn head(&self, bucket: &str, key: &str) -> Result<Option<ObjectHead>, PortError> {
        Ok(self
            .head_of(bucket, key, false)
            .await?
            .map(|out| ObjectHead {
                bucket: bucket.to_owned(),
                key: key.to_owned(),
                version_id: out.version_id,
                etag: out.e_tag.unwrap_or_default(),
                size: out.content_length.unwrap_or(0),
            }))
    }

    async fn keys(&self, bucket: &str, prefix: &str) -> Result<Vec<String>, PortError> {
        super::keys(
            self.client.get(),
            bucket,
            prefix,
            self.config().map_err(PortError)?,
        )
        .await
    }

    async fn sha256(&self, object: &ObjectHead) -> Result<String, PortError> {
        let at = format!("s3://{}/{}", object.bucket, object.key);
        let out = self
            .client
            .get()
            .get_object()
            .bucket(&object.bucket)
            .key(&object.key)
            .set_version_id(object.version_id.clone())
            .if_match(&object.etag)
            .customize()
            .config_override(self.config().map_err(PortError)?)
            .send()
            .await
            .map_err(|e| port_error(&format!("read {at}"), e))?;
        let mut body = out.body;
        let mut hash = Sha256::new();
        while let Some(chunk) = body.next().await {
            hash.update(chunk.map_err(|e| PortError(format!("read {at}: {e}")))?);
        }
        Ok(hex(&hash.finalize()))
    }
}

impl BackupStore for S3Backups {
    async fn list(&self, prefix: &str) -> Result<Vec<Stored>, PortError> {
        let keys = self.keys(&self.bucket, prefix).await?;
        Ok(keys
            .into_iter()
            .map(|key| Stored {
                key,
                metadata: BTreeMap::new(),
            })
            .collect())
    }

    async fn metadata(&self, key: &str) -> Result<Option<BTreeMap<String, String>>, PortError> {
        Ok(self
            .head_of(&self.bucket, key, false)
            .await?
            .map(|out| out.metadata.unwrap_or_default().into_iter().collect()))
    }

    async fn copy_in(
        &self,
        from: &ObjectHead,
        to: &str,
        metadata: &BTreeMap<String, String>,
    ) -> Result<Copied, EffectError> {
        let cfg = self.config().map_err(failed)?;
        let mut source = format!(
            "{}/{}",
            from.bucket,
            utf8_percent_encode(&from.key, COPY_SOURCE)
        );
        if let Some(v) = &from.version_id {
            source.push_str(&format!(
                "?versionId={}",
                utf8_percent_encode(v, COPY_SOURCE)
            ));
        }
        let out = self
            .client
            .get()
            .copy_object()
            .bucket(&self.bucket)
            .key(to)
            .copy_source(source)
            .copy_source_if_match(&from.etag)
            .metadata_directive(MetadataDirective::Replace)
            // The source's tags are not the backup's (and copying them needs tagging rights).
            .tagging_directive(TaggingDirective::Replace)
            .set_metadata(Some(
                metadata.clone().into_iter().collect::<HashMap<_, _>>(),
            ))
            .server_side_encryption(ServerSideEncryption::AwsKms)
            .ssekms_key_id(&self.kms_key_id)
            .checksum_algorithm(ChecksumAlgorithm::Sha256)
            .customize()
            .config_override(cfg)
            .send()
            .await
            .map_err(|e| {
                effect_error(
                    &format!("copy s3://{}/{} to {}", from.bucket, from.key, self.at(to)),
                    e,
                )
            })?;
        let mut sha256 = out
            .copy_object_result()
            .and_then(|r| r.checksum_sha256())
            .map(str::to_owned);
        if sha256.is_none() {
            // S3 answers a copy with its checksum; an emulator may not, and the object itself
            // carries it (reading it there needs kms:Decrypt, which the backup role lacks: on
            // AWS this path is not taken, and if it were, the copy fails as unverified).
            sha256 = self
                .head_of(&self.bucket, to, true)
                .await
                .map_err(|e| failed(e.0))?
                .and_then(|h| h.checksum_sha256);
        }
        Ok(Copied {
            sha256,
            source_version_id: out.copy_source_version_id,
        })
    }

    async fn put(
        &self,
        key: &str,
        body: Vec<u8>,
        metadata: &BTreeMap<String, String>,
    ) -> Result<(), EffectError> {
        let cfg = self.config().map_err(failed)?;
        self.client
            .get()
            .put_object()
            .bucket(&self.bucket)
            .key(key)
            .content_type("application/json")
            .set_metadata(Some(
                metadata.clone().into_iter().collect::<HashMap<_, _>>(),
            ))
            .server_side_encryption(ServerSideEncryption::AwsKms)
            .ssekms_key_id(&self.kms_key_id)
            .checksum_algorithm(ChecksumAlgorithm::Sha256)
            .body(ByteStream::from(body))
            .customize()
            .config_override(cfg)
            .send()
            .await
            .map_err(|e| effect_error(&format!("write {}", self.at(key)), e))?;
        Ok(())
    }

    async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, PortError> {
        super::read(
            self.client.get(),
            &self.bucket,
            key,
            self.config().map_err(PortError)?,
        )
        .await
    }

    async fn delete(&self, key: &str) -> Result<(), EffectError> {
        let cfg = self.config().map_err(failed)?;
        self.client
            .get()
            .delete_object()
            .bucket(&self.bucket)
            .key(key)
            .customize()
            .config_override(cfg)
            .send()
            .await
            .map_err(|e| effect_error(&format!("delete {}", self.at(key)), e))?;
        Ok(())
    }
}
