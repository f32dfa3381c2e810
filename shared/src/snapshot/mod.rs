//! The `snapshot` job: the guide's "Backup & Recovery", every day, by itself.
//!
//! | step | module |
//! |---|---|
//! | parse the schedule's tick (rule, Scheduler, our Input) | `crate::runtime::schedule` |
//! | pre-flight every database, then per database: claim → create → … → record | `job` |
//! | verify the previous snapshot; retain with restic's rules (`crate::retention`) | `keep` |
//! | copy to the DR region and retain there | `copy` |
//! | the run's report and its EMF metrics | `report` |
//! | what a cold start builds, and the ports for one invocation | `app` |

mod copy;
pub mod job;
mod keep;
pub mod report;

#[cfg(feature = "snapshot")]
mod app;

#[cfg(feature = "snapshot")]
pub use app::SnapshotApp;
pub use job::{SnapshotError, SnapshotJob};
pub use keep::candidates;
pub use report::DbReport;
