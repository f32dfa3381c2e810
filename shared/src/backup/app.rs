//! What a cold start of `backup` builds once (configuration, the S3, Secrets Manager and KMS
//! clients, the ledger and topic), and each invocation's composition of the ports over them.

use std::sync::Arc;

use serde_json::Value;

use super::job::{BackupError, BackupJob};
use crate::adapters::kms::KmsKeys;
use crate::adapters::s3::S3Backups;
use crate::adapters::sdk::{Budget, Lazy};
use crate::adapters::secrets::SecretsManager;
use crate::runtime::{Audit, Config, ConfigError, Invocation, Job};

#[derive(Clone)]
pub struct BackupApp {
    pub config: Arc<Config>,
    bucket: String,
    s3: Lazy<aws_sdk_s3::Client>,
    secrets: Lazy<aws_sdk_secretsmanager::Client>,
    kms: Lazy<aws_sdk_kms::Client>,
    audit: Audit,
}

impl Job for BackupApp {
    const NAME: &'static str = "backup";
    type Error = BackupError;

    fn build(config: Config, sdk: &aws_config::SdkConfig) -> Result<BackupApp, ConfigError> {
        let audit = Audit::new(&config, sdk)?;
        let bucket = config.require_backup_bucket()?.to_owned();
        Ok(BackupApp {
            bucket,
            s3: Lazy::new(sdk, aws_sdk_s3::Client::new),
            secrets: Lazy::new(sdk, aws_sdk_secretsmanager::Client::new),
            kms: Lazy::new(sdk, aws_sdk_kms::Client::new),
            audit,
            config: Arc::new(config),
        })
    }

    async fn handle(
        &self,
        payload: &Value,
        inv: &Invocation,
        dry_run: bool,
    ) -> Result<Value, BackupError> {
        let budget = Budget::until(inv.deadline);
        // A preview is a dry run that also writes nothing.
        let dry_run = dry_run || self.config.dry_run || self.config.preview;
        let policy = &self.config.policy.backup;
        let job = BackupJob {
            policy,
            s3: S3Backups::lazy(&self.s3, &self.bucket, &policy.kms_key_id, budget),
            secrets: SecretsManager::lazy(&self.secrets, budget),
            kms: KmsKeys::lazy(&self.kms, budget),
            ledger: self.audit.ledger(budget),
            notifier: self.audit.notifier(budget).marking_dry_run(dry_run),
            dry_run,
        };
        job.handle(payload, inv).await
    }
}
