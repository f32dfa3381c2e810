//! The guide's restore commands, made hard to misuse (the CLI's `restore config|secret|db`):
//! what a restore would replace is known before it is done, a backup that does not match its own
//! checksum is refused, nothing is ever deleted, and every restore that changes something is
//! recorded in the ledger and announced.

use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use super::plan::meta;
use super::seal::{self, Sealed};
use crate::model::{
    hex, job_notice, key_part, Action, Outcome, Plaintext, Severity, SnapshotFacts,
};
use crate::policy::Policy;
use crate::ports::{BackupStore, Keys, Ledger, Notifier, Restores, Secrets};

/// A configuration backup's bytes, checked against the SHA-256 it was stored with.
pub async fn read_config<V: BackupStore>(vault: &V, key: &str) -> Result<Vec<u8>, String> {
    if !key.starts_with("config/") {
        return Err(format!(
            "{key} is not a configuration backup (those are config/<bucket>/<key>/<time>; see `axiom-ops backups`)"
        ));
    }
    let bytes = vault
        .get(key)
        .await
        .map_err(|e| e.0)?
        .ok_or_else(|| format!("there is no backup {key}"))?;
    let metadata = vault
        .metadata(key)
        .await
        .map_err(|e| e.0)?
        .unwrap_or_default();
    let want = metadata.get(meta::SHA256).ok_or_else(|| {
        format!("{key} carries no SHA-256: it cannot be verified, so it is not restored")
    })?;
    let got = hex(&Sha256::digest(&bytes));
    if &got != want {
        return Err(format!(
            "{key} has SHA-256 {got}, not the {want} it was stored with: refused"
        ));
    }
    Ok(bytes)
}

/// A secret's restore, decided before anything is changed.
#[derive(Debug)]
pub struct SecretRestore {
    pub secret: String,
    pub backup: String,
    /// The version the backup was taken of.
    pub backup_version: String,
    /// The version it would replace as current.
    pub live_version: String,
    /// The live value already is the backup's: nothing to do.
    pub current: bool,
    value: Plaintext,
    binary: bool,
}

/// Opens the backup at `key` (in memory only) and compares it with the live secret.
pub async fn plan_secret<V: BackupStore, K: Keys, S: Secrets>(
    vault: &V,
    keys: &K,
    secrets: &S,
    key: &str,
) -> Result<SecretRestore, String> {
    if !key.starts_with("secrets/") {
        return Err(format!(
            "{key} is not a secret backup (those are secrets/<name>/<time>; see `axiom-ops backups`)"
        ));
    }
    let (sealed, value) = open_secret_backup(vault, keys, key).await?;
    let field = |k: &str| {
        sealed
            .context
            .get(k)
            .cloned()
            .ok_or_else(|| format!("{key}: its encryption context has no {k}"))
    };
    let secret = field("axiom-ops:secret")?;
    let backup_version = field("axiom-ops:version")?;
    let live = secrets
        .read(&secret)
        .await
        .map_err(|e| e.0)?
        .ok_or_else(|| {
            format!(
                "secret {secret} does not exist: create it first (a restore only adds versions)"
            )
        })?;
    Ok(SecretRestore {
        current: live.value.expose() == value.expose() && live.binary == sealed.binary,
        live_version: live.version_id,
        secret,
        backup: key.to_owned(),
        backup_version,
        value,
        binary: sealed.binary,
    })
}

/// The secret backup at `key`, read and decrypted in memory: its sealed document and value.
/// (A restore, and the drill's check.)
pub async fn open_secret_backup<V: BackupStore, K: Keys>(
    vault: &V,
    keys: &K,
    key: &str,
) -> Result<(Sealed, Plaintext), String> {
    let body = vault
        .get(key)
        .await
        .map_err(|e| e.0)?
        .ok_or_else(|| format!("there is no backup {key}"))?;
    let sealed: Sealed = serde_json::from_slice(&body)
        .map_err(|e| format!("{key} is not a sealed secret backup: {e}"))?;
    let value = seal::open(keys, &sealed)
        .await
        .map_err(|e| format!("{key} does not decrypt: {e}"))?;
    Ok((sealed, value))
}

