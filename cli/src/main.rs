//! `axiom-ops`: the operator's command line.

mod control;
#[cfg(feature = "demo")]
mod demo;
mod ledger;
mod maintenance;
mod snapshots;

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{bail, Context};
use axiom_ops::runtime::Config;
use clap::{Parser, Subcommand};
use {
    axiom_ops::remediate::App,
    axiom_ops::runtime::{Invocation, Job},
};

#[derive(Parser)]
#[command(
    name = "axiom-ops",
    version,
    about = "AxiomCore operations, run by themselves: invoke a job, read the ledger, run the local demo"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run a function's real handler in-process on an event file, against the configured AWS
    /// (AWS_ENDPOINT_URL, OPS_* variables), and print its decision as JSON.
    Invoke {
        /// The function: remediate, snapshot or maintenance.
        function: String,
        /// The event, e.g. events/eventbridge-metric-alarm.json.
        event: PathBuf,
        /// Decide, record and notify as "would do"; change nothing.
        #[arg(long)]
        dry_run: bool,
    },
    /// Take an on-demand snapshot, named as in the guide: axiomcore-manual-YYYYMMDD-HHMMSS.
    Snapshot {
        /// A database of the policy, e.g. axiomcore-production.
        database: String,
    },
    /// Show what retention would keep and delete for a database, and which rule keeps each.
    Retention {
        database: String,
        /// Only plan (retention itself runs in the scheduled job).
        #[arg(long)]
        plan: bool,
    },
    /// The monthly maintenance window: run it in-process (as the state machine would), or show
    /// the current or last one.
    Maintenance {
        #[command(subcommand)]
        what: MaintenanceCommand,
    },
    /// Print the incident timeline of a service from the ledger (OPS_LEDGER_TABLE).
    Ledger {
        /// cluster/service, e.g. axiomcore-production/api
        target: String,
        /// Print the ledger items as JSON instead.
        #[arg(long)]
        json: bool,
    },
    /// Hands off: remediate changes nothing on the service (or all) until the pause ends
    /// (at most the policy's max_pause) or a resume. Announced, and kept in the ledger with
    /// who (your AWS identity), why and until when.
    Pause {
        /// cluster/service, e.g. axiomcore-production/api, or `all`
        target: String,
        /// How long, e.g. 2h or 30m.
        #[arg(long = "for", value_name = "DURATION")]
        for_: String,
        /// Why (announced and kept in the ledger).
        #[arg(long)]
        reason: String,
    },
    /// End a pause now: automation is back on the service (or all).
    Resume {
        /// cluster/service, or `all`
        target: String,
    },
    /// What automation is doing: open incidents (target, since, alarms, actions, circuit),
    /// active pauses, the maintenance window's state.
    Incidents {
        /// Print JSON instead.
        #[arg(long)]
        json: bool,
    },
    /// Start the local AWS emulator, seed AxiomCore, run the samples through the function and
    /// show what changed.
    Demo,
}

#[derive(Subcommand)]
enum MaintenanceCommand {
    /// Drive the window step by step against the configured AWS.
    Run {
        /// Walk every step, change nothing, report what it would do.
        #[arg(long)]
        dry_run: bool,
    },
    /// The current or last window, step by step, from the ledger.
    Status,
}

#[tokio::main]
async fn main() -> ExitCode {
    axiom_ops::runtime::telemetry::init_with("warn");
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Invoke {
            function,
            event,
            dry_run,
        } => invoke(&function, &event, dry_run).await,
        Command::Ledger { target, json } => ledger::show(&target, json).await,
        Command::Pause {
            target,
            for_,
            reason,
        } => control::pause(&target, &for_, &reason).await,
        Command::Resume { target } => control::resume(&target).await,
        Command::Incidents { json } => control::incidents(json).await,
        Command::Snapshot { database } => snapshots::manual(&database).await,
        Command::Retention { database, plan } => snapshots::retention(&database, plan).await,
        Command::Maintenance {
            what: MaintenanceCommand::Run { dry_run },
        } => maintenance::run(dry_run).await,
        Command::Maintenance {
            what: MaintenanceCommand::Status,
        } => maintenance::status().await,
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
            ExitCode::FAILURE
        }
    }
}

async fn invoke(function: &str, event: &PathBuf, dry_run: bool) -> anyhow::Result<()> {
    let text =
        std::fs::read_to_string(event).with_context(|| format!("reading {}", event.display()))?;
    let payload: serde_json::Value =
        serde_json::from_str(&text).with_context(|| format!("{} is not JSON", event.display()))?;
    match function {
        "remediate" => {
            let app = axiom_ops::runtime::from_env::<App>().await?;
            let inv = Invocation::local("cli", std::time::Duration::from_secs(60));
            let report = app.handle(&payload, &inv, dry_run).await?;
            println!("{}", serde_json::to_string_pretty(&report)?);
            Ok(())
        }
        "snapshot" => {
            let app = axiom_ops::runtime::from_env::<axiom_ops::snapshot::SnapshotApp>().await?;
            let inv = Invocation::local("cli", std::time::Duration::from_secs(300));
            let report = app.handle(&payload, &inv, dry_run).await?;
            println!("{}", serde_json::to_string_pretty(&report)?);
            Ok(())
        }
        "maintenance" => {
            let app =
                axiom_ops::runtime::from_env::<axiom_ops::maintenance::MaintenanceApp>().await?;
            let inv = Invocation::local("cli", std::time::Duration::from_secs(120));
            let report = app.handle(&payload, &inv, dry_run).await?;
            println!("{}", serde_json::to_string_pretty(&report)?);
            Ok(())
        }
        other => bail!("unknown function {other:?}: expected remediate, snapshot or maintenance"),
    }
}

/// The configuration from the environment, with the ledger required.
fn config_with_ledger() -> anyhow::Result<Config> {
    let c = Config::from_env()?;
    c.require_ledger()?;
    Ok(c)
}
