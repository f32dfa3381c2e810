//! The `backup` binary itself, run as Lambda runs it (Runtime API, `AWS_ENDPOINT_URL` at moto,
//! the deployed environment), its every output line kept as CloudWatch Logs would: at the most
//! verbose log level, the secret's value appears in no log line, no notice and no object.

use std::path::Path;
use std::time::Duration;

use base64::{engine::general_purpose::STANDARD, Engine as _};
use sha2::{Digest, Sha256};
use testkit::backup::{self as kit, BACKUP_BUCKET};
use testkit::runtime_api::{Answer, FunctionProcess, RuntimeApi};
use testkit::{self as emulator, Moto};

type TestResult = Result<(), Box<dyn std::error::Error + Send + Sync>>;

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn at_trace_level_no_log_line_notice_or_object_holds_the_secret() -> TestResult {
    let moto = Moto::start()?;
    let sdk = moto.sdk_config().await;
    let seeded = emulator::seed(&sdk).await?;
    let seed = kit::seed_backup(&sdk, 64).await?;
    // A second, missing secret: its failure is logged and announced too.
    let policy = std::env::temp_dir().join(format!("backup-policy-{}.toml", std::process::id()));
    std::fs::write(
        &policy,
        axiom_ops::policy::BUILT_IN.replace(
            "secrets = [\"axiomcore/production\"]",
            "secrets = [\"axiomcore/production\", \"axiomcore/gone\"]",
        ),
    )?;
    let log = std::env::temp_dir().join(format!("backup-log-{}.txt", std::process::id()));
    let api = RuntimeApi::start().await?;
    let bin = env!("CARGO_BIN_EXE_backup");
    let f = FunctionProcess::spawn_logged(
        Path::new(bin),
        &api,
        &moto.endpoint(),
        &[
            ("OPS_TOPIC_ARN", seeded.topic_arn.as_str()),
            ("OPS_LEDGER_TABLE", seeded.table.as_str()),
            ("OPS_BACKUP_BUCKET", BACKUP_BUCKET),
            ("OPS_POLICY_FILE", policy.to_str().ok_or("temp path")?),
            ("RUST_LOG", "trace"),
        ],
        &log,
    )?;
    let tick = emulator::sample("schedule-scheduler.json")?;
    let id = api.push(tick, Duration::from_secs(60));
    let Some(Answer::Error(e)) = api.answer(&id, Duration::from_secs(90)).await else {
        panic!("the missing secret must fail the invocation")
    };
    assert_eq!(e["errorType"], "BackupFailed", "{e}");
    assert!(e.to_string().contains("axiomcore/gone"), "{e}");
    drop(f);

    let lines = std::fs::read(&log)?;
    let _ = std::fs::remove_file(&log);
    let _ = std::fs::remove_file(&policy);
    assert!(contains(&lines, b"BackupsStored"), "EMF metrics are logged");
    // The SDK's own trace lines are there: the call that read the value was logged.
    assert!(
        contains(&lines, b"GetSecretValue"),
        "trace-level SDK logs are on"
    );
    // The value, as JSON carries it (base64), and its bare SHA-256 (what the MAC is taken over).
    let digest = Sha256::digest(seed.secret.as_bytes());
    let needles = [
        seed.secret.clone().into_bytes(),
        STANDARD.encode(&seed.secret).into_bytes(),
        STANDARD.encode(digest).into_bytes(),
        digest
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect::<String>()
            .into_bytes(),
    ];
    for n in &needles {
        assert!(!contains(&lines, n), "the log holds the secret");
    }
    let objects = kit::backup_objects(&sdk).await?;
    assert_eq!(objects.len(), 2);
    for (key, _, bytes, _) in &objects {
        assert!(
            needles.iter().all(|n| !contains(bytes, n)),
            "{key} holds the secret"
        );
    }
    let notices = emulator::drain_inbox(&sdk, &seeded.inbox_url).await?;
    assert!(notices.iter().any(|n| n.subject.contains("axiomcore/gone")));
    for n in &notices {
        let text = format!("{} {} {:?}", n.subject, n.message, n.attributes);
        assert!(
            needles.iter().all(|x| !contains(text.as_bytes(), x)),
            "{}",
            n.subject
        );
    }
    Ok(())
}
