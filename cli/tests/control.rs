//! The operator's hands on the automation, as an operator types them: `axiom-ops pause`,
//! `incidents`, `resume`, and `invoke --dry-run --no-notify`, against the local AWS emulator.

use std::process::Output;

use testkit::{self as emulator, Moto, Seeded};

type TestResult = Result<(), Box<dyn std::error::Error + Send + Sync>>;

fn cli(moto: &Moto, seeded: &Seeded, args: &[&str]) -> std::io::Result<Output> {
    emulator::cli_command(env!("CARGO_BIN_EXE_axiom-ops"), moto, seeded)
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pause_shows_in_incidents_and_resume_ends_it() -> TestResult {
    let moto = Moto::start()?;
    let sdk = moto.sdk_config().await;
    let seeded = emulator::seed(&sdk).await?;

    let o = cli(
        &moto,
        &seeded,
        &[
            "pause",
            "axiomcore-production/api",
            "--for",
            "2h",
            "--reason",
            "slow query, on it",
        ],
    )?;
    assert!(o.status.success(), "{}", text(&o));
    let o = cli(&moto, &seeded, &["incidents", "--json"])?;
    assert!(o.status.success(), "{}", text(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout)?;
    let api = &v["targets"][0];
    assert_eq!(api["target"], "axiomcore-production/api", "{v}");
    assert_eq!(api["pause"]["reason"], "slow query, on it", "{v}");
    assert!(
        api["pause"]["by"]
            .as_str()
            .is_some_and(|b| b.starts_with("arn:aws:")),
        "{v}"
    );
    assert!(v["targets"][1]["pause"].is_null(), "only api: {v}");

    // Refused: longer than max_pause, a service outside the policy.
    let o = cli(
        &moto,
        &seeded,
        &["pause", "all", "--for", "3d", "--reason", "x"],
    )?;
    assert!(
        !o.status.success() && text(&o).contains("max_pause"),
        "{}",
        text(&o)
    );
    let o = cli(
        &moto,
        &seeded,
        &[
            "pause",
            "axiomcore-production/billing",
            "--for",
            "1h",
            "--reason",
            "x",
        ],
    )?;
    assert!(
        !o.status.success() && text(&o).contains("not a service of the policy"),
        "{}",
        text(&o)
    );

    let o = cli(&moto, &seeded, &["resume", "all"])?;
    assert!(o.status.success(), "{}", text(&o));
    let o = cli(&moto, &seeded, &["incidents"])?;
    assert!(
        text(&o).contains("axiomcore-production/api: no open incident"),
        "{}",
        text(&o)
    );
    assert!(!text(&o).contains("paused by"), "{}", text(&o));
    let notices = emulator::drain_inbox(&sdk, &seeded.inbox_url).await?;
    assert_eq!(
        notices.len(),
        3,
        "pause api, resume api and frontend: {:?}",
        notices.iter().map(|n| &n.subject).collect::<Vec<_>>()
    );
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invoke_maintenance_with_an_alarm_event_changes_nothing() -> TestResult {
    let moto = Moto::start()?;
    let sdk = moto.sdk_config().await;
    let seeded = emulator::seed(&sdk).await?;
    let alarm = emulator::events_dir().join("lambda-metric-alarm.json");
    let o = cli(
        &moto,
        &seeded,
        &["invoke", "maintenance", &alarm.to_string_lossy()],
    )?;
    assert!(!o.status.success(), "{}", text(&o));
    assert!(
        text(&o).contains("expected one of the maintenance function's inputs"),
        "{}",
        text(&o)
    );
    let mode = aws_sdk_ssm::Client::new(&sdk)
        .get_parameter()
        .name("/axiomcore/production/maintenance-mode")
        .send()
        .await;
    assert!(
        mode.is_err(),
        "the maintenance-mode parameter was never written"
    );
    Ok(())
}
