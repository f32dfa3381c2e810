//! `axiom-ops`: the operator's command line.

mod args;
mod backups;
mod control;
#[cfg(feature = "demo")]
mod demo;
mod drill;
mod events;
mod ledger;
mod maintenance;
mod output;
mod policy;
mod postmortem;
mod snapshots;
mod text;

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{bail, Context};
use args::{
    Cli, Command, DrillCommand, EmulatorCommand, MaintenanceCommand, PolicyCommand, RestoreCommand,
};
use axiom_ops::runtime::Config;
use clap::Parser;
use output::Output;
use {
    axiom_ops::remediate::App,
    axiom_ops::runtime::{Invocation, Job},
};

#[tokio::main]
async fn main() -> ExitCode {
    axiom_ops::runtime::telemetry::init_cli();
    let cli = Cli::parse();
    let asked = cli.output;
    // A person's view by default; a record (what a function or a restore did) as JSON, as the
    // AWS CLI prints it. `--output` chooses either for any command.
    let view = |json: bool| Output::pick(asked, json, Output::Table);
    let record = Output::pick(asked, false, Output::Json);
    let result = match cli.command {
        Command::Invoke {
            function,
            event,
            dry_run,
            no_notify,
        } => invoke(&function, &event, dry_run, no_notify, record).await,
        Command::Ledger { target, json } => ledger::show(&target, view(json)).await,
        Command::Pause {
            target,
            for_,
            reason,
        } => control::pause(&target, &for_, &reason, view(false)).await,
        Command::Resume { target } => control::resume(&target, view(false)).await,
        Command::Incidents { json } => control::incidents(view(json)).await,
        Command::Postmortem { target, incident } => {
            postmortem::show(&target, incident.as_deref(), view(false)).await
        }
        Command::Snapshot { database } => snapshots::manual(&database, record).await,
        Command::Backups { json } => backups::list(view(json)).await,
        Command::Policy {
            what: PolicyCommand::Validate { file },
        } => policy::validate(file.as_deref(), view(false)),
        Command::Policy {
            what: PolicyCommand::Show { file, json },
        } => policy::show(file.as_deref(), view(json)),
        Command::Events { shape, now } => events::run(shape.as_deref(), now, asked),
        Command::Completions { .. } | Command::Demo if asked.is_some() => Err(anyhow::anyhow!(
            "--output has no meaning here: completions print a shell script, the demo a story"
        )),
        Command::Completions { shell } => {
            clap_complete::generate(
                shell,
                &mut <Cli as clap::CommandFactory>::command(),
                "axiom-ops",
                &mut std::io::stdout(),
            );
            Ok(())
        }
        #[cfg(feature = "demo")]
        Command::Emulator {
            what: EmulatorCommand::Up,
        } => demo::emulator_up(view(false)).await,
        #[cfg(not(feature = "demo"))]
        Command::Emulator {
            what: EmulatorCommand::Up,
        } => Err(anyhow::anyhow!(
            "this build has no emulator harness: run `make emulator` (or build with --features demo)"
        )),
        Command::Drill {
            what: DrillCommand::Run { dry_run, yes },
        } => drill::run(dry_run, yes, record).await,
        Command::Drill {
            what: DrillCommand::Status { json },
        } => drill::status(view(json)).await,
        Command::Restore {
            what: RestoreCommand::Config { backup, to, yes },
        } => backups::config(&backup, &to, yes, record).await,
        Command::Restore {
            what: RestoreCommand::Secret { backup, yes },
        } => backups::secret(&backup, yes, record).await,
        Command::Restore {
            what:
                RestoreCommand::Db {
                    snapshot,
                    as_,
                    class,
                },
        } => {
            backups::db(
                &snapshot,
                &as_,
                class.as_deref(),
                std::time::Duration::from_secs(15),
                record,
            )
            .await
        }
        Command::Retention { database, plan } => {
            snapshots::retention(&database, plan, view(false)).await
        }
        Command::Maintenance {
            what: MaintenanceCommand::Run { dry_run, yes },
        } => maintenance::run(dry_run, yes, view(false)).await,
        Command::Maintenance {
            what: MaintenanceCommand::Abort,
        } => match control::caller_now().await {
            Ok(by) => maintenance::abort(&by, view(false)).await,
            Err(e) => Err(e),
        },
        Command::Maintenance {
            what: MaintenanceCommand::Status,
        } => maintenance::status(view(false)).await,
        #[cfg(feature = "demo")]
        Command::Demo => demo::run().await,
        #[cfg(not(feature = "demo"))]
        Command::Demo => Err(anyhow::anyhow!(
            "this build has no local demo (it needs the emulator harness): run `make demo`"
        )),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("axiom-ops: {e:#}");
            if let Some(hint) = hint(&format!("{e:#}")) {
                eprintln!("axiom-ops: {hint}");
            }
            ExitCode::FAILURE
        }
    }
}

