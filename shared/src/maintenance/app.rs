//! What a cold start of `maintenance` builds once (configuration and the clients of every service
//! the window touches), and each invocation's composition of the ports over them.

use std::sync::Arc;

use serde_json::Value;

use super::job::{MaintenanceError, MaintenanceJob};
use crate::adapters::autoscaling::AppAutoScaling;
use crate::adapters::cloudwatch::CloudWatchAlarms;
use crate::adapters::dynamodb::DynamoLedger;
use crate::adapters::ecs::EcsServices;
use crate::adapters::http::HttpHealth;
use crate::adapters::rds::RdsSnapshots;
use crate::adapters::sdk::{Budget, Lazy};
use crate::adapters::ssm::SsmParameters;
use crate::runtime::{Audit, Config, ConfigError, Invocation, Job};

#[derive(Clone)]
pub struct MaintenanceApp {
    pub config: Arc<Config>,
    pub ecs: Lazy<aws_sdk_ecs::Client>,
    pub rds: Lazy<aws_sdk_rds::Client>,
    pub scaling: Lazy<aws_sdk_applicationautoscaling::Client>,
    pub ssm: Lazy<aws_sdk_ssm::Client>,
    pub cloudwatch: Lazy<aws_sdk_cloudwatch::Client>,
    pub health: HttpHealth,
    audit: Audit,
}

impl MaintenanceApp {
    pub fn ledger(&self) -> DynamoLedger {
        self.audit.ledger(Budget::unbounded())
    }
}

impl Job for MaintenanceApp {
    const NAME: &'static str = "maintenance";
    type Error = MaintenanceError;

    fn build(config: Config, sdk: &aws_config::SdkConfig) -> Result<MaintenanceApp, ConfigError> {
        let audit = Audit::new(&config, sdk)?;
        if config.policy.maintenance.is_none() {
            return Err(ConfigError::Invalid {
                var: "OPS_POLICY_FILE",
                value: "no [maintenance]".into(),
                why: "the maintenance job needs a [maintenance] section",
            });
        }
        Ok(MaintenanceApp {
            ecs: Lazy::new(sdk, aws_sdk_ecs::Client::new),
            rds: Lazy::new(sdk, aws_sdk_rds::Client::new),
            scaling: Lazy::new(sdk, aws_sdk_applicationautoscaling::Client::new),
            ssm: Lazy::new(sdk, aws_sdk_ssm::Client::new),
            cloudwatch: Lazy::new(sdk, aws_sdk_cloudwatch::Client::new),
            health: HttpHealth::new(),
            audit,
            config: Arc::new(config),
        })
    }

    async fn handle(
        &self,
        payload: &Value,
        inv: &Invocation,
        dry_run: bool,
    ) -> Result<Value, MaintenanceError> {
        let budget = Budget::until(inv.deadline);
        // A preview is a dry run that also writes nothing.
        let dry_run = dry_run || self.config.dry_run || self.config.preview;
        let job = MaintenanceJob {
            policy: &self.config.policy,
            ecs: EcsServices::lazy(&self.ecs, budget),
            rds: RdsSnapshots::lazy(&self.rds, budget),
            scaling: AppAutoScaling::lazy(&self.scaling, budget),
            parameters: SsmParameters::lazy(&self.ssm, budget),
            alarms: CloudWatchAlarms::lazy(&self.cloudwatch, budget),
            health: self.health.clone(),
            ledger: self.audit.ledger(budget),
            notifier: self.audit.notifier(budget).marking_dry_run(dry_run),
            dry_run,
        };
        job.handle(payload, inv).await
    }
}
