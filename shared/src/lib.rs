//! axiom-ops core: everything but the Lambda entry points.
//!
//! One invocation flows one way: parse (`alarm`) → observe (`ports`) → decide (`decide`, pure) →
//! act → record → notify (`notify`), composed per job (`remediate`).

pub mod adapters;
pub mod alarm;
pub mod audit;
pub mod aws;
pub mod config;
pub mod decide;
pub mod lambda;
pub mod maintenance;
pub mod notify;
pub mod policy;
pub mod ports;
pub mod remediate;
pub mod retention;
pub mod schedule;
pub mod snapshot;
pub mod state;
pub mod target;
pub mod telemetry;

#[cfg(feature = "emulator")]
pub mod emulator;
