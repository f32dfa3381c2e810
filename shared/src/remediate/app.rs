//! What a cold start of `remediate` builds once (configuration, the ECS client, the ledger and
//! topic), and each invocation's composition of the ports over them.

use std::sync::Arc;

use serde_json::Value;

use super::handler::{Ports, RemediateError, Remediator};
use crate::adapters::autoscaling::AppAutoScaling;
use crate::adapters::cloudwatch::CloudWatchAlarms;
use crate::adapters::dynamodb::DynamoLedger;
use crate::adapters::ecs::EcsServices;
use crate::adapters::logs::CloudWatchLogs;
use crate::adapters::rds::RdsSnapshots;
use crate::adapters::s3::S3Reports;
use crate::adapters::sdk::{Budget, Lazy};
use crate::adapters::ssm::SsmParameters;
use crate::runtime::{Audit, Config, ConfigError, Invocation, Job};

/// The ports of a deployed function: one adapter per AWS service.
pub struct Aws;

impl Ports for Aws {
    type Services = EcsServices;
    type Alarms = CloudWatchAlarms;
    type Scaling = AppAutoScaling;
    type Parameters = SsmParameters;
    type Ledger = DynamoLedger;
    type Notifier = crate::adapters::sns::SnsNotifier;
    type Databases = RdsSnapshots;
    type Logs = CloudWatchLogs;
    type Reports = S3Reports;
}

#[derive(Clone)]
pub struct App {
    pub config: Arc<Config>,
    pub ecs: Lazy<aws_sdk_ecs::Client>,
    pub cloudwatch: Lazy<aws_sdk_cloudwatch::Client>,
    pub autoscaling: Lazy<aws_sdk_applicationautoscaling::Client>,
    pub ssm: Lazy<aws_sdk_ssm::Client>,
    pub rds: Lazy<aws_sdk_rds::Client>,
    pub logs: Lazy<aws_sdk_cloudwatchlogs::Client>,
    pub s3: Lazy<aws_sdk_s3::Client>,
    audit: Audit,
}

impl App {
    /// The ledger, for reading an incident's history back.
    pub fn ledger(&self) -> DynamoLedger {
        self.audit.ledger(Budget::unbounded())
    }
}

impl Job for App {
    const NAME: &'static str = "remediate";
    type Error = RemediateError;

    fn build(config: Config, sdk: &aws_config::SdkConfig) -> Result<App, ConfigError> {
        if !config.policy.guards.verify_alarms {
            tracing::warn!(
                "guards.verify_alarms is off: alarm events are acted on without asking CloudWatch whether they still hold"
            );
        }
        Ok(App {
            ecs: Lazy::new(sdk, aws_sdk_ecs::Client::new),
            cloudwatch: Lazy::new(sdk, aws_sdk_cloudwatch::Client::new),
            autoscaling: Lazy::new(sdk, aws_sdk_applicationautoscaling::Client::new),
            ssm: Lazy::new(sdk, aws_sdk_ssm::Client::new),
            rds: Lazy::new(sdk, aws_sdk_rds::Client::new),
            logs: Lazy::new(sdk, aws_sdk_cloudwatchlogs::Client::new),
            s3: Lazy::new(sdk, s3_client),
            audit: Audit::new(&config, sdk)?,
            config: Arc::new(config),
        })
    }

    async fn handle(
        &self,
        payload: &Value,
        inv: &Invocation,
        dry_run: bool,
    ) -> Result<Value, RemediateError> {
        let budget = Budget::until(inv.deadline);
        // A preview is a dry run that also writes nothing.
        let dry_run = dry_run || self.config.dry_run || self.config.preview;
        let r = Remediator::<Aws> {
            policy: &self.config.policy,
            services: EcsServices::lazy(&self.ecs, budget),
            alarms: CloudWatchAlarms::lazy(&self.cloudwatch, budget),
            scaling: AppAutoScaling::lazy(&self.autoscaling, budget),
            parameters: SsmParameters::lazy(&self.ssm, budget),
            ledger: self.audit.ledger(budget),
            notifier: self.audit.notifier(budget).marking_dry_run(dry_run),
            databases: RdsSnapshots::lazy(&self.rds, budget),
            logs: CloudWatchLogs::lazy(&self.logs, budget),
            reports: self
                .config
                .report_bucket
                .as_deref()
                .map(|b| S3Reports::lazy(&self.s3, b, budget.for_bookkeeping())),
            dry_run,
            preview: self.config.preview,
        };
        r.handle(payload, inv).await
    }
}

/// S3 by path (`endpoint/bucket/key`) when the endpoint is set by hand (the local emulator), by
/// virtual host otherwise.
pub fn s3_client(sdk: &aws_config::SdkConfig) -> aws_sdk_s3::Client {
    let conf = aws_sdk_s3::config::Builder::from(sdk)
        .force_path_style(sdk.endpoint_url().is_some())
        .build();
    aws_sdk_s3::Client::from_conf(conf)
}
