//! `backup` against moto: the state file byte for byte, the secret only as ciphertext (every
//! object, ledger item and notice scanned for it), unchanged sources not stored twice, a missing
//! source failing loudly while the others are backed up, envelope encryption of a large secret,
//! and restic retention over days of ticks.
//!
//! The emulator computes a copy's SHA-256 as S3 does (asked for with `x-amz-checksum-algorithm`),
//! so the check of each copy against the source's hash runs for real here.

use aws_sdk_secretsmanager::Client as SecretsClient;
use axiom_ops::adapters::kms::KmsKeys;
use axiom_ops::adapters::sdk::Budget;
use axiom_ops::backup::seal::{self, Sealed};
use axiom_ops::backup::BackupApp;
use axiom_ops::policy::Policy;
use axiom_ops::runtime::{Config, Invocation, Job};
use base64::{engine::general_purpose::STANDARD, Engine as _};
use chrono::{DateTime, Duration, TimeZone, Utc};
use integration_tests::{event, Env, TestResult};
use serde_json::Value;
use sha2::{Digest, Sha256};
use testkit::backup::{self as kit, BackupSeed, BACKUP_BUCKET, SECRET, STATE_BUCKET, STATE_KEY};

fn day(d: i64) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 1, 3, 0, 0)
        .single()
        .expect("valid")
        + Duration::days(d)
}

fn app(env: &Env, policy: Option<Policy>) -> BackupApp {
    let mut c: Config = env.config(false);
    c.backup_bucket = Some(BACKUP_BUCKET.to_owned());
    if let Some(p) = policy {
        c.policy = p;
    }
    BackupApp::build(c, &env.sdk).expect("backup app")
}

fn tick(t: DateTime<Utc>) -> Value {
    let mut v = event("schedule-rule.json");
    v["time"] = Value::String(t.format("%Y-%m-%dT%H:%M:%SZ").to_string());
    v
}

fn inv(t: DateTime<Utc>) -> Invocation {
    let mut i = Invocation::local("backup-test", std::time::Duration::from_secs(60));
    i.now = t;
    i
}

async fn start(
    secret_len: usize,
) -> Result<(Env, BackupSeed), Box<dyn std::error::Error + Send + Sync>> {
    let env = Env::start().await?;
    let seed = kit::seed_backup(&env.sdk, secret_len).await?;
    Ok((env, seed))
}

/// Everything a reader could find the secret in: every object version in the backup bucket,
/// every ledger item, every notice.
async fn leaks(env: &Env, secret: &str) -> Vec<String> {
    let needles = [
        secret.as_bytes().to_vec(),
        STANDARD.encode(secret).into_bytes(),
    ];
    let has = |hay: &[u8]| {
        needles
            .iter()
            .any(|n| hay.windows(n.len()).any(|w| w == n.as_slice()))
    };
    let mut found = Vec::new();
    for (key, _, bytes, metadata) in kit::backup_objects(&env.sdk).await.expect("objects") {
        if has(&bytes) || has(format!("{metadata:?}").as_bytes()) {
            found.push(format!("object {key}"));
        }
    }
    let items = aws_sdk_dynamodb::Client::new(&env.sdk)
        .scan()
        .table_name(&env.seeded.table)
        .send()
        .await
        .expect("scan the ledger");
    for item in items.items() {
        if has(format!("{item:?}").as_bytes()) {
            found.push(format!("ledger item {:?}", item.get("pk")));
        }
    }
    for n in env.inbox().await {
        if has(format!("{} {} {:?}", n.subject, n.message, n.attributes).as_bytes()) {
            found.push(format!("notice {}", n.subject));
        }
    }
    found
}

