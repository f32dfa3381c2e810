//! The `backup` job: the guide's "Configuration Backups", every day and before each maintenance
//! window, without a secret ever written in clear.
//!
//! | step | module |
//! |---|---|
//! | parse the schedule's tick (rule, Scheduler, our Input) | `crate::runtime::schedule` |
//! | list the sources, then per source: claim → store → record; failures announced | `job` |
//! | where a backup goes, whether it is needed, what retention deletes (pure) | `plan` |
//! | one object copied server side and checked; one secret sealed and written | `store` |
//! | a secret's value encrypted (KMS, or envelope AES-256-GCM) and MACed in KMS | `seal` |
//! | the run's report and its EMF metrics | `report` |
//! | restores (the CLI's): checked, never deleting, recorded and announced | `restore` |
//! | what a cold start builds, and the ports for one invocation | `app` |

pub mod job;
pub mod plan;
pub mod report;
pub mod restore;
pub mod seal;
mod store;

#[cfg(feature = "backup")]
mod app;

#[cfg(feature = "backup")]
pub use app::BackupApp;
pub use job::{BackupError, BackupJob, Source};
pub use report::SourceReport;
