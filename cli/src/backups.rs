//! `axiom-ops backups [--json]` and `axiom-ops restore config|secret|db`: the guide's restore
//! commands, safe by default — each says what it would replace and asks before changing
//! anything (`--yes` skips the question), never deletes, and records and announces what it did.

use std::io::Write;
use std::time::Duration;

use anyhow::{anyhow, bail, Context};
use axiom_ops::adapters::dynamodb::DynamoLedger;
use axiom_ops::adapters::kms::KmsKeys;
use axiom_ops::adapters::rds::RdsSnapshots;
use axiom_ops::adapters::s3::S3Backups;
use axiom_ops::adapters::sdk::{describe, Budget};
use axiom_ops::adapters::secrets::SecretsManager;
use axiom_ops::adapters::sns::SnsNotifier;
use axiom_ops::backup::plan::{meta, stamp_of};
use axiom_ops::backup::restore;
use axiom_ops::drill::plan::DEAD;
use axiom_ops::model::{RestoreSpec, Severity, MANAGED_TAG};
use axiom_ops::ports::{BackupStore, Restores};
use axiom_ops::runtime::Config;
use serde_json::{json, Value};

use crate::control::{self, caller_now};
use crate::output::Output;
use crate::text::Table;

struct Ports {
    config: Config,
    sdk: aws_config::SdkConfig,
    vault: S3Backups,
    ledger: DynamoLedger,
    notifier: SnsNotifier,
}

async fn ports() -> anyhow::Result<Ports> {
    let p = control::ports().await?;
    let bucket = p.config.require_backup_bucket()?.to_owned();
    let vault = S3Backups::new(
        &aws_sdk_s3::Client::new(&p.sdk),
        &bucket,
        &p.config.policy.backup.kms_key_id,
        Budget::unbounded(),
    );
    Ok(Ports {
        config: p.config,
        sdk: p.sdk,
        vault,
        ledger: p.ledger,
        notifier: p.notifier,
    })
}

/// A backup as given: its key, or `s3://<backup bucket>/<key>`.
fn given_key(p: &Ports, given: &str) -> anyhow::Result<String> {
    match given.strip_prefix("s3://") {
        None => Ok(given.trim_start_matches('/').to_owned()),
        Some(rest) => {
            let (bucket, key) = rest.split_once('/').unwrap_or((rest, ""));
            if bucket != p.vault.bucket() {
                bail!(
                    "{given} is not in the backup bucket {} (OPS_BACKUP_BUCKET)",
                    p.vault.bucket()
                );
            }
            Ok(key.to_owned())
        }
    }
}

/// Asks on the terminal; anything but yes (or no answer at all) stops here, having done nothing.
fn confirm(question: &str, yes: bool) -> anyhow::Result<()> {
    if yes {
        return Ok(());
    }
    // The question on stderr: stdout holds only the result (`--output json` stays parseable).
    eprint!("{question} [y/N] ");
    std::io::stderr().flush()?;
    let mut answer = String::new();
    std::io::stdin().read_line(&mut answer)?;
    if matches!(answer.trim(), "y" | "Y" | "yes") {
        Ok(())
    } else {
        bail!("not confirmed: nothing was done (--yes skips the question)")
    }
}

pub async fn list(out: Output) -> anyhow::Result<()> {
    let p = ports().await?;
    let mut rows = Vec::new();
    for prefix in ["config/", "secrets/"] {
        for b in p.vault.list(prefix).await? {
            let Some(taken) = stamp_of(&b.key) else {
                continue;
            };
            let m = p.vault.metadata(&b.key).await?.unwrap_or_default();
            let get = |k: &str| m.get(k).cloned().unwrap_or_default();
            rows.push(json!({
                "backup": b.key,
                "kind": prefix.trim_end_matches('/'),
                "source": get(meta::SOURCE),
                "taken": taken.to_rfc3339(),
                "version_id": get(meta::VERSION),
                "sha256": m.get(meta::SHA256),
            }));
        }
    }
    let doc = Value::Array(rows);
    out.print(&doc, || {
        let rows = doc.as_array().map(Vec::as_slice).unwrap_or_default();
        if rows.is_empty() {
            return format!("no backups in s3://{} yet\n", p.vault.bucket());
        }
        let cell = |r: &Value, k: &str| r[k].as_str().unwrap_or("").to_owned();
        // The backup's name, which `restore` takes, on a line of its own: never cut.
        let mut t = Table::new(&["TAKEN", "SOURCE", "VERSION"]);
        for r in rows {
            let mut version = cell(r, "version_id");
            version.truncate(34);
            t.row(vec![
                cell(r, "taken").replace('T', " ").replace("+00:00", "Z"),
                cell(r, "source"),
                version,
            ])
            .note(cell(r, "backup"));
        }
        format!(
            "{}\nrestore with: axiom-ops restore config|secret <BACKUP> (the indented names)\n",
            t.render(usize::MAX)
        )
    })
}

