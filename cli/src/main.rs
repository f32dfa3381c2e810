//! `axiom-ops`: the operator's command line.

mod backups;
mod control;
#[cfg(feature = "demo")]
mod demo;
mod drill;
mod events;
mod ledger;
mod maintenance;
mod policy;
mod postmortem;
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
        /// The function: remediate, snapshot, backup, drill, maintenance or certwatch.
        function: String,
        /// The event, e.g. events/eventbridge-metric-alarm.json.
        event: PathBuf,
        /// Decide on the live state and say what would be done; change nothing, write nothing
        /// to the ledger (asking twice gives the same answer). Notices are marked "(dry run)".
        #[arg(long)]
        dry_run: bool,
        /// Print the notices instead of publishing them (with --dry-run only: a change is
        /// always announced).
        #[arg(long, requires = "dry_run")]
        no_notify: bool,
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
    /// The draft post-mortem of a closed incident of a service (the newest, or --incident),
    /// from the reports bucket (OPS_REPORT_BUCKET), else rendered from the ledger.
    Postmortem {
        /// cluster/service, e.g. axiomcore-production/api
        target: String,
        /// The incident's id (as in the close notice), or its time part, e.g. 20261127T101500.000Z.
        #[arg(long)]
        incident: Option<String>,
    },
    /// What automation is doing: open incidents (target, since, alarms, actions, circuit),
    /// active pauses, the maintenance window's state.
    Incidents {
        /// Print JSON instead.
        #[arg(long)]
        json: bool,
    },
    /// What there is to restore: every backup in the backup bucket (OPS_BACKUP_BUCKET), with its
    /// source, when it was taken and of which version.
    Backups {
        /// Print JSON instead.
        #[arg(long)]
        json: bool,
    },
    /// Restore a backup (see `backups`) or a database snapshot. Says what it replaces and asks
    /// first; never deletes anything; recorded in the ledger and announced.
    Restore {
        #[command(subcommand)]
        what: RestoreCommand,
    },
    /// The monthly restore drill: run it in-process (as its state machine would), or show the
    /// newest one.
    Drill {
        #[command(subcommand)]
        what: DrillCommand,
    },
    /// The policy a function runs with: `validate` checks it as a cold start does (naming a bad
    /// field); `show` prints the allowlist, guards and rules in effect.
    Policy {
        #[command(subcommand)]
        what: PolicyCommand,
    },
    /// Print a sample of an input the functions take (`events` alone lists them), e.g.
    /// `axiom-ops events eventbridge-metric-alarm --now | axiom-ops invoke remediate - --dry-run`.
    Events {
        /// The sample's name, as `events` lists them.
        shape: Option<String>,
        /// Move its timestamps to now (keeping the gaps between them), so it is a new event.
        #[arg(long)]
        now: bool,
    },
    /// Print a completion script for SHELL (bash, zsh, fish, elvish, powershell).
    Completions { shell: clap_complete::Shell },
    /// The local AWS emulator, seeded with AxiomCore, for trying the CLI (needs the demo build).
    Emulator {
        #[command(subcommand)]
        what: EmulatorCommand,
    },
    /// Start the local AWS emulator, seed AxiomCore, run the samples through the function and
    /// show what changed.
    Demo,
}

#[derive(Subcommand)]
enum RestoreCommand {
    /// Write a configuration backup (its SHA-256 checked first) to a file (mode 0600) or an
    /// S3 object (a new version where the bucket keeps versions).
    Config {
        /// The backup, as `backups` lists it: config/<bucket>/<key>/<YYYYMMDD-HHMMSS>.
        backup: String,
        /// A file, or s3://bucket/key.
        #[arg(long)]
        to: String,
        /// Do not ask before replacing.
        #[arg(long)]
        yes: bool,
    },
    /// Put a secret's backed-up value back as a new version of the secret (decrypted in memory
    /// only; no version is deleted).
    Secret {
        /// The backup: secrets/<name>/<YYYYMMDD-HHMMSS>.
        backup: String,
        /// Do not ask before putting the new version.
        #[arg(long)]
        yes: bool,
    },
    /// Restore a DB snapshot to a new instance (not publicly accessible), wait until it is
    /// available and print its endpoint. Refuses an id that exists.
    Db {
        /// A DB snapshot of a policy database, e.g. axiomcore-production-auto-20261127-020000.
        snapshot: String,
        /// The new instance's id.
        #[arg(long = "as", value_name = "NEW_INSTANCE_ID")]
        as_: String,
        /// Its instance class (default: the snapshot's).
        #[arg(long)]
        class: Option<String>,
    },
}

