//! What a cold start of `certwatch` builds once (configuration, ACM, ELB and RDS clients, the TLS
//! roots, the ledger and topic), and each invocation's composition of the ports over them.

use std::sync::Arc;

use serde_json::Value;

use super::job::{CertwatchError, CertwatchJob};
use super::observe::Sources;
use crate::adapters::acm::AcmCertificates;
use crate::adapters::dns::SystemDns;
use crate::adapters::elbv2::ElbListeners;
use crate::adapters::rds::RdsSnapshots;
use crate::adapters::sdk::{Budget, Lazy};
use crate::adapters::tls::TlsProbe;
use crate::policy::PolicyError;
use crate::runtime::{Audit, Config, ConfigError, Invocation, Job};

#[derive(Clone)]
pub struct CertwatchApp {
    pub config: Arc<Config>,
    acm: Lazy<aws_sdk_acm::Client>,
    elb: Lazy<aws_sdk_elasticloadbalancingv2::Client>,
    rds: Lazy<aws_sdk_rds::Client>,
    probe: TlsProbe,
    dns: SystemDns,
    audit: Audit,
}

impl Job for CertwatchApp {
    const NAME: &'static str = "certwatch";
    type Error = CertwatchError;

    fn build(config: Config, sdk: &aws_config::SdkConfig) -> Result<CertwatchApp, ConfigError> {
        let audit = Audit::new(&config, sdk)?;
        let extra = config.policy.certificates.extra_ca_file.as_deref();
        let probe = TlsProbe::new(extra).map_err(|problem| {
            ConfigError::Policy(PolicyError::Invalid {
                origin: "OPS_POLICY_FILE".into(),
                field: "certificates.extra_ca_file".into(),
                problem,
            })
        })?;
        Ok(CertwatchApp {
            acm: Lazy::new(sdk, aws_sdk_acm::Client::new),
            elb: Lazy::new(sdk, aws_sdk_elasticloadbalancingv2::Client::new),
            rds: Lazy::new(sdk, aws_sdk_rds::Client::new),
            probe,
            dns: SystemDns::new(),
            audit,
            config: Arc::new(config),
        })
    }

    async fn handle(
        &self,
        payload: &Value,
        inv: &Invocation,
        dry_run: bool,
    ) -> Result<Value, CertwatchError> {
        let budget = Budget::until(inv.deadline);
        // A shadow run (OPS_DRY_RUN) keeps its own record of what it told. A preview (the CLI's
        // --dry-run) compares with what live runs told, through a ledger that writes nothing.
        let dry_run = dry_run || self.config.dry_run;
        let marked = dry_run || self.config.preview;
        let acm = AcmCertificates::lazy(&self.acm, budget);
        let elb = ElbListeners::lazy(&self.elb, budget);
        let rds = RdsSnapshots::lazy(&self.rds, budget);
        let job = CertwatchJob {
            policy: &self.config.policy,
            sources: Sources {
                certificates: &acm,
                listeners: &elb,
                probe: &self.probe,
                databases: &rds,
                dns: &self.dns,
            },
            ledger: self.audit.ledger(budget),
            notifier: self.audit.notifier(budget).marking_dry_run(marked),
            dry_run,
        };
        job.handle(payload, inv).await
    }
}
