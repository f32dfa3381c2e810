//! What a cold start of `snapshot` builds once (configuration, RDS clients here and in the DR
//! region, the ledger and topic), and each invocation's composition of the ports over them.

use std::sync::Arc;

use serde_json::Value;

use super::job::{SnapshotError, SnapshotJob};
use crate::adapters::rds::RdsSnapshots;
use crate::adapters::sdk::{Budget, Lazy};
use crate::runtime::{Audit, Config, ConfigError, Invocation, Job};

/// What a cold start of `snapshot` builds once.
#[derive(Clone)]
pub struct SnapshotApp {
    pub config: Arc<Config>,
    pub rds: Lazy<aws_sdk_rds::Client>,
    pub dr: Option<Lazy<aws_sdk_rds::Client>>,
    audit: Audit,
}

impl Job for SnapshotApp {
    const NAME: &'static str = "snapshot";
    type Error = SnapshotError;

    fn build(config: Config, sdk: &aws_config::SdkConfig) -> Result<SnapshotApp, ConfigError> {
        let audit = Audit::new(&config, sdk)?;
        if config.policy.databases.is_empty() {
            return Err(ConfigError::Invalid {
                var: "OPS_POLICY_FILE",
                value: "databases = []".into(),
                why: "the snapshot job needs at least one [[databases]] entry",
            });
        }
        let dr = config
            .policy
            .snapshots
            .copy_to_region
            .as_ref()
            .map(|region| {
                let region = aws_sdk_rds::config::Region::new(region.clone());
                Lazy::new(sdk, move |sdk| {
                    let conf = aws_sdk_rds::config::Builder::from(sdk)
                        .region(region.clone())
                        .build();
                    aws_sdk_rds::Client::from_conf(conf)
                })
            });
        Ok(SnapshotApp {
            rds: Lazy::new(sdk, aws_sdk_rds::Client::new),
            dr,
            audit,
            config: Arc::new(config),
        })
    }

    async fn handle(
        &self,
        payload: &Value,
        inv: &Invocation,
        dry_run: bool,
    ) -> Result<Value, SnapshotError> {
        let budget = Budget::until(inv.deadline);
        // A preview is a dry run that also writes nothing.
        let dry_run = dry_run || self.config.dry_run || self.config.preview;
        let job = SnapshotJob {
            policy: &self.config.policy,
            rds: RdsSnapshots::lazy(&self.rds, budget),
            dr: self.dr.as_ref().map(|c| RdsSnapshots::lazy(c, budget)),
            ledger: self.audit.ledger(budget),
            notifier: self.audit.notifier(budget).marking_dry_run(dry_run),
            dry_run,
        };
        job.handle(payload, inv).await
    }
}
