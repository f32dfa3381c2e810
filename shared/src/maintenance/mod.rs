//! The `maintenance` job: the guide's monthly window (1st Sunday, 02:00–06:00 UTC), run by itself,
//! one step per invocation under a Step Functions loop, rolled back on any failure.
//!
//! | piece | module |
//! |---|---|
//! | the window as a pure state machine: phases, transitions, timeouts, cutoff | `window` |
//! | one invocation: load progress, run a step, advance, save | `job` |
//! | the forward steps, one method each | `steps` |
//! | the rollback steps | `rollback` |
//! | the calendar, the announced plan, the report | `plan` |
//! | what a cold start builds, and the ports for one invocation | `app` |

pub mod job;
pub mod live;
pub mod plan;
mod rollback;
mod steps;
pub mod window;

#[cfg(feature = "maintenance")]
mod app;

#[cfg(feature = "maintenance")]
pub use app::MaintenanceApp;
pub use job::{MaintenanceError, MaintenanceJob, PK};
pub use plan::{is_window_day, next_window, report_text};
