//! The environment contract (DESIGN.md): read once at cold start; anything wrong fails there,
//! naming the variable, not in the middle of an incident.

use crate::policy::{Policy, PolicyError};

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("{0}")]
    Policy(#[from] PolicyError),
    #[error("OPS_POLICY_FILE: {0}")]
    PolicyFile(PolicyError),
    #[error("{var} is {value:?}: expected true or false")]
    Bool { var: &'static str, value: String },
    #[error("{var} is required: {why}")]
    Missing {
        var: &'static str,
        why: &'static str,
    },
    #[error(transparent)]
    Stack(#[from] super::stack::StackError),
    #[error("{var} is {value:?}: {why}")]
    Invalid {
        var: &'static str,
        value: String,
        why: &'static str,
    },
}

#[derive(Debug, Clone)]
pub struct Config {
    pub policy: Policy,
    pub topic_arn: Option<String>,
    pub ledger_table: Option<String>,
    pub dry_run: bool,
    /// An operator's look at what would happen (`axiom-ops invoke --dry-run`): the live state is
    /// read, nothing is written to the ledger, so asking twice gives the same answer. Never set
    /// from the environment: a deployed function's shadow mode (`OPS_DRY_RUN`) keeps its own state.
    pub preview: bool,
    /// Notices are printed, not published (`axiom-ops invoke --no-notify`).
    pub print_notices: bool,
    /// The reports bucket (`OPS_REPORT_BUCKET`): post-mortem drafts. Unset, they are rendered
    /// from the ledger on demand only.
    pub report_bucket: Option<String>,
    /// The backup bucket (`OPS_BACKUP_BUCKET`): configuration and secret backups.
    pub backup_bucket: Option<String>,
}

impl Config {
    pub fn from_env() -> Result<Config, ConfigError> {
        Config::from_lookup(|k| std::env::var(k).ok())
    }

    /// The same, from any lookup: tests pass a map instead of touching the process environment.
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<Config, ConfigError> {
        let nonempty = |k: &str| {
            get(k)
                .map(|v| v.trim().to_owned())
                .filter(|v| !v.is_empty())
        };
        let mut policy = match nonempty("OPS_POLICY_FILE") {
            None => Policy::built_in()?,
            Some(path) => Policy::load(Some(&path)).map_err(ConfigError::PolicyFile)?,
        };
        super::stack::apply(&mut policy, nonempty)?;
        let dry_run = match nonempty("OPS_DRY_RUN") {
            None => false,
            Some(v) => match v.to_ascii_lowercase().as_str() {
                "true" | "1" | "yes" => true,
                "false" | "0" | "no" => false,
                _ => {
                    return Err(ConfigError::Bool {
                        var: "OPS_DRY_RUN",
                        value: v,
                    })
                }
            },
        };
        let topic_arn = nonempty("OPS_TOPIC_ARN");
        if let Some(arn) = &topic_arn {
            if !arn.starts_with("arn:") || arn.split(':').count() != 6 {
                return Err(ConfigError::Invalid {
                    var: "OPS_TOPIC_ARN",
                    value: arn.clone(),
                    why: "not an SNS topic ARN (arn:aws:sns:<region>:<account>:<name>)",
                });
            }
        }
        Ok(Config {
            policy,
            topic_arn,
            ledger_table: nonempty("OPS_LEDGER_TABLE"),
            dry_run,
            preview: false,
            print_notices: false,
            report_bucket: nonempty("OPS_REPORT_BUCKET"),
            backup_bucket: nonempty("OPS_BACKUP_BUCKET"),
        })
    }

    /// The backup bucket, for `backup` (and the restores and the drill).
    pub fn require_backup_bucket(&self) -> Result<&str, ConfigError> {
        self.backup_bucket.as_deref().ok_or(ConfigError::Missing {
            var: "OPS_BACKUP_BUCKET",
            why: "backups are written to (and restored from) that bucket",
        })
    }

    /// The ledger table, for jobs that record (every mutating one).
    pub fn require_ledger(&self) -> Result<&str, ConfigError> {
        self.ledger_table.as_deref().ok_or(ConfigError::Missing {
            var: "OPS_LEDGER_TABLE",
            why: "every decision is recorded in the ledger before anything is changed",
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn with(vars: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let m: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Config::from_lookup(|k| m.get(k).cloned())
    }

    #[test]
    fn defaults_are_the_contract() {
        let c = with(&[]).expect("defaults");
        assert!(!c.dry_run);
        assert_eq!(c.topic_arn, None);
        assert_eq!(c.policy.cluster, "axiomcore-production");
        assert!(c
            .require_ledger()
            .expect_err("no table")
            .to_string()
            .contains("OPS_LEDGER_TABLE"));
    }

    #[test]
    fn bad_values_name_the_variable() {
        assert!(with(&[("OPS_DRY_RUN", "maybe")])
            .expect_err("bad")
            .to_string()
            .contains("OPS_DRY_RUN"));
        assert!(with(&[("OPS_TOPIC_ARN", "ops-topic")])
            .expect_err("bad")
            .to_string()
            .contains("OPS_TOPIC_ARN"));
        assert!(with(&[("OPS_POLICY_FILE", "/no/such/policy.toml")])
            .expect_err("bad")
            .to_string()
            .contains("/no/such/policy.toml"));
        assert!(with(&[("OPS_DRY_RUN", "TRUE")]).expect("ok").dry_run);
        let keys = with(&[
            (
                "OPS_BACKUP_KMS_KEY_ID",
                "arn:aws:kms:us-east-1:123456789012:key/k1",
            ),
            ("OPS_BACKUP_HMAC_KEY_ID", " alias/staging-hmac "),
        ])
        .expect("ok");
        assert_eq!(
            keys.policy.backup.kms_key_id,
            "arn:aws:kms:us-east-1:123456789012:key/k1"
        );
        assert_eq!(keys.policy.backup.hmac_key_id, "alias/staging-hmac");
    }
}