fn sha_hex(b: &[u8]) -> String {
    Sha256::digest(b)
        .iter()
        .map(|x| format!("{x:02x}"))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_state_is_kept_byte_for_byte_and_the_secret_only_as_ciphertext() -> TestResult {
    let (env, seed) = start(64).await?;
    let app = app(&env, None);
    let r = app.handle(&tick(day(0)), &inv(day(0)), false).await?;
    let sources = r["sources"].as_array().expect("sources");
    assert_eq!(sources.len(), 2, "{r}");
    assert!(sources.iter().all(|s| s["outcome"] == "stored"), "{r}");

    let objects = kit::backup_objects(&env.sdk).await?;
    let state_key = format!("config/{STATE_BUCKET}/{STATE_KEY}/20261101-030000");
    let (_, _, bytes, metadata) = objects
        .iter()
        .find(|o| o.0 == state_key)
        .expect("the state file's backup");
    assert_eq!(bytes, &seed.state, "byte for byte");
    assert!(
        metadata.contains(&("sha256".into(), sha_hex(&seed.state))),
        "{metadata:?}"
    );
    assert!(
        metadata.iter().any(|(k, _)| k == "source-version-id"),
        "{metadata:?}"
    );

    // The secret's backup is a sealed document that opens to the value, in memory only.
    let (_, _, body, metadata) = objects
        .iter()
        .find(|o| o.0 == format!("secrets/{SECRET}/20261101-030000"))
        .expect("the secret's backup");
    let sealed: Sealed = serde_json::from_slice(body)?;
    assert_eq!(serde_json::to_value(sealed.scheme)?, "kms");
    assert!(metadata.iter().any(|(k, _)| k == "hmac"), "{metadata:?}");
    let keys = KmsKeys::new(&aws_sdk_kms::Client::new(&env.sdk), Budget::unbounded());
    let opened = seal::open(&keys, &sealed).await?;
    assert_eq!(opened.expose(), seed.secret.as_bytes());
    // Bound to its secret: the same ciphertext under another secret's context does not open.
    let mut moved = sealed.clone();
    moved.context = seal::context("axiomcore/staging", "v1");
    assert!(seal::open(&keys, &moved).await.is_err());

    // Every object is encrypted with the backup key.
    let s3 = aws_sdk_s3::Client::new(&env.sdk);
    for (key, id, _, _) in &objects {
        let h = s3
            .head_object()
            .bucket(BACKUP_BUCKET)
            .key(key)
            .version_id(id)
            .send()
            .await?;
        assert_eq!(
            h.server_side_encryption().map(|e| e.as_str()),
            Some("aws:kms"),
            "{key}"
        );
        assert_eq!(h.ssekms_key_id(), Some("alias/axiom-ops-backup"), "{key}");
    }
    assert_eq!(leaks(&env, &seed.secret).await, Vec::<String>::new());

    // The scan itself finds a value written in clear (so its silence above means something).
    s3.put_object()
        .bucket(BACKUP_BUCKET)
        .key("stray")
        .body(format!("x{}y", seed.secret).into_bytes().into())
        .send()
        .await?;
    assert_eq!(leaks(&env, &seed.secret).await, ["object stray"]);
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unchanged_source_is_not_stored_twice() -> TestResult {
    let (env, seed) = start(64).await?;
    let app = app(&env, None);
    app.handle(&tick(day(0)), &inv(day(0)), false).await?;
    let r = app.handle(&tick(day(1)), &inv(day(1)), false).await?;
    for s in r["sources"].as_array().expect("sources") {
        assert_eq!(s["outcome"], "unchanged", "{s}");
        assert_eq!(s["unchanged_by"], "version id", "{s}");
    }
    assert_eq!(kit::backup_objects(&env.sdk).await?.len(), 2);

    // The maintenance window's own tick: the same check, and nothing new to store.
    let r = app
        .handle(&event("backup-maintenance.json"), &inv(day(35)), false)
        .await?;
    assert!(
        r["sources"]
            .as_array()
            .expect("sources")
            .iter()
            .all(|s| s["outcome"] == "unchanged"),
        "{r}"
    );
    assert_eq!(r["tick"], "2026-12-06T02:00:00.118+00:00", "{r}");

    // The same tick again (a retry, or both schedulers): a duplicate, nothing read or written.
    let again = app.handle(&tick(day(1)), &inv(day(1)), false).await?;
    assert!(
        again["sources"]
            .as_array()
            .expect("sources")
            .iter()
            .all(|s| s["outcome"] == "duplicate"),
        "{again}"
    );

    // The same value put back as a new version: unchanged by its keyed MAC.
    SecretsClient::new(&env.sdk)
        .put_secret_value()
        .secret_id(SECRET)
        .secret_string(&seed.secret)
        .send()
        .await?;
    let mut state = seed.state.clone();
    state.extend_from_slice(b"{\"changed\": true}\n");
    kit::put_state(&env.sdk, &state).await?;
    let r = app.handle(&tick(day(2)), &inv(day(2)), false).await?;
    let by = |name: &str| {
        r["sources"]
            .as_array()
            .and_then(|a| {
                a.iter()
                    .find(|s| s["source"].as_str().is_some_and(|n| n.contains(name)))
            })
            .cloned()
            .unwrap_or(Value::Null)
    };
    assert_eq!(by("tfstate")["outcome"], "stored", "{r}");
    assert_eq!(by(SECRET)["outcome"], "unchanged", "{r}");
    assert_eq!(by(SECRET)["unchanged_by"], "HMAC", "{r}");
    let objects = kit::backup_objects(&env.sdk).await?;
    assert_eq!(objects.len(), 3);
    assert!(objects.iter().any(|o| o.2 == state));
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_missing_source_fails_loudly_and_the_others_are_still_backed_up() -> TestResult {
    let (env, seed) = start(64).await?;
    let text = axiom_ops::policy::BUILT_IN.replace(
        "secrets = [\"axiomcore/production\"]",
        "secrets = [\"axiomcore/gone\", \"axiomcore/production\"]",
    ).replace(
        "objects = [\"s3://axiomcore-terraform-state/production/terraform.tfstate\"]",
        "objects = [\"s3://axiomcore-terraform-state/staging/terraform.tfstate\", \"s3://axiomcore-terraform-state/production/terraform.tfstate\", \"s3://axiomcore-terraform-state/empty/\"]",
    );
    let app = app(&env, Some(Policy::from_toml(&text, "test")?));
    let err = app
        .handle(&tick(day(0)), &inv(day(0)), false)
        .await
        .expect_err("a missing source fails the invocation")
        .to_string();
    for missing in [
        "s3://axiomcore-terraform-state/staging/terraform.tfstate: does not exist",
        "secret:axiomcore/gone: does not exist",
        "s3://axiomcore-terraform-state/empty/: holds no object",
    ] {
        assert!(err.contains(missing), "{err}");
    }
    let keys: Vec<String> = kit::backup_objects(&env.sdk)
        .await?
        .into_iter()
        .map(|o| o.0)
        .collect();
    assert_eq!(
        keys,
        [
            format!("config/{STATE_BUCKET}/{STATE_KEY}/20261101-030000"),
            format!("secrets/{SECRET}/20261101-030000"),
        ]
    );
    let notices = env.inbox().await;
    let sev2: Vec<&String> = notices
        .iter()
        .map(|n| &n.subject)
        .filter(|s| s.starts_with("[SEV2]") && s.contains("backup FAILED"))
        .collect();
    assert_eq!(sev2.len(), 3, "{sev2:?}");
    for name in ["staging/terraform.tfstate", "axiomcore/gone", "empty/"] {
        assert!(sev2.iter().any(|s| s.contains(name)), "{name}: {sev2:?}");
    }
    assert_eq!(leaks(&env, &seed.secret).await, Vec::<String>::new());

    // Lambda's retry: the failed ones fail again, the stored ones are not redone.
    let again = app.handle(&tick(day(0)), &inv(day(0)), false).await;
    assert!(again.is_err());
    let repeats: Vec<String> = env
        .inbox()
        .await
        .into_iter()
        .map(|n| n.subject)
        .filter(|s| s.contains("backup FAILED"))
        .collect();
    assert!(
        repeats.is_empty(),
        "one page per failing source per day: {repeats:?}"
    );
    assert_eq!(kit::backup_objects(&env.sdk).await?.len(), 2);
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_secret_larger_than_kms_encrypts_is_sealed_in_an_envelope() -> TestResult {
    let (env, seed) = start(10_000).await?;
    let r = app(&env, None)
        .handle(&tick(day(0)), &inv(day(0)), false)
        .await?;
    let secret = r["sources"]
        .as_array()
        .and_then(|a| a.iter().find(|s| s["kind"] == "secret"))
        .cloned()
        .unwrap_or(Value::Null);
    assert_eq!(secret["scheme"], "envelope-aes-256-gcm", "{r}");
    let objects = kit::backup_objects(&env.sdk).await?;
    let body = &objects
        .iter()
        .find(|o| o.0.starts_with("secrets/"))
        .expect("secret backup")
        .2;
    let sealed: Sealed = serde_json::from_slice(body)?;
    let keys = KmsKeys::new(&aws_sdk_kms::Client::new(&env.sdk), Budget::unbounded());
    assert_eq!(
        seal::open(&keys, &sealed).await?.expose(),
        seed.secret.as_bytes()
    );
    // A changed byte of ciphertext is refused, not opened to garbage.
    let mut bad = sealed.clone();
    let mut c = STANDARD.decode(&bad.ciphertext)?;
    c[0] ^= 1;
    bad.ciphertext = STANDARD.encode(c);
    assert!(seal::open(&keys, &bad).await.is_err());
    assert_eq!(leaks(&env, &seed.secret).await, Vec::<String>::new());
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retention_keeps_restics_set_of_daily_backups() -> TestResult {
    let (env, seed) = start(64).await?;
    let text = axiom_ops::policy::BUILT_IN.replace(
        "keep_daily = 7      # restic rules, as [snapshots]\nkeep_weekly = 4\nkeep_monthly = 12",
        "keep_daily = 3\nkeep_weekly = 0\nkeep_monthly = 0",
    );
    let app = app(&env, Some(Policy::from_toml(&text, "test")?));
    for d in 0..6 {
        let mut state = seed.state.clone();
        state.extend_from_slice(format!("{{\"day\": {d}}}\n").as_bytes());
        kit::put_state(&env.sdk, &state).await?;
        app.handle(&tick(day(d)), &inv(day(d)), false).await?;
    }
    let s3 = aws_sdk_s3::Client::new(&env.sdk);
    let current: Vec<String> = s3
        .list_objects_v2()
        .bucket(BACKUP_BUCKET)
        .prefix("config/")
        .send()
        .await?
        .contents()
        .iter()
        .filter_map(|o| o.key().map(str::to_owned))
        .collect();
    let days: Vec<&str> = current
        .iter()
        .filter_map(|k| k.rsplit('/').next())
        .collect();
    assert_eq!(
        days,
        ["20261104-030000", "20261105-030000", "20261106-030000"]
    );
    // The secret never changed: its one backup is the newest, always kept.
    let secrets = s3
        .list_objects_v2()
        .bucket(BACKUP_BUCKET)
        .prefix("secrets/")
        .send()
        .await?;
    assert_eq!(secrets.contents().len(), 1);
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tick_from_the_future_is_refused_before_anything_is_read() -> TestResult {
    let (env, _) = start(64).await?;
    let err = app(&env, None)
        .handle(
            &tick(Utc::now() + Duration::days(2)),
            &inv(Utc::now()),
            false,
        )
        .await
        .expect_err("refused");
    assert!(err.to_string().contains("in the future"), "{err}");
    assert!(kit::backup_objects(&env.sdk).await?.is_empty());
    Ok(())
}
