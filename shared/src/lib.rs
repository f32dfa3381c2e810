//! axiom-ops core: everything but the Lambda entry points. `ARCHITECTURE.md` draws it.
//!
//! Layers, each using only those above it (checked in CI by `.ci/module-cycles`):
//!
//! | module | holds |
//! |---|---|
//! | `model` | the shared vocabulary: Target, Action, Effect, Outcome, Severity, Notification, … |
//! | `retention` | restic's `forget` rules, pure |
//! | `redact` | hides what looks like a secret in text read from outside, pure |
//! | `policy` | the policy file, one section per job, validated at cold start |
//! | `ports` | the effects the jobs need, as traits only |
//! | `adapters` | one AWS SDK adapter per port (a Cargo feature each), SDK set-up |
//! | `idempotency`, `versioned` | once per event (claim → finish); optimistic-concurrency writes |
//! | `runtime` | the Lambda entry point, `Job`, `Invocation`, configuration, the audit sinks |
//! | `remediate`, `snapshot`, `backup`, `drill`, `maintenance`, `certwatch` | one folder per job: parse → decide → act → report |
//!
//! One invocation flows one way: `runtime::serve` → the job's `App` (a `Job`) builds the ports
//! over its clients → the job parses, observes, decides (pure), claims and acts through the
//! ports → the ledger records → SNS announces.

pub mod adapters;
pub mod backup;
pub mod certwatch;
pub mod drill;
pub mod idempotency;
pub mod maintenance;
pub mod model;
pub mod policy;
pub mod ports;
pub mod redact;
pub mod remediate;
pub mod retention;
pub mod runtime;
pub mod snapshot;
pub mod versioned;
