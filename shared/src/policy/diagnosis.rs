//! `[diagnosis]`: how long `remediate` may spend reading evidence before it decides, how many
//! ERROR lines it reads, and — when rules allow it — how far a memory scale-up may go.

use std::time::Duration;

use serde::Deserialize;

use super::{duration, Fields, PolicyError};

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct Raw {
    #[serde(default = "default_budget")]
    budget: String,
    #[serde(default = "default_log_lines")]
    log_lines: u32,
    #[serde(default)]
    scale_up: Option<RawScaleUp>,
}

impl Default for Raw {
    fn default() -> Self {
        Raw {
            budget: default_budget(),
            log_lines: default_log_lines(),
            scale_up: None,
        }
    }
}

fn default_budget() -> String {
    "2s".into()
}
fn default_log_lines() -> u32 {
    20
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawScaleUp {
    factor: f64,
    max_memory: i32,
}

/// The guide's "Vertical Scaling": a new task-definition revision with more memory.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ScaleUp {
    /// The task memory is multiplied by this (> 1)…
    pub factor: f64,
    /// …up to this many MiB.
    pub max_memory: i32,
}

impl ScaleUp {
    /// The memory a task of `memory` MiB is given, `None` when it is already at the maximum.
    /// Above 512 MiB it is a whole number of GiB: Fargate takes no other sizes there.
    pub fn next(&self, memory: i32) -> Option<i32> {
        let grown = (f64::from(memory) * self.factor).ceil();
        let to = if grown >= f64::from(self.max_memory) {
            self.max_memory
        } else {
            // Below the maximum, which is an i32: the cast cannot truncate.
            let m = grown as i32;
            if m > 512 {
                ((m + 1023) / 1024 * 1024).min(self.max_memory)
            } else {
                m
            }
        };
        (to > memory).then_some(to)
    }
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DiagnosisPolicy {
    /// The longest evidence gathering may hold an invocation; whatever is slower is left out.
    pub budget: Duration,
    /// ERROR lines read from the service's log group (the newest).
    pub log_lines: usize,
    /// `None`: no rule may scale memory up.
    pub scale_up: Option<ScaleUp>,
}

/// The most a decision may wait for its evidence: the alarm is being handled meanwhile.
const MAX_BUDGET: Duration = Duration::from_secs(2);

pub(super) fn validate(raw: Raw, fields: &Fields) -> Result<DiagnosisPolicy, PolicyError> {
    let budget = duration::parse(fields, "diagnosis.budget", &raw.budget)?;
    if budget.is_zero() || budget > MAX_BUDGET {
        return Err(fields.invalid(
            "diagnosis.budget",
            "must be longer than zero and at most 2s (an alarm waits for it)",
        ));
    }
    if !(1..=100).contains(&raw.log_lines) {
        return Err(fields.invalid("diagnosis.log_lines", "must be between 1 and 100"));
    }
    let scale_up = match raw.scale_up {
        None => None,
        Some(s) => {
            if !(s.factor > 1.0 && s.factor <= 4.0) {
                return Err(fields.invalid(
                    "diagnosis.scale_up.factor",
                    format!("{} must be above 1 and at most 4", s.factor),
                ));
            }
            // Fargate's and ECS's own bounds on a task's memory.
            if !(512..=122_880).contains(&s.max_memory) {
                return Err(fields.invalid(
                    "diagnosis.scale_up.max_memory",
                    format!("{} MiB must be between 512 and 122880", s.max_memory),
                ));
            }
            Some(ScaleUp {
                factor: s.factor,
                max_memory: s.max_memory,
            })
        }
    };
    Ok(DiagnosisPolicy {
        budget,
        log_lines: raw.log_lines as usize,
        scale_up,
    })
}