pub async fn config(given: &str, to: &str, yes: bool, output: Output) -> anyhow::Result<()> {
    let p = ports().await?;
    let key = given_key(&p, given)?;
    let bytes = restore::read_config(&p.vault, &key)
        .await
        .map_err(|e| anyhow!(e))?;
    // Who is asking is known before anything is done: a restore is never left unattributed.
    let by = caller_now().await?;
    if let Some(dest) = to.strip_prefix("s3://") {
        let (bucket, object) = dest
            .split_once('/')
            .filter(|(b, k)| !b.is_empty() && !k.is_empty())
            .ok_or_else(|| anyhow!("--to {to}: expected a file or s3://bucket/key"))?;
        let s3 = aws_sdk_s3::Client::new(&p.sdk);
        let current = match s3.head_object().bucket(bucket).key(object).send().await {
            Ok(h) => Some(h),
            Err(e) if e.as_service_error().is_some_and(|se| se.is_not_found()) => None,
            Err(e) => bail!("reading {to}: {}", describe(&e)),
        };
        let replaces = match current.as_ref().map(|h| h.version_id()) {
            Some(Some(v)) if v != "null" => {
                format!("replaces version {v} of {to} as a new version (none is deleted)")
            }
            Some(_) => format!("OVERWRITES {to} (its bucket keeps no versions of it)"),
            None => format!("creates {to}"),
        };
        confirm(
            &format!("Restore {key} ({} bytes): {replaces}. Go on?", bytes.len()),
            yes,
        )?;
        let out = s3
            .put_object()
            .bucket(bucket)
            .key(object)
            .body(bytes.clone().into())
            .send()
            .await
            .with_context(|| format!("writing {to}"))?;
        let details = json!({ "backup": key, "to": to, "version_id": out.version_id(), "bytes": bytes.len() });
        restore::record(
            &p.ledger,
            &p.notifier,
            Severity::Sev2,
            to,
            &format!("restored from {key}"),
            details.clone(),
            &by,
        )
        .await
        .map_err(|e| anyhow!(e))?;
        return output.print_doc(&details);
    }
    let path = std::path::Path::new(to);
    if path.exists() {
        confirm(&format!("{to} exists: overwrite it with {key}?"), yes)?;
    }
    // Readable by its owner only: a Terraform state holds secrets of its own.
    let tmp = path.with_extension("axiom-ops-restore");
    {
        use std::os::unix::fs::OpenOptionsExt;
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(0o600)
            .open(&tmp)
            .with_context(|| format!("writing {}", tmp.display()))?;
        f.write_all(&bytes)?;
        f.sync_all()?;
    }
    std::fs::rename(&tmp, path).with_context(|| format!("writing {to}"))?;
    let details = json!({ "backup": key, "to": to, "bytes": bytes.len(), "sha256_verified": true });
    // Nothing in production changed, but a copy of the state (and its secrets) left the bucket:
    // who took it is kept and said.
    restore::record(
        &p.ledger,
        &p.notifier,
        Severity::Sev3,
        &format!("file:{to}"),
        &format!("{key} written to a file"),
        details.clone(),
        &by,
    )
    .await
    .map_err(|e| anyhow!(e))?;
    output.print_doc(&details)
}

