//! Backups and restores as an operator types them, against the local AWS emulator:
//! `invoke backup`, `backups`, `restore config|secret|db` — what they refuse, what they ask, what
//! they change (a new version, never a deletion), and what they record and announce.

use std::os::unix::fs::PermissionsExt;
use std::process::Output;

use testkit::backup::{self as kit, BACKUP_BUCKET, SECRET};
use testkit::{self as emulator, Moto, Seeded};

type TestResult = Result<(), Box<dyn std::error::Error + Send + Sync>>;

fn cli(moto: &Moto, seeded: &Seeded, args: &[&str]) -> std::io::Result<Output> {
    emulator::cli_command(env!("CARGO_BIN_EXE_axiom-ops"), moto, seeded)
        .env("OPS_BACKUP_BUCKET", BACKUP_BUCKET)
        .args(args)
        .output()
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

async fn live_secret(sdk: &aws_config::SdkConfig) -> Result<(String, usize), emulator::BoxError> {
    let sm = aws_sdk_secretsmanager::Client::new(sdk);
    let value = sm
        .get_secret_value()
        .secret_id(SECRET)
        .send()
        .await?
        .secret_string()
        .unwrap_or_default()
        .to_owned();
    let versions = sm
        .list_secret_version_ids()
        .secret_id(SECRET)
        .send()
        .await?;
    Ok((value, versions.versions().len()))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn backups_are_listed_and_restore_safely() -> TestResult {
    let moto = Moto::start()?;
    let sdk = moto.sdk_config().await;
    let seeded = emulator::seed(&sdk).await?;
    let seed = kit::seed_backup(&sdk, 48).await?;
    let events = emulator::events_dir();
    let tick = events.join("schedule-rule.json");
    let o = cli(
        &moto,
        &seeded,
        &["invoke", "backup", tick.to_str().ok_or("path")?],
    )?;
    assert!(o.status.success(), "{}", text(&o));

    let o = cli(&moto, &seeded, &["backups", "--json"])?;
    assert!(o.status.success(), "{}", text(&o));
    let rows: serde_json::Value = serde_json::from_slice(&o.stdout)?;
    let rows = rows.as_array().ok_or("an array")?;
    assert_eq!(rows.len(), 2, "{rows:?}");
    let key_of = |kind: &str| {
        rows.iter()
            .find(|r| r["kind"] == kind)
            .and_then(|r| r["backup"].as_str())
            .map(str::to_owned)
            .ok_or("a backup of that kind")
    };
    let (config_key, secret_key) = (key_of("config")?, key_of("secrets")?);
    let o = cli(&moto, &seeded, &["backups"])?;
    assert!(
        text(&o).contains(&config_key) && text(&o).contains("secret:axiomcore/production"),
        "{}",
        text(&o)
    );
    assert!(!text(&o).contains(&seed.secret));

    // Config to a file: byte for byte, owner-only; an existing file is not overwritten unasked.
    let dir = std::env::temp_dir().join(format!("axiom-ops-restore-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let file = dir.join("terraform.tfstate");
    let to = file.to_str().ok_or("path")?;
    let o = cli(
        &moto,
        &seeded,
        &["restore", "config", &config_key, "--to", to],
    )?;
    assert!(o.status.success(), "{}", text(&o));
    assert_eq!(std::fs::read(&file)?, seed.state);
    assert_eq!(
        std::fs::metadata(&file)?.permissions().mode() & 0o777,
        0o600
    );
    std::fs::write(&file, b"local edits")?;
    let o = cli(
        &moto,
        &seeded,
        &["restore", "config", &config_key, "--to", to],
    )?;
    assert!(
        !o.status.success() && text(&o).contains("not confirmed"),
        "{}",
        text(&o)
    );
    assert_eq!(std::fs::read(&file)?, b"local edits");
    let o = cli(
        &moto,
        &seeded,
        &["restore", "config", &config_key, "--to", to, "--yes"],
    )?;
    assert!(o.status.success(), "{}", text(&o));
    assert_eq!(std::fs::read(&file)?, seed.state);
    // A secret's backup is not a configuration backup.
    let o = cli(
        &moto,
        &seeded,
        &["restore", "config", &secret_key, "--to", to, "--yes"],
    )?;
    assert!(
        !o.status.success() && text(&o).contains("not a configuration backup"),
        "{}",
        text(&o)
    );
    std::fs::remove_dir_all(&dir)?;

    // The secret: unchanged → nothing to do; changed → asked, then a new version, none deleted.
    let o = cli(&moto, &seeded, &["restore", "secret", &secret_key])?;
    assert!(
        o.status.success() && text(&o).contains("nothing to do"),
        "{}",
        text(&o)
    );
    aws_sdk_secretsmanager::Client::new(&sdk)
        .put_secret_value()
        .secret_id(SECRET)
        .secret_string("rotated-by-mistake")
        .send()
        .await?;
    let o = cli(&moto, &seeded, &["restore", "secret", &secret_key])?;
    assert!(
        !o.status.success() && text(&o).contains("not confirmed"),
        "{}",
        text(&o)
    );
    assert!(text(&o).contains("replacing version"), "{}", text(&o));
    assert_eq!(live_secret(&sdk).await?.0, "rotated-by-mistake");
    let (_, versions_before) = live_secret(&sdk).await?;
    let o = cli(
        &moto,
        &seeded,
        &[
            "restore",
            "secret",
            &format!("s3://{BACKUP_BUCKET}/{secret_key}"),
            "--yes",
        ],
    )?;
    assert!(o.status.success(), "{}", text(&o));
    assert!(
        !text(&o).contains(&seed.secret),
        "the value is never printed"
    );
    let (value, versions_after) = live_secret(&sdk).await?;
    assert_eq!(value, seed.secret);
    assert_eq!(
        versions_after,
        versions_before + 1,
        "a new version, none deleted"
    );

    // Recorded and announced, without the value.
    let notices = emulator::drain_inbox(&sdk, &seeded.inbox_url).await?;
    let restored: Vec<&emulator::Received> = notices
        .iter()
        .filter(|n| n.subject.contains("restored from"))
        .collect();
    assert_eq!(
        restored.len(),
        1,
        "{:?}",
        notices.iter().map(|n| &n.subject).collect::<Vec<_>>()
    );
    assert!(
        restored[0]
            .subject
            .starts_with("[SEV2] secret:axiomcore/production"),
        "{}",
        restored[0].subject
    );
    for n in &notices {
        assert!(!format!("{} {}", n.subject, n.message).contains(&seed.secret));
    }
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn restore_db_refuses_what_it_must_and_waits_for_the_new_instance() -> TestResult {
    let moto = Moto::start()?;
    let sdk = moto.sdk_config().await;
    let seeded = emulator::seed(&sdk).await?;
    emulator::seed_database(&sdk, "axiomcore-production").await?;
    emulator::seed_database(&sdk, "someone-elses").await?;
    let rds = aws_sdk_rds::Client::new(&sdk);
    for (db, snap) in [
        (
            "axiomcore-production",
            "axiomcore-production-auto-20261127-020000",
        ),
        ("someone-elses", "someone-elses-manual"),
    ] {
        rds.create_db_snapshot()
            .db_instance_identifier(db)
            .db_snapshot_identifier(snap)
            .send()
            .await?;
    }
    let snap = "axiomcore-production-auto-20261127-020000";
    for (args, says) in [
        (vec![snap, "--as", "axiomcore-production"], "exists already"),
        (vec![snap, "--as", "bad_id"], "not a DB instance identifier"),
        (
            vec!["no-such-snapshot", "--as", "x1"],
            "there is no DB snapshot",
        ),
        (
            vec!["someone-elses-manual", "--as", "x1"],
            "the policy does not list",
        ),
    ] {
        let mut full = vec!["restore", "db"];
        full.extend(args);
        let o = cli(&moto, &seeded, &full)?;
        assert!(
            !o.status.success() && text(&o).contains(says),
            "{full:?}: {}",
            text(&o)
        );
    }
    let o = cli(
        &moto,
        &seeded,
        &["restore", "db", snap, "--as", "axiomcore-restored"],
    )?;
    assert!(o.status.success(), "{}", text(&o));
    let out: serde_json::Value = serde_json::from_slice(&o.stdout)?;
    assert_eq!(out["status"], "available", "{out}");
    assert!(
        out["endpoint"].as_str().is_some_and(|e| e.contains(':')),
        "{out}"
    );
    let i = rds
        .describe_db_instances()
        .db_instance_identifier("axiomcore-restored")
        .send()
        .await?;
    let i = i.db_instances().first().ok_or("restored instance")?;
    // (That it is asked for as not publicly accessible: tests/rds_restore_mocks.rs; moto drops the field.)
    assert!(i
        .tag_list()
        .iter()
        .any(|t| t.key() == Some("axiom-ops:restored-from") && t.value() == Some(snap)));
    let notices = emulator::drain_inbox(&sdk, &seeded.inbox_url).await?;
    assert!(
        notices.iter().any(
            |n| n.subject.contains("db:axiomcore-restored") && n.subject.contains("restore of")
        ),
        "{:?}",
        notices.iter().map(|n| &n.subject).collect::<Vec<_>>()
    );
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn drill_dry_run_changes_nothing_and_status_reads_the_newest_drill() -> TestResult {
    let moto = Moto::start()?;
    let sdk = moto.sdk_config().await;
    let seeded = emulator::seed(&sdk).await?;
    emulator::seed_database(&sdk, "axiomcore-production").await?;
    kit::seed_backup(&sdk, 48).await?;
    let snap = "axiomcore-production-auto-20261126-020000";
    aws_sdk_rds::Client::new(&sdk)
        .create_db_snapshot()
        .db_instance_identifier("axiomcore-production")
        .db_snapshot_identifier(snap)
        .tags(
            aws_sdk_rds::types::Tag::builder()
                .key("managed-by")
                .value("axiom-ops")
                .build(),
        )
        .send()
        .await?;
    let tick = emulator::events_dir().join("schedule-rule.json");
    let o = cli(
        &moto,
        &seeded,
        &["invoke", "backup", tick.to_str().ok_or("path")?],
    )?;
    assert!(o.status.success(), "{}", text(&o));

    let o = cli(&moto, &seeded, &["drill", "status"])?;
    assert!(
        o.status.success() && text(&o).contains("no restore drill recorded"),
        "{}",
        text(&o)
    );
    let o = cli(&moto, &seeded, &["drill", "run", "--dry-run"])?;
    assert!(o.status.success(), "{}", text(&o));
    let out: serde_json::Value = serde_json::from_slice(&o.stdout)?;
    assert_eq!(out["would_restore"], snap, "{out}");
    assert_eq!(out["secret_checks"][0]["passed"], true, "{out}");
    let instances = aws_sdk_rds::Client::new(&sdk)
        .describe_db_instances()
        .send()
        .await?;
    assert_eq!(instances.db_instances().len(), 1, "nothing was restored");
    let o = cli(&moto, &seeded, &["drill", "status"])?;
    assert!(
        text(&o).contains("no restore drill recorded"),
        "a dry run records nothing: {}",
        text(&o)
    );
    assert!(
        emulator::drain_inbox(&sdk, &seeded.inbox_url)
            .await?
            .is_empty(),
        "and announces nothing"
    );
    Ok(())
}
