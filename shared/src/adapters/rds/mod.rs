//! `Snapshots` on Amazon RDS, for DB instances and Aurora clusters alike; `Restores` (a snapshot
//! restored to a new instance, and that instance deleted) in `restore`.

mod restore;

use aws_sdk_rds::types::Tag;
use aws_sdk_rds::Client;
use chrono::{DateTime, Utc};

use crate::adapters::sdk::{effect_error, port_error, Budget, Lazy};
use crate::model::{Created, DbState, SnapInfo, MANAGED_TAG};
use crate::model::{Database, DbKind};
use crate::ports::{Certainty, Databases, EffectError, PortError, Snapshots};

/// RDS pages hold at most 100 records; each page is reduced to `SnapInfo` before the next.
pub(super) const PAGE: i32 = 100;

#[derive(Debug, Clone)]
pub struct RdsSnapshots {
    client: Lazy<Client>,
    budget: Budget,
}

pub(super) fn time(t: Option<&aws_sdk_rds::primitives::DateTime>) -> Option<DateTime<Utc>> {
    t.and_then(|t| DateTime::<Utc>::from_timestamp(t.secs(), t.subsec_nanos()))
}

fn managed(tags: &[Tag], id: &str, db: &str) -> bool {
    id.starts_with(&format!("{db}-auto-"))
        && tags
            .iter()
            .any(|t| t.key() == Some(MANAGED_TAG.0) && t.value() == Some(MANAGED_TAG.1))
}

pub(super) fn tags(pairs: &[(String, String)]) -> Vec<Tag> {
    pairs
        .iter()
        .map(|(k, v)| Tag::builder().key(k).value(v).build())
        .collect()
}

pub(super) fn is_code<E: aws_sdk_rds::error::ProvideErrorMetadata>(
    e: &aws_sdk_rds::error::SdkError<E>,
    codes: &[&str],
) -> bool {
    e.as_service_error()
        .and_then(|se| se.code())
        .is_some_and(|c| codes.contains(&c))
}

impl RdsSnapshots {
    pub fn new(client: &Client, budget: Budget) -> RdsSnapshots {
        RdsSnapshots {
            client: Lazy::ready(client.clone()),
            budget,
        }
    }

    /// Over a client built at its first use.
    pub fn lazy(client: &Lazy<Client>, budget: Budget) -> RdsSnapshots {
        RdsSnapshots {
            client: client.clone(),
            budget,
        }
    }

    pub(super) fn client(&self) -> &Client {
        self.client.get()
    }

    pub(super) fn config(&self) -> Result<aws_sdk_rds::config::Builder, String> {
        Ok(aws_sdk_rds::config::Builder::default().timeout_config(self.budget.timeouts()?))
    }

    pub(super) fn too_late(message: String) -> EffectError {
        EffectError {
            certainty: Certainty::Failed,
            message,
        }
    }
}

impl Databases for RdsSnapshots {
    async fn database(&self, db: &Database) -> Result<Option<DbState>, PortError> {
        let cfg = self.config().map_err(PortError)?;
        if db.kind == DbKind::Cluster {
            let res = self
                .client()
                .describe_db_clusters()
                .db_cluster_identifier(&db.id)
                .customize()
                .config_override(cfg)
                .send()
                .await;
            return match res {
                Ok(out) => Ok(out.db_clusters().first().map(|c| DbState {
                    status: c.status().unwrap_or("unknown").to_owned(),
                    arn: c.db_cluster_arn().map(str::to_owned),
                    // A cluster's certificates are its instances'.
                    ..DbState::default()
                })),
                Err(e) if is_code(&e, &["DBClusterNotFoundFault"]) => Ok(None),
                Err(e) => Err(port_error(&format!("describe cluster {}", db.id), e)),
            };
        }
        let res = self
            .client()
            .describe_db_instances()
            .db_instance_identifier(&db.id)
            .customize()
            .config_override(cfg)
            .send()
            .await;
        match res {
            Ok(out) => Ok(out.db_instances().first().map(|i| {
                let cert = i.certificate_details();
                DbState {
                    status: i.db_instance_status().unwrap_or("unknown").to_owned(),
                    arn: i.db_instance_arn().map(str::to_owned),
                    ca: cert
                        .and_then(|c| c.ca_identifier())
                        .or(i.ca_certificate_identifier())
                        .map(str::to_owned),
                    cert_valid_till: time(cert.and_then(|c| c.valid_till())),
                }
            })),
            Err(e) if is_code(&e, &["DBInstanceNotFound", "DBInstanceNotFoundFault"]) => Ok(None),
            Err(e) => Err(port_error(&format!("describe instance {}", db.id), e)),
        }
    }
}

