//! The command line's grammar: every command, its arguments and its help text (clap derive).
//! What each does is in the module named for it.

use std::path::PathBuf;

use clap::{Parser, Subcommand};

use crate::output::Output;

#[derive(Parser)]
#[command(
    name = "axiom-ops",
    version,
    about = "AxiomCore operations, run by themselves: invoke a job, read the ledger, run the local demo"
)]
pub(crate) struct Cli {
    #[command(subcommand)]
    pub command: Command,
    /// The result as JSON (for a program) or as text (for a person). Views (ledger, incidents,
    /// backups, retention, status, policy) default to text; records of what was done (invoke,
    /// snapshot, restore, drill run) and a sample event to JSON.
    #[arg(long, global = true, value_enum, value_name = "FORMAT")]
    pub output: Option<Output>,
}

#[derive(Subcommand)]
pub(crate) enum Command {
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
        /// The same as --output json.
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
        /// The same as --output json.
        #[arg(long)]
        json: bool,
    },
    /// What there is to restore: every backup in the backup bucket (OPS_BACKUP_BUCKET), with its
    /// source, when it was taken and of which version.
    Backups {
        /// The same as --output json.
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
pub(crate) enum RestoreCommand {
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
pub(crate) enum PolicyCommand {
    /// Check FILE (else OPS_POLICY_FILE, else the built-in policy) as a cold start does.
    Validate { file: Option<String> },
    /// The policy in effect: allowlist, guards, rules, databases, backups.
    Show {
        file: Option<String>,
        /// The same as --output json.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Subcommand)]
pub(crate) enum EmulatorCommand {
    /// Start it, seed AxiomCore, print the `export` lines to use it; Ctrl-C stops it.
    Up,
}

#[derive(Subcommand)]
pub(crate) enum DrillCommand {
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
        /// The same as --output json.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Subcommand)]
pub(crate) enum MaintenanceCommand {
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
