//! The restore drill: every month, proof that the newest snapshot restores and the newest secret
//! backup opens, with the time a restore takes (the RTO) measured against the policy's target.
//! A restore outlasts one invocation, so a Step Functions loop drives it, one step per call.
//!
//! | step | module |
//! |---|---|
//! | read the input, load the drill's progress, run one step, save it; the verdict, announced | `job` |
//! | start (leftovers deleted, newest snapshot restored), watch, check, delete | `steps` |
//! | the drill's record, and every judgment on it (pure) | `plan` |
//! | its EMF metrics | `report` |
//! | what a cold start builds, and the ports for one invocation | `app` |

pub mod job;
pub mod plan;
mod report;
mod steps;

#[cfg(feature = "drill")]
mod app;

#[cfg(feature = "drill")]
pub use app::DrillApp;
pub use job::{run_key, DrillError, DrillJob, PK};
