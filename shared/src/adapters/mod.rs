//! One AWS SDK adapter per port. Each is built per invocation around a shared client and the
//! invocation's time budget.

pub mod alarms;
pub mod ecs;
pub mod health;
pub mod ledger;
pub mod rds;
pub mod scaling;
pub mod sns;
pub mod ssm;
