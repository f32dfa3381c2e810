//! The shared vocabulary: the nouns that policy, jobs, ports and adapters all speak.
//!
//! Nothing here does I/O or judges anything; it depends on no other module of the crate, so every
//! other module may use it without creating a cycle.

mod action;
mod alarm;
mod backup;
mod certificate;
mod database;
mod evidence;
mod notice;
mod payload;
mod service;
mod severity;
mod target;

pub use action::{Action, Effect, Outcome};
pub use alarm::{AlarmState, AlarmStatus};
pub use backup::{Copied, ObjectHead, Plaintext, SecretValue, Stored};
pub use certificate::{
    covers, fingerprint, AcmCert, CertType, DnsAnswer, ListenerCert, Served, ValidationRecord,
};
pub use database::{
    Created, Database, DbKind, DbState, Instance, RestoreSpec, SnapInfo, SnapshotFacts, MANAGED_TAG,
};
pub use evidence::{
    ContainerExit, DbHealth, Deployment, Evidence, LogLine, ServiceEvent, ServiceHistory, Sourced,
    StoppedTask,
};
pub use notice::{job_notice, subject_line, LedgerKeys, Notification, SUBJECT_MAX};
pub use payload::{
    clip, hex, key_part, keys_of, parse_time, printable, quote, KEY_PART_MAX, QUOTE_MAX,
};
pub use service::{ServiceStatus, TaskSpec, TaskState};
pub use severity::Severity;
pub use target::Target;
