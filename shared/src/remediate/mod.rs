//! The `remediate` job: CloudWatch alarms in, guarded restarts and scale-outs of ECS services
//! out, every decision recorded and announced.
//!
//! | step | module |
//! |---|---|
//! | parse every alarm shape into one `AlarmTransition` | `alarm` |
//! | which service it names, and whether it is allowlisted | `target` |
//! | what the ledger remembers per service (incident, recent actions) | `state` |
//! | believe (account, clock, order, CloudWatch), then decide (pure): the plan, every guard and hold, the state to write | `decide` |
//! | the notice of a decision and an incident's timeline | `notice` |
//! | claim → observe → (evidence → diagnose) → decide → reserve → act → settle → record → notify | `handler` |
//! | CloudWatch's live view, and whether the maintenance window holds changes | `observe` |
//! | the evidence of a failing service, read in parallel within a budget, redacted | `evidence` |
//! | why it fails (pure): database down, crash loop, out of memory, no room | `diagnose` |
//! | the draft post-mortem of a closed incident (pure), and its writing to the reports bucket | `postmortem`, `drafts` |
//! | the change, and its outcome written back | `act` |
//! | the reconcile tick: lost OKs, old incidents, unsent notices, ended pauses | `reconcile` |
//! | a human's pause and resume | `pause` |
//! | what a cold start builds, and the ports for one invocation | `app` |

mod act;
pub mod alarm;
pub mod decide;
pub mod diagnose;
mod drafts;
mod evidence;
pub mod handler;
pub mod notice;
mod observe;
pub mod pause;
pub mod postmortem;
mod reconcile;
pub mod state;
pub mod target;

#[cfg(feature = "remediate")]
mod app;

#[cfg(feature = "remediate")]
pub use app::{s3_client, App, Aws};
pub use handler::{Ports, RemediateError, Remediator};