/// Puts the backup's value back as a new version of the secret; its version id.
pub async fn apply_secret<S: Secrets>(secrets: &S, plan: &SecretRestore) -> Result<String, String> {
    secrets
        .put(&plan.secret, &plan.value, plan.binary)
        .await
        .map_err(|e| e.message)
}

/// A database restore, checked before it is started: the snapshot is of a policy database and
/// available, the new id is a valid identifier no instance has.
pub async fn plan_db<R: Restores>(
    rds: &R,
    policy: &Policy,
    snapshot: &str,
    new_id: &str,
) -> Result<SnapshotFacts, String> {
    valid_instance_id(new_id)?;
    let facts = rds
        .snapshot(snapshot)
        .await
        .map_err(|e| e.0)?
        .ok_or_else(|| format!("there is no DB snapshot {snapshot} in this account and region"))?;
    if policy.database(&facts.instance).is_none() {
        return Err(format!(
            "{snapshot} is a snapshot of {}, which the policy does not list: nothing was done",
            facts.instance
        ));
    }
    if facts.status != "available" {
        return Err(format!("{snapshot} is {}, not available", facts.status));
    }
    if let Some(i) = rds.instance(new_id).await.map_err(|e| e.0)? {
        return Err(format!(
            "an instance {new_id} exists already ({}): choose another id; nothing was done",
            i.status
        ));
    }
    Ok(facts)
}

/// RDS's rules for a DB instance identifier.
pub fn valid_instance_id(id: &str) -> Result<(), String> {
    let ok = (1..=63).contains(&id.len())
        && id.starts_with(|c: char| c.is_ascii_alphabetic())
        && id.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        && !id.ends_with('-')
        && !id.contains("--");
    if ok {
        Ok(())
    } else {
        Err(format!(
            "{id:?} is not a DB instance identifier: 1 to 63 letters, digits or hyphens, starting with a letter, no two hyphens in a row, not ending in one"
        ))
    }
}

/// Records and announces a restore; `by` is who asked (an AWS identity). `severity`: SEV2 for a
/// change to production, SEV3 for a copy written elsewhere (a state file pulled to disk).
/// Both are tried whatever the other did: a restore is never left both unrecorded and unsaid.
pub async fn record<L: Ledger, N: Notifier>(
    ledger: &L,
    notifier: &N,
    severity: Severity,
    target: &str,
    headline: &str,
    details: Value,
    by: &str,
) -> Result<(), String> {
    let now = chrono::Utc::now();
    let item = json!({
        "at": now.to_rfc3339(),
        "job": "restore",
        "source": target,
        "outcome": "restored",
        "by": by,
        "details": details,
    });
    let sk = format!("decision#{}#restore", now.format("%Y-%m-%dT%H:%M:%S%.6fZ"));
    let recorded = ledger
        .record(&format!("backup#{}", key_part(target)), &sk, &item)
        .await;
    let n = job_notice(
        severity,
        Action::Backup,
        Outcome::Done,
        target,
        headline,
        &format!("Restored by {by} with `axiom-ops restore`. Nothing was deleted."),
        json!({ "target": target, "by": by, "details": details }),
    );
    let announced = notifier.publish(&n).await;
    match (recorded, announced) {
        (Ok(()), Ok(_)) => Ok(()),
        (Err(e), Ok(_)) => Err(format!("the restore was done and announced, but not recorded in the ledger: {e}")),
        (Ok(()), Err(e)) => Err(format!("the restore was done and recorded, but not announced: {e}")),
        (Err(l), Err(n)) => Err(format!("the restore was done but neither recorded ({l}) nor announced ({n}): tell the on-call channel")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn instance_ids_follow_rds_rules() {
        for ok in ["a", "axiomcore-restored-1", &"a".repeat(63)] {
            assert_eq!(valid_instance_id(ok), Ok(()), "{ok}");
        }
        for bad in ["", "1db", "db-", "db--x", "db_x", &"a".repeat(64), "db.x"] {
            assert!(valid_instance_id(bad).is_err(), "{bad}");
        }
    }
}
