//! S3: `Reports` (the reports bucket) here; `Objects` and `BackupStore` (configuration read where it
//! lives, and the backup bucket) in `backup`. Every object is written encrypted with KMS.

mod backup;

pub use backup::S3Backups;

use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::ServerSideEncryption;
use aws_sdk_s3::Client;

use crate::adapters::sdk::{effect_error, port_error, Budget, Lazy};
use crate::ports::{Certainty, EffectError, PortError, Reports};

#[derive(Debug, Clone)]
pub struct S3Reports {
    client: Lazy<Client>,
    bucket: String,
    budget: Budget,
}

impl S3Reports {
    pub fn new(client: &Client, bucket: &str, budget: Budget) -> S3Reports {
        S3Reports {
            client: Lazy::ready(client.clone()),
            bucket: bucket.to_owned(),
            budget,
        }
    }

    /// Over a client built at its first use.
    pub fn lazy(client: &Lazy<Client>, bucket: &str, budget: Budget) -> S3Reports {
        S3Reports {
            client: client.clone(),
            bucket: bucket.to_owned(),
            budget,
        }
    }

    fn config(&self) -> Result<aws_sdk_s3::config::Builder, String> {
        Ok(aws_sdk_s3::config::Builder::default().timeout_config(self.budget.timeouts()?))
    }
}

impl Reports for S3Reports {
    async fn put(&self, key: &str, markdown: &str) -> Result<String, EffectError> {
        let cfg = self.config().map_err(|message| EffectError {
            certainty: Certainty::Failed,
            message,
        })?;
        self.client
            .get()
            .put_object()
            .bucket(&self.bucket)
            .key(key)
            .content_type("text/markdown; charset=utf-8")
            .server_side_encryption(ServerSideEncryption::AwsKms)
            .body(ByteStream::from(markdown.as_bytes().to_vec()))
            .customize()
            .config_override(cfg)
            .send()
            .await
            .map_err(|e| effect_error(&format!("write s3://{}/{key}", self.bucket), e))?;
        Ok(format!("s3://{}/{key}", self.bucket))
    }

    async fn get(&self, key: &str) -> Result<Option<String>, PortError> {
        let cfg = self.config().map_err(PortError)?;
        let Some(bytes) = read(self.client.get(), &self.bucket, key, cfg).await? else {
            return Ok(None);
        };
        String::from_utf8(bytes)
            .map(Some)
            .map_err(|_| PortError(format!("s3://{}/{key} is not UTF-8 text", self.bucket)))
    }

    async fn list(&self, prefix: &str) -> Result<Vec<String>, PortError> {
        let cfg = self.config().map_err(PortError)?;
        keys(self.client.get(), &self.bucket, prefix, cfg).await
    }
}

/// The bytes of `bucket/key`; `None` when there is no such object.
pub(super) async fn read(
    client: &Client,
    bucket: &str,
    key: &str,
    cfg: aws_sdk_s3::config::Builder,
) -> Result<Option<Vec<u8>>, PortError> {
    let out = client
        .get_object()
        .bucket(bucket)
        .key(key)
        .customize()
        .config_override(cfg)
        .send()
        .await;
    let out = match out {
        Ok(o) => o,
        Err(e) if e.as_service_error().is_some_and(|se| se.is_no_such_key()) => return Ok(None),
        Err(e) => return Err(port_error(&format!("read s3://{bucket}/{key}"), e)),
    };
    let bytes = out
        .body
        .collect()
        .await
        .map_err(|e| PortError(format!("read s3://{bucket}/{key}: {e}")))?;
    Ok(Some(bytes.to_vec()))
}

/// Every key under `prefix`, all pages, in order.
pub(super) async fn keys(
    client: &Client,
    bucket: &str,
    prefix: &str,
    cfg: aws_sdk_s3::config::Builder,
) -> Result<Vec<String>, PortError> {
    let mut keys = Vec::new();
    let mut token: Option<String> = None;
    loop {
        let out = client
            .list_objects_v2()
            .bucket(bucket)
            .prefix(prefix)
            .set_continuation_token(token.take())
            .customize()
            .config_override(cfg.clone())
            .send()
            .await
            .map_err(|e| port_error(&format!("list s3://{bucket}/{prefix}"), e))?;
        keys.extend(
            out.contents()
                .iter()
                .filter_map(|o| o.key().map(str::to_owned)),
        );
        match out.next_continuation_token() {
            Some(t) if out.is_truncated() == Some(true) => token = Some(t.to_owned()),
            _ => break,
        }
    }
    keys.sort();
    Ok(keys)
}
