//! What a cold start of `drill` builds once (configuration, RDS — in the DR region when the
//! policy copies snapshots there —, S3, Secrets Manager, KMS, the ledger and topic), and each
//! invocation's composition of the ports over them.

use std::sync::Arc;

use serde_json::Value;

use super::job::{DrillError, DrillJob};
use crate::adapters::kms::KmsKeys;
use crate::adapters::rds::RdsSnapshots;
use crate::adapters::s3::S3Backups;
use crate::adapters::sdk::{Budget, Lazy};
use crate::adapters::secrets::SecretsManager;
use crate::runtime::{Audit, Config, ConfigError, Invocation, Job};

#[derive(Clone)]
pub struct DrillApp {
    pub config: Arc<Config>,
    bucket: String,
    rds: Lazy<aws_sdk_rds::Client>,
    s3: Lazy<aws_sdk_s3::Client>,
    secrets: Lazy<aws_sdk_secretsmanager::Client>,
    kms: Lazy<aws_sdk_kms::Client>,
    audit: Audit,
}

impl DrillApp {
    /// The ledger, for reading a drill's progress back (`axiom-ops drill status`).
    pub fn ledger(&self) -> crate::adapters::dynamodb::DynamoLedger {
        self.audit.ledger(Budget::unbounded())
    }
}

impl Job for DrillApp {
    const NAME: &'static str = "drill";
    type Error = DrillError;

    fn build(config: Config, sdk: &aws_config::SdkConfig) -> Result<DrillApp, ConfigError> {
        let audit = Audit::new(&config, sdk)?;
        let bucket = config.require_backup_bucket()?.to_owned();
        let rds = match config.policy.snapshots.copy_to_region.clone() {
            None => Lazy::new(sdk, aws_sdk_rds::Client::new),
            Some(region) => Lazy::new(sdk, move |sdk| {
                let conf = aws_sdk_rds::config::Builder::from(sdk)
                    .region(aws_sdk_rds::config::Region::new(region.clone()))
                    .build();
                aws_sdk_rds::Client::from_conf(conf)
            }),
        };
        Ok(DrillApp {
            bucket,
            rds,
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
    ) -> Result<Value, DrillError> {
        let budget = Budget::until(inv.deadline);
        let policy = &self.config.policy;
        let job = DrillJob {
            policy,
            rds: RdsSnapshots::lazy(&self.rds, budget),
            region: policy.snapshots.copy_to_region.clone(),
            vault: S3Backups::lazy(&self.s3, &self.bucket, &policy.backup.kms_key_id, budget),
            secrets: SecretsManager::lazy(&self.secrets, budget),
            kms: KmsKeys::lazy(&self.kms, budget),
            ledger: self.audit.ledger(budget),
            notifier: self.audit.notifier(budget),
            // A preview, or a deployed shadow: the drill is then only described.
            dry_run: dry_run || self.config.dry_run || self.config.preview,
        };
        job.handle(payload, inv).await
    }
}
