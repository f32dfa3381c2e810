//! The `certwatch` job: certificates watched end to end, read only.
//!
//! | step | module |
//! |---|---|
//! | parse the trigger (schedule, ACM's expiry event, a run by hand) | `trigger` |
//! | read listeners, then certificates, endpoints and databases at once | `observe` |
//! | judge each against the guide's thresholds, pure | `assess`, `served` |
//! | decide what is new to tell, pure | `announce` |
//! | tell once, remember, record | `tell`, `notice` |
//! | the run, top to bottom | `job` |
//! | the run's answer and its EMF metrics | `report` |
//! | what a cold start builds, and the ports for one invocation | `app` |

mod announce;
pub mod assess;
pub mod job;
mod notice;
pub mod observe;
mod report;
pub mod served;
mod tell;
pub mod trigger;

#[cfg(feature = "certwatch")]
mod app;

pub use announce::{change, Change, Told};
#[cfg(feature = "certwatch")]
pub use app::CertwatchApp;
pub use job::{CertwatchError, CertwatchJob};
