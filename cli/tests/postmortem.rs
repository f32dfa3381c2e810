//! `axiom-ops postmortem`: the draft of a closed incident, from the reports bucket, or rendered
//! from the ledger when the bucket has none, against the local AWS emulator.

use std::process::Output;

use testkit::{self as emulator, Moto, Seeded};

type TestResult = Result<(), Box<dyn std::error::Error + Send + Sync>>;

const BUCKET: &str = "axiomcore-ops-reports";

fn cli(
    moto: &Moto,
    seeded: &Seeded,
    bucket: Option<&str>,
    args: &[&str],
) -> std::io::Result<Output> {
    let mut c = emulator::cli_command(env!("CARGO_BIN_EXE_axiom-ops"), moto, seeded);
    c.args(args);
    if let Some(b) = bucket {
        c.env("OPS_REPORT_BUCKET", b);
    }
    c.output()
}

fn out(o: &Output) -> (String, String) {
    (
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_closed_incident_prints_its_post_mortem() -> TestResult {
    let moto = Moto::start()?;
    let sdk = moto.sdk_config().await;
    let seeded = emulator::seed(&sdk).await?;
    let s3 = aws_sdk_s3::Client::from_conf(
        aws_sdk_s3::config::Builder::from(&sdk)
            .force_path_style(true)
            .build(),
    );
    s3.create_bucket().bucket(BUCKET).send().await?;
    let events = emulator::events_dir();
    let alarm = events.join("eventbridge-metric-alarm.json");
    let ok = events.join("eventbridge-metric-ok.json");

    emulator::agree(&sdk, &emulator::sample("eventbridge-metric-alarm.json")?).await?;
    let o = cli(
        &moto,
        &seeded,
        Some(BUCKET),
        &["invoke", "remediate", alarm.to_str().ok_or("path")?],
    )?;
    assert!(o.status.success(), "{:?}", out(&o));
    emulator::set_alarm(&sdk, "axiomcore-api-cpu-critical", "OK").await?;
    let o = cli(
        &moto,
        &seeded,
        Some(BUCKET),
        &["invoke", "remediate", ok.to_str().ok_or("path")?],
    )?;
    assert!(o.status.success(), "{:?}", out(&o));

    let o = cli(
        &moto,
        &seeded,
        Some(BUCKET),
        &["postmortem", "axiomcore-production/api"],
    )?;
    let (stdout, stderr) = out(&o);
    assert!(o.status.success(), "{stderr}");
    assert!(
        stdout.starts_with("# Post-mortem (draft): axiomcore-production/api"),
        "{stdout}"
    );
    assert!(
        stdout.contains("scaled out 3→5 → **done**") && stdout.contains("## Follow-up actions"),
        "{stdout}"
    );
    assert!(!stderr.contains("rendered from the ledger"), "{stderr}");

    // Without the bucket, the same draft from the ledger, said so.
    let o = cli(
        &moto,
        &seeded,
        None,
        &["postmortem", "axiomcore-production/api"],
    )?;
    let (from_ledger, stderr) = out(&o);
    assert!(o.status.success(), "{stderr}");
    assert!(stderr.contains("rendered from the ledger"), "{stderr}");
    assert_eq!(from_ledger, stdout, "one renderer, one draft");

    let o = cli(
        &moto,
        &seeded,
        None,
        &[
            "postmortem",
            "axiomcore-production/api",
            "--incident",
            "20200101T000000.000Z",
        ],
    )?;
    let (_, stderr) = out(&o);
    assert!(!o.status.success());
    assert!(
        stderr.contains("has no closed incident 20200101T000000.000Z"),
        "{stderr}"
    );
    Ok(())
}