impl Snapshots for RdsSnapshots {
    async fn create(
        &self,
        db: &Database,
        id: &str,
        tag_pairs: &[(String, String)],
    ) -> Result<Created, EffectError> {
        let cfg = self.config().map_err(Self::too_late)?;
        let what = format!("create snapshot {id} of {}", db.id);
        let res = if db.kind == DbKind::Cluster {
            self.client()
                .create_db_cluster_snapshot()
                .db_cluster_identifier(&db.id)
                .db_cluster_snapshot_identifier(id)
                .set_tags(Some(tags(tag_pairs)))
                .customize()
                .config_override(cfg)
                .send()
                .await
                .map(|_| ())
                .map_err(|e| {
                    if is_code(&e, &["DBClusterSnapshotAlreadyExistsFault"]) {
                        None
                    } else {
                        Some(effect_error(&what, e))
                    }
                })
        } else {
            self.client()
                .create_db_snapshot()
                .db_instance_identifier(&db.id)
                .db_snapshot_identifier(id)
                .set_tags(Some(tags(tag_pairs)))
                .customize()
                .config_override(cfg)
                .send()
                .await
                .map(|_| ())
                .map_err(|e| {
                    if is_code(
                        &e,
                        &["DBSnapshotAlreadyExists", "DBSnapshotAlreadyExistsFault"],
                    ) {
                        None
                    } else {
                        Some(effect_error(&what, e))
                    }
                })
        };
        match res {
            Ok(()) => Ok(Created::New),
            // The same tick delivered again: the snapshot is there already.
            Err(None) => Ok(Created::Existing),
            Err(Some(e)) => Err(e),
        }
    }

    async fn list_managed(&self, db: &Database) -> Result<Vec<SnapInfo>, PortError> {
        let mut out = Vec::new();
        let mut marker: Option<String> = None;
        let what = format!("list snapshots of {}", db.id);
        // Page by page: each is reduced to `SnapInfo` and dropped before the next is read.
        loop {
            let cfg = self.config().map_err(PortError)?;
            let next = if db.kind == DbKind::Cluster {
                let page = self
                    .client()
                    .describe_db_cluster_snapshots()
                    .db_cluster_identifier(&db.id)
                    .snapshot_type("manual")
                    .max_records(PAGE)
                    .set_marker(marker.take())
                    .customize()
                    .config_override(cfg)
                    .send()
                    .await
                    .map_err(|e| port_error(&what, e))?;
                for s in page.db_cluster_snapshots() {
                    let id = s.db_cluster_snapshot_identifier().unwrap_or_default();
                    if managed(s.tag_list(), id, &db.id) {
                        out.push(SnapInfo {
                            id: id.to_owned(),
                            arn: s.db_cluster_snapshot_arn().map(str::to_owned),
                            created: time(s.snapshot_create_time()),
                            status: s.status().unwrap_or("unknown").to_owned(),
                        });
                    }
                }
                page.marker().map(str::to_owned)
            } else {
                let page = self
                    .client()
                    .describe_db_snapshots()
                    .db_instance_identifier(&db.id)
                    .snapshot_type("manual")
                    .max_records(PAGE)
                    .set_marker(marker.take())
                    .customize()
                    .config_override(cfg)
                    .send()
                    .await
                    .map_err(|e| port_error(&what, e))?;
                for s in page.db_snapshots() {
                    let id = s.db_snapshot_identifier().unwrap_or_default();
                    if managed(s.tag_list(), id, &db.id) {
                        out.push(SnapInfo {
                            id: id.to_owned(),
                            arn: s.db_snapshot_arn().map(str::to_owned),
                            created: time(s.snapshot_create_time()),
                            status: s.status().unwrap_or("unknown").to_owned(),
                        });
                    }
                }
                page.marker().map(str::to_owned)
            };
            match next {
                Some(m) if !m.is_empty() => marker = Some(m),
                _ => return Ok(out),
            }
        }
    }