#[derive(Subcommand)]
enum PolicyCommand {
    /// Check FILE (else OPS_POLICY_FILE, else the built-in policy) as a cold start does.
    Validate { file: Option<String> },
    /// The policy in effect: allowlist, guards, rules, databases, backups.
    Show {
        file: Option<String>,
        /// Print JSON instead.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Subcommand)]
enum EmulatorCommand {
    /// Start it, seed AxiomCore, print the `export` lines to use it; Ctrl-C stops it.
    Up,
}

#[derive(Subcommand)]
enum DrillCommand {
    /// Restore the newest managed snapshot to <db>-drill-YYYYMMDD, measure the RTO, check it and
    /// the newest secret backup, delete it, announce the result. Takes as long as a restore.
    Run {
        /// Say what it would restore and delete, and check the secret backups (read only).
        #[arg(long)]
        dry_run: bool,
        /// Do not ask before creating the drill instance.
        #[arg(long)]
        yes: bool,
    },
    /// The newest drill, from the ledger.
    Status {
        /// Print JSON instead.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Subcommand)]
enum MaintenanceCommand {
    /// Drive the window step by step against the configured AWS.
    Run {
        /// Walk every step, change nothing, report what it would do.
        #[arg(long)]
        dry_run: bool,
        /// Do not ask for confirmation on a day that is not the window's.
        #[arg(long)]
        yes: bool,
    },
    /// Roll back the live window in progress, through the same rollback path, announced.
    Abort,
    /// The current or last window, step by step, from the ledger.
    Status,
}

#[tokio::main]
async fn main() -> ExitCode {
    axiom_ops::runtime::telemetry::init_cli();
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Invoke {
            function,
            event,
            dry_run,
            no_notify,
        } => invoke(&function, &event, dry_run, no_notify).await,
        Command::Ledger { target, json } => ledger::show(&target, json).await,
        Command::Pause {
            target,
            for_,
            reason,
        } => control::pause(&target, &for_, &reason).await,
        Command::Resume { target } => control::resume(&target).await,
        Command::Incidents { json } => control::incidents(json).await,
        Command::Postmortem { target, incident } => {
            postmortem::show(&target, incident.as_deref()).await
        }
        Command::Snapshot { database } => snapshots::manual(&database).await,
        Command::Backups { json } => backups::list(json).await,
        Command::Policy {
            what: PolicyCommand::Validate { file },
        } => policy::validate(file.as_deref()),
        Command::Policy {
            what: PolicyCommand::Show { file, json },
        } => policy::show(file.as_deref(), json),
        Command::Events { shape, now } => events::run(shape.as_deref(), now),
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
        } => demo::emulator_up().await,
        #[cfg(not(feature = "demo"))]
        Command::Emulator {
            what: EmulatorCommand::Up,
        } => Err(anyhow::anyhow!(
            "this build has no emulator harness: run `make emulator` (or build with --features demo)"
        )),
        Command::Drill {
            what: DrillCommand::Run { dry_run, yes },
        } => drill::run(dry_run, yes).await,
        Command::Drill {
            what: DrillCommand::Status { json },
        } => drill::status(json).await,
        Command::Restore {
            what: RestoreCommand::Config { backup, to, yes },
        } => backups::config(&backup, &to, yes).await,
        Command::Restore {
            what: RestoreCommand::Secret { backup, yes },
        } => backups::secret(&backup, yes).await,
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
            )
            .await
        }
        Command::Retention { database, plan } => snapshots::retention(&database, plan).await,
        Command::Maintenance {
            what: MaintenanceCommand::Run { dry_run, yes },
        } => maintenance::run(dry_run, yes).await,
        Command::Maintenance {
            what: MaintenanceCommand::Abort,
        } => match control::caller_now().await {
            Ok(by) => maintenance::abort(&by).await,
            Err(e) => Err(e),
        },
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
    println!("{}", serde_json::to_string_pretty(&report)?);
    Ok(())
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