pub async fn secret(given: &str, yes: bool, out: Output) -> anyhow::Result<()> {
    let p = ports().await?;
    let key = given_key(&p, given)?;
    let keys = KmsKeys::new(&aws_sdk_kms::Client::new(&p.sdk), Budget::unbounded());
    let secrets = SecretsManager::new(
        &aws_sdk_secretsmanager::Client::new(&p.sdk),
        Budget::unbounded(),
    );
    let plan = restore::plan_secret(&p.vault, &keys, &secrets, &key)
        .await
        .map_err(|e| anyhow!(e))?;
    if plan.current {
        let doc = json!({ "secret": plan.secret, "backup": key, "live_version": plan.live_version, "restored": false, "note": "nothing to do: the secret already holds the backup's value" });
        return out.print(&doc, || {
            format!(
                "secret {} already holds the value of {key} (version {}): nothing to do\n",
                plan.secret, plan.live_version
            )
        });
    }
    let by = caller_now().await?;
    confirm(
        &format!(
            "Put the value of {key} (taken of version {}) back as a new current version of secret {}, replacing version {} as current (no version is deleted)?",
            plan.backup_version, plan.secret, plan.live_version
        ),
        yes,
    )?;
    let version = restore::apply_secret(&secrets, &plan)
        .await
        .map_err(|e| anyhow!(e))?;
    let details = json!({
        "backup": key,
        "secret": plan.secret,
        "backup_version": plan.backup_version,
        "replaced_version": plan.live_version,
        "new_version": version,
    });
    restore::record(
        &p.ledger,
        &p.notifier,
        Severity::Sev2,
        &format!("secret:{}", plan.secret),
        &format!("restored from {key} as version {version}"),
        details.clone(),
        &by,
    )
    .await
    .map_err(|e| anyhow!(e))?;
    out.print_doc(&details)
}

pub async fn db(
    snapshot: &str,
    new_id: &str,
    class: Option<&str>,
    poll: Duration,
    out: Output,
) -> anyhow::Result<()> {
    let p = ports().await?;
    let rds = RdsSnapshots::new(&aws_sdk_rds::Client::new(&p.sdk), Budget::unbounded());
    let facts = restore::plan_db(&rds, &p.config.policy, snapshot, new_id)
        .await
        .map_err(|e| anyhow!(e))?;
    let by = caller_now().await?;
    // Into the network the policy's drill restores into: production's, where one is named.
    let net = &p.config.policy.restore_drill;
    let spec = RestoreSpec {
        class: class.map(str::to_owned),
        subnet_group: net.subnet_group.clone(),
        security_groups: net.security_groups.clone(),
        tags: vec![
            (MANAGED_TAG.0.to_owned(), MANAGED_TAG.1.to_owned()),
            ("axiom-ops:restored-from".to_owned(), snapshot.to_owned()),
        ],
    };
    rds.restore(snapshot, new_id, &spec)
        .await
        .map_err(|e| anyhow!(e.message))?;
    let details = json!({ "snapshot": snapshot, "instance": new_id, "source": facts.instance, "engine": facts.engine, "engine_version": facts.engine_version });
    restore::record(
        &p.ledger,
        &p.notifier,
        Severity::Sev2,
        &format!("db:{new_id}"),
        &format!("restore of {snapshot} started"),
        details,
        &by,
    )
    .await
    .map_err(|e| anyhow!(e))?;
    let give_up = p.config.policy.restore_drill.give_up_after;
    eprintln!(
        "restoring {snapshot} as {new_id} (not publicly accessible); waiting until it is available (at most {})",
        humantime::format_duration(give_up)
    );
    let started = std::time::Instant::now();
    let mut last = String::new();
    loop {
        let i = rds
            .instance(new_id)
            .await?
            .ok_or_else(|| anyhow!("{new_id} disappeared while restoring"))?;
        if i.status != last {
            eprintln!("  {:>5}s  {}", started.elapsed().as_secs(), i.status);
            last = i.status.clone();
        }
        if i.status == "available" {
            let doc = json!({ "instance": new_id, "status": i.status, "endpoint": i.endpoint, "seconds": started.elapsed().as_secs() });
            return out.print_doc(&doc);
        }
        if DEAD.contains(&i.status.as_str()) {
            bail!("{new_id} is {}: the restore failed (the instance is left for you to inspect or delete)", i.status)
        }
        if started.elapsed() > give_up {
            bail!("{new_id} is still {} after {}: stopped waiting (the restore goes on; `aws rds describe-db-instances --db-instance-identifier {new_id}`)", i.status, humantime::format_duration(give_up))
        }
        tokio::time::sleep(poll).await;
    }
}