async fn invoke(
    function: &str,
    event: &PathBuf,
    dry_run: bool,
    no_notify: bool,
    out: Output,
) -> anyhow::Result<()> {
    // `-` reads the event from standard input, as the AWS CLI's `file://-` habit.
    let text = if event.as_os_str() == "-" {
        std::io::read_to_string(std::io::stdin()).context("reading the event from stdin")?
    } else {
        std::fs::read_to_string(event).with_context(|| format!("reading {}", event.display()))?
    };
    let payload: serde_json::Value =
        serde_json::from_str(&text).with_context(|| format!("{} is not JSON", event.display()))?;
    let mut config = Config::from_env()?;
    config.preview = dry_run;
    config.print_notices = no_notify;
    let sdk = axiom_ops::adapters::sdk::config().await;
    let report = match function {
        "remediate" => run::<App>(config, &sdk, &payload, 60).await?,
        "snapshot" => run::<axiom_ops::snapshot::SnapshotApp>(config, &sdk, &payload, 300).await?,
        "backup" => run::<axiom_ops::backup::BackupApp>(config, &sdk, &payload, 300).await?,
        "drill" => run::<axiom_ops::drill::DrillApp>(config, &sdk, &payload, 120).await?,
        "maintenance" => {
            run::<axiom_ops::maintenance::MaintenanceApp>(config, &sdk, &payload, 120).await?
        }
        "certwatch" => {
            run::<axiom_ops::certwatch::CertwatchApp>(config, &sdk, &payload, 60).await?
        }
        other => bail!(
            "unknown function {other:?}: expected remediate, snapshot, backup, drill, maintenance or certwatch"
        ),
    };
    out.print_doc(&report)
}

/// One invocation of `J`'s real handler, in-process, bounded as Lambda would bound it.
async fn run<J: Job>(
    config: Config,
    sdk: &aws_config::SdkConfig,
    payload: &serde_json::Value,
    timeout_secs: u64,
) -> anyhow::Result<serde_json::Value>
where
    J::Error: Send + Sync + 'static,
{
    let app = J::build(config, sdk)?;
    let inv = Invocation::local("cli", std::time::Duration::from_secs(timeout_secs));
    Ok(app.handle(payload, &inv, false).await?)
}

/// The configuration from the environment, with the ledger required.
fn config_with_ledger() -> anyhow::Result<Config> {
    let c = Config::from_env()?;
    c.require_ledger()?;
    Ok(c)
}

/// One line on what to do about an error the SDK words for its own developers.
fn hint(error: &str) -> Option<String> {
    let endpoint = std::env::var("AWS_ENDPOINT_URL")
        .ok()
        .filter(|e| !e.is_empty());
    let region = std::env::var("AWS_REGION")
        .or_else(|_| std::env::var("AWS_DEFAULT_REGION"))
        .ok();
    // The SDK resolves credentials and the region before sending: their failures are also
    // "dispatch failure"s, so they are told apart first, by the SDK's own wording.
    let lower = error.to_ascii_lowercase();
    if lower.contains("failed to load credentials")
        || lower.contains("no credentials")
        || lower.contains("credentials provider")
        || lower.contains("credentialsnotloaded")
    {
        return Some("no AWS credentials: set AWS_PROFILE or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY (the emulator takes any)".into());
    }
    if lower.contains("no region")
        || lower.contains("region must be set")
        || region.is_none() && lower.contains("dispatch failure")
    {
        return Some("no AWS region: set AWS_REGION (or a profile's region)".into());
    }
    let unreachable = [
        "connection refused",
        "io error",
        "timed out",
        "timeout",
        "dns error",
    ];
    if lower.contains("dispatch failure") && unreachable.iter().any(|u| lower.contains(u)) {
        return Some(match endpoint {
            Some(e) => format!("could not reach {e} (AWS_ENDPOINT_URL): is the emulator up (`make emulator`)?"),
            None => format!(
                "could not reach AWS in {}: check the network, or set AWS_ENDPOINT_URL for the emulator",
                region.as_deref().unwrap_or("(no region set)")
            ),
        });
    }
    None
}
