//! `axiom-ops emulator up` (`make emulator`): the local AWS emulator, seeded with AxiomCore —
//! cluster and services, the ops topic with an inbox queue subscribed, the ledger, the database
//! with a managed snapshot, the Terraform state, the backup keys and the production secret, and
//! every alarm the samples name — until Ctrl-C. Prints the `export` lines that point the CLI at it.

use anyhow::anyhow;
use testkit::{self as emulator, Moto};
use tokio::signal::unix::{signal, SignalKind};

use crate::output::Output;

/// AxiomCore in the emulator: what `up` announces, and the samples' alarms.
async fn seed(sdk: &aws_config::SdkConfig) -> anyhow::Result<emulator::Seeded> {
    let seeded = emulator::seed(sdk)
        .await
        .map_err(|e| anyhow!("seeding: {e}"))?;
    emulator::seed_database(sdk, "axiomcore-production")
        .await
        .map_err(|e| anyhow!("seeding the database: {e}"))?;
    aws_sdk_rds::Client::new(sdk)
        .create_db_snapshot()
        .db_instance_identifier("axiomcore-production")
        .db_snapshot_identifier("axiomcore-production-auto-20261126-020000")
        .tags(
            aws_sdk_rds::types::Tag::builder()
                .key("managed-by")
                .value("axiom-ops")
                .build(),
        )
        .send()
        .await?;
    emulator::backup::seed_backup(sdk, 32)
        .await
        .map_err(|e| anyhow!("seeding backups: {e}"))?;
    for name in [
        "eventbridge-metric-alarm.json",
        "lambda-metric-math-alarm.json",
        "lambda-anomaly-alarm.json",
        "lambda-composite-alarm.json",
    ] {
        let sample = emulator::sample(name).map_err(|e| anyhow!("{e}"))?;
        emulator::agree(sdk, &sample)
            .await
            .map_err(|e| anyhow!("alarm of {name}: {e}"))?;
    }
    Ok(seeded)
}

/// `output`: the exports as `export` lines (for `eval`), or as one JSON object.
pub async fn up(output: Output) -> anyhow::Result<()> {
    // Ctrl-C is handled from the start: one while seeding stops the emulator too.
    let mut interrupt = signal(SignalKind::interrupt())?;
    eprintln!("Starting the local AWS emulator and seeding AxiomCore…");
    let moto = Moto::start().map_err(|e| anyhow!("{e}"))?;
    let sdk = moto.sdk_config().await;
    let seeded = tokio::select! {
        seeded = seed(&sdk) => seeded?,
        _ = interrupt.recv() => {
            drop(moto);
            eprintln!("Interrupted while seeding: emulator stopped.");
            return Ok(());
        }
    };
    let exports = [
        ("AWS_ENDPOINT_URL", moto.endpoint()),
        ("AWS_REGION", emulator::REGION.to_owned()),
        ("AWS_ACCESS_KEY_ID", "testing".to_owned()),
        ("AWS_SECRET_ACCESS_KEY", "testing".to_owned()),
        ("OPS_LEDGER_TABLE", seeded.table.clone()),
        ("OPS_TOPIC_ARN", seeded.topic_arn.clone()),
        (
            "OPS_BACKUP_BUCKET",
            emulator::backup::BACKUP_BUCKET.to_owned(),
        ),
    ];
    let doc: serde_json::Map<String, serde_json::Value> = exports
        .iter()
        .map(|(k, v)| (k.to_string(), serde_json::Value::from(v.as_str())))
        .collect();
    // Printed whole, never cut: a shell evaluates these lines.
    match output {
        Output::Json => println!("{}", serde_json::to_string_pretty(&doc)?),
        Output::Table => {
            for (k, v) in &exports {
                println!("export {k}={v}");
            }
        }
    }
    use std::io::Write;
    std::io::stdout().flush()?;
    eprintln!(
        "\nNotices land in the SQS queue {} (aws sqs receive-message --queue-url …).\n\
         Try: axiom-ops events schedule-rule --now | axiom-ops invoke backup -\n\
         \x20    axiom-ops policy show; axiom-ops incidents; axiom-ops backups\n\
         Ctrl-C stops the emulator; nothing outside this machine is touched.",
        seeded.inbox_url
    );
    interrupt.recv().await;
    drop(moto);
    eprintln!("Emulator stopped.");
    Ok(())
}
