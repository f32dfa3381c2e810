//! `Restores` on RDS: `RestoreDBInstanceFromDBSnapshot`, the instance watched, then deleted.

use aws_sdk_rds::types::DbInstance;

use super::{is_code, tags, time, RdsSnapshots, PAGE};
use crate::adapters::sdk::{effect_error, port_error};
use crate::model::{Instance, RestoreSpec, SnapshotFacts};
use crate::ports::{EffectError, PortError, Restores};

const NO_INSTANCE: &[&str] = &["DBInstanceNotFound", "DBInstanceNotFoundFault"];

fn instance_of(i: &DbInstance) -> Instance {
    Instance {
        id: i.db_instance_identifier().unwrap_or_default().to_owned(),
        status: i.db_instance_status().unwrap_or("unknown").to_owned(),
        engine: i.engine().unwrap_or_default().to_owned(),
        engine_version: i.engine_version().unwrap_or_default().to_owned(),
        endpoint: i.endpoint().and_then(|e| {
            let host = e.address()?;
            Some(match e.port() {
                Some(p) => format!("{host}:{p}"),
                None => host.to_owned(),
            })
        }),
        publicly_accessible: i.publicly_accessible().unwrap_or(false),
        tags: i
            .tag_list()
            .iter()
            .filter_map(|t| {
                Some((
                    t.key()?.to_owned(),
                    t.value().unwrap_or_default().to_owned(),
                ))
            })
            .collect(),
        created: time(i.instance_create_time()),
    }
}

impl Restores for RdsSnapshots {
    async fn snapshot(&self, id: &str) -> Result<Option<SnapshotFacts>, PortError> {
        let res = self
            .client()
            .describe_db_snapshots()
            .db_snapshot_identifier(id)
            .customize()
            .config_override(self.config().map_err(PortError)?)
            .send()
            .await;
        match res {
            Ok(out) => Ok(out.db_snapshots().first().map(|s| SnapshotFacts {
                id: id.to_owned(),
                instance: s.db_instance_identifier().unwrap_or_default().to_owned(),
                engine: s.engine().unwrap_or_default().to_owned(),
                engine_version: s.engine_version().unwrap_or_default().to_owned(),
                status: s.status().unwrap_or("unknown").to_owned(),
                created: time(s.snapshot_create_time()),
            })),
            Err(e) if is_code(&e, &["DBSnapshotNotFound", "DBSnapshotNotFoundFault"]) => Ok(None),
            Err(e) => Err(port_error(&format!("describe snapshot {id}"), e)),
        }
    }

    async fn restore(
        &self,
        snapshot: &str,
        instance: &str,
        spec: &RestoreSpec,
    ) -> Result<(), EffectError> {
        let cfg = self.config().map_err(Self::too_late)?;
        self.client()
            .restore_db_instance_from_db_snapshot()
            .db_snapshot_identifier(snapshot)
            .db_instance_identifier(instance)
            .set_db_instance_class(spec.class.clone())
            .set_db_subnet_group_name(spec.subnet_group.clone())
            .set_vpc_security_group_ids(
                (!spec.security_groups.is_empty()).then(|| spec.security_groups.clone()),
            )
            .publicly_accessible(false)
            .set_tags(Some(tags(&spec.tags)))
            .customize()
            .config_override(cfg)
            .send()
            .await
            .map_err(|e| effect_error(&format!("restore {snapshot} as {instance}"), e))?;
        Ok(())
    }

    async fn instance(&self, id: &str) -> Result<Option<Instance>, PortError> {
        let res = self
            .client()
            .describe_db_instances()
            .db_instance_identifier(id)
            .customize()
            .config_override(self.config().map_err(PortError)?)
            .send()
            .await;
        match res {
            Ok(out) => Ok(out.db_instances().first().map(instance_of)),
            Err(e) if is_code(&e, NO_INSTANCE) => Ok(None),
            Err(e) => Err(port_error(&format!("describe instance {id}"), e)),
        }
    }

    async fn tagged(&self, key: &str, value: &str) -> Result<Vec<Instance>, PortError> {
        let mut out = Vec::new();
        let mut marker: Option<String> = None;
        loop {
            let page = self
                .client()
                .describe_db_instances()
                .max_records(PAGE)
                .set_marker(marker.take())
                .customize()
                .config_override(self.config().map_err(PortError)?)
                .send()
                .await
                .map_err(|e| port_error("list DB instances", e))?;
            out.extend(
                page.db_instances()
                    .iter()
                    .map(instance_of)
                    .filter(|i| i.tag(key) == Some(value)),
            );
            match page.marker() {
                Some(m) if !m.is_empty() => marker = Some(m.to_owned()),
                _ => return Ok(out),
            }
        }
    }

    async fn delete_instance(&self, id: &str) -> Result<(), EffectError> {
        let cfg = self.config().map_err(Self::too_late)?;
        let res = self
            .client()
            .delete_db_instance()
            .db_instance_identifier(id)
            .skip_final_snapshot(true)
            .delete_automated_backups(true)
            .customize()
            .config_override(cfg)
            .send()
            .await;
        match res {
            Ok(_) => Ok(()),
            // Already gone, or already being deleted: what was asked for.
            Err(e) if is_code(&e, NO_INSTANCE) => Ok(()),
            Err(e)
                if is_code(
                    &e,
                    &["InvalidDBInstanceState", "InvalidDBInstanceStateFault"],
                ) =>
            {
                match self.instance(id).await {
                    Ok(Some(i)) if i.status == "deleting" => Ok(()),
                    _ => Err(effect_error(&format!("delete instance {id}"), e)),
                }
            }
            Err(e) => Err(effect_error(&format!("delete instance {id}"), e)),
        }
    }
}