    async fn delete(&self, db: &Database, id: &str) -> Result<(), EffectError> {
        let cfg = self.config().map_err(Self::too_late)?;
        let what = format!("delete snapshot {id}");
        if db.kind == DbKind::Cluster {
            self.client()
                .delete_db_cluster_snapshot()
                .db_cluster_snapshot_identifier(id)
                .customize()
                .config_override(cfg)
                .send()
                .await
                .map_err(|e| effect_error(&what, e))?;
        } else {
            self.client()
                .delete_db_snapshot()
                .db_snapshot_identifier(id)
                .customize()
                .config_override(cfg)
                .send()
                .await
                .map_err(|e| effect_error(&what, e))?;
        }
        Ok(())
    }

    async fn copy(
        &self,
        db: &Database,
        source_arn: &str,
        id: &str,
        kms_key_id: Option<&str>,
    ) -> Result<Created, EffectError> {
        let cfg = self.config().map_err(Self::too_late)?;
        let what = format!("copy {source_arn} to {id}");
        let res = if db.kind == DbKind::Cluster {
            self.client()
                .copy_db_cluster_snapshot()
                .source_db_cluster_snapshot_identifier(source_arn)
                .target_db_cluster_snapshot_identifier(id)
                .copy_tags(true)
                .set_kms_key_id(kms_key_id.map(str::to_owned))
                .customize()
                .config_override(cfg)
                .send()
                .await
                .map(|_| ())
                .map_err(|e| {
                    (
                        is_code(&e, &["DBClusterSnapshotAlreadyExistsFault"]),
                        effect_error(&what, e),
                    )
                })
        } else {
            self.client()
                .copy_db_snapshot()
                .source_db_snapshot_identifier(source_arn)
                .target_db_snapshot_identifier(id)
                .copy_tags(true)
                .set_kms_key_id(kms_key_id.map(str::to_owned))
                .customize()
                .config_override(cfg)
                .send()
                .await
                .map(|_| ())
                .map_err(|e| {
                    (
                        is_code(
                            &e,
                            &["DBSnapshotAlreadyExists", "DBSnapshotAlreadyExistsFault"],
                        ),
                        effect_error(&what, e),
                    )
                })
        };
        match res {
            Ok(()) => Ok(Created::New),
            Err((true, _)) => Ok(Created::Existing),
            Err((false, e)) => Err(e),
        }
    }

    async fn quota(&self) -> Result<Option<(i64, i64)>, PortError> {
        let out = self
            .client()
            .describe_account_attributes()
            .customize()
            .config_override(self.config().map_err(PortError)?)
            .send()
            .await
            .map_err(|e| match e.raw_response() {
                // The whole error would drag an HTML page into the log; its status says enough.
                Some(raw) => PortError(format!(
                    "read the account's RDS quotas: HTTP {}",
                    raw.status().as_u16()
                )),
                None => port_error("read the account's RDS quotas", e),
            })?;
        Ok(out
            .account_quotas()
            .iter()
            .find(|q| q.account_quota_name() == Some("ManualSnapshots"))
            .and_then(|q| Some((q.used()?, q.max()?))))
    }

    async fn status(&self, db: &Database, id: &str) -> Result<Option<String>, PortError> {
        let cfg = self.config().map_err(PortError)?;
        if db.kind == DbKind::Cluster {
            let res = self
                .client()
                .describe_db_cluster_snapshots()
                .db_cluster_snapshot_identifier(id)
                .customize()
                .config_override(cfg)
                .send()
                .await;
            return match res {
                Ok(out) => Ok(out
                    .db_cluster_snapshots()
                    .first()
                    .and_then(|s| s.status())
                    .map(str::to_owned)),
                Err(e) if is_code(&e, &["DBClusterSnapshotNotFoundFault"]) => Ok(None),
                Err(e) => Err(port_error(&format!("describe snapshot {id}"), e)),
            };
        }
        let res = self
            .client()
            .describe_db_snapshots()
            .db_snapshot_identifier(id)
            .customize()
            .config_override(cfg)
            .send()
            .await;
        match res {
            Ok(out) => Ok(out
                .db_snapshots()
                .first()
                .and_then(|s| s.status())
                .map(str::to_owned)),
            Err(e) if is_code(&e, &["DBSnapshotNotFound", "DBSnapshotNotFoundFault"]) => Ok(None),
            Err(e) => Err(port_error(&format!("describe snapshot {id}"), e)),
        }
    }
}
