//! An alarm as CloudWatch holds it now: what `remediate` checks an event against before acting.

use std::fmt;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum AlarmState {
    Ok,
    Alarm,
    InsufficientData,
}

impl AlarmState {
    pub fn parse(s: &str) -> Option<AlarmState> {
        match s {
            "OK" => Some(AlarmState::Ok),
            "ALARM" => Some(AlarmState::Alarm),
            "INSUFFICIENT_DATA" => Some(AlarmState::InsufficientData),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            AlarmState::Ok => "OK",
            AlarmState::Alarm => "ALARM",
            AlarmState::InsufficientData => "INSUFFICIENT_DATA",
        }
    }
}

impl fmt::Display for AlarmState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One alarm's live state, as `DescribeAlarms` returns it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AlarmStatus {
    pub name: String,
    pub state: AlarmState,
    /// When the state last changed (`StateTransitionedTimestamp`; `StateUpdatedTimestamp`,
    /// which also moves on changes that keep the state, only where the first is missing).
    pub updated: Option<DateTime<Utc>>,
    pub composite: bool,
    /// A composite whose actions are being held back: why (`WaitPeriod`, `ExtensionPeriod`, `Alarm`).
    pub suppressed_by: Option<String>,
    /// The composite's actions suppressor alarm.
    pub suppressor: Option<String>,
}
