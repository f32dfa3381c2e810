//! Where every job records and announces: the ledger table and the ops topic. Built once per cold
//! start; each invocation gets adapters bounded by its own deadline.

use super::{Config, ConfigError};
use crate::adapters::dynamodb::DynamoLedger;
use crate::adapters::sdk::{Budget, Lazy};
use crate::adapters::sns::SnsNotifier;

#[derive(Clone)]
pub struct Audit {
    dynamodb: Lazy<aws_sdk_dynamodb::Client>,
    sns: Lazy<aws_sdk_sns::Client>,
    table: String,
    topic_arn: Option<String>,
    preview: bool,
    print_notices: bool,
}

impl Audit {
    /// Fails without `OPS_LEDGER_TABLE`: every job records before it changes anything.
    pub fn new(config: &Config, sdk: &aws_config::SdkConfig) -> Result<Audit, ConfigError> {
        let table = config.require_ledger()?.to_owned();
        if config.topic_arn.is_none() {
            tracing::warn!("OPS_TOPIC_ARN is not set: notifications go to the log only");
        }
        Ok(Audit {
            dynamodb: Lazy::new(sdk, aws_sdk_dynamodb::Client::new),
            sns: Lazy::new(sdk, aws_sdk_sns::Client::new),
            table,
            topic_arn: config.topic_arn.clone(),
            preview: config.preview,
            print_notices: config.print_notices,
        })
    }

    /// The ledger for one invocation: recording may use the time its actions left over.
    pub fn ledger(&self, budget: Budget) -> DynamoLedger {
        DynamoLedger::lazy(&self.dynamodb, &self.table, budget.for_bookkeeping())
            .read_only(self.preview)
    }

    pub fn notifier(&self, budget: Budget) -> SnsNotifier {
        if self.print_notices {
            return SnsNotifier::printing();
        }
        SnsNotifier::lazy(
            &self.sns,
            self.topic_arn.as_deref(),
            budget.for_bookkeeping(),
        )
    }
}
