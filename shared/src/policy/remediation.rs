//! `[guards]` and `[[rules]]`: what each alarm asks `remediate` for, and the guards around it
//! (cooldowns, the circuit breaker).

use std::time::Duration;

use glob::Pattern;
use serde::Deserialize;

use super::{duration, Fields, PolicyError};
use crate::model::{Action, Severity};

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawGuards {
    #[serde(default = "default_restart_cooldown")]
    restart_cooldown: String,
    #[serde(default = "default_scale_out_cooldown")]
    scale_out_cooldown: String,
    #[serde(default = "default_circuit_max")]
    circuit_max_restarts: u32,
    #[serde(default = "default_circuit_window")]
    circuit_window: String,
    #[serde(default = "default_verify_alarms")]
    verify_alarms: bool,
    #[serde(default = "default_incident_max_age")]
    incident_max_age: String,
    #[serde(default = "default_max_pause")]
    max_pause: String,
}

impl Default for RawGuards {
    fn default() -> Self {
        RawGuards {
            restart_cooldown: default_restart_cooldown(),
            scale_out_cooldown: default_scale_out_cooldown(),
            circuit_max_restarts: default_circuit_max(),
            circuit_window: default_circuit_window(),
            verify_alarms: default_verify_alarms(),
            incident_max_age: default_incident_max_age(),
            max_pause: default_max_pause(),
        }
    }
}

fn default_restart_cooldown() -> String {
    "10m".into()
}
fn default_scale_out_cooldown() -> String {
    "5m".into()
}
fn default_circuit_max() -> u32 {
    3
}
fn default_circuit_window() -> String {
    "60m".into()
}
fn default_verify_alarms() -> bool {
    true
}
fn default_incident_max_age() -> String {
    "24h".into()
}
fn default_max_pause() -> String {
    "24h".into()
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawRule {
    alarm: String,
    action: String,
    #[serde(default)]
    by: Option<i32>,
    severity: Severity,
    #[serde(default)]
    rollback: bool,
    #[serde(default)]
    scale_up: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Guards {
    pub restart_cooldown: Duration,
    pub scale_out_cooldown: Duration,
    pub circuit_max_restarts: u32,
    pub circuit_window: Duration,
    /// Re-read each alarm's live state from CloudWatch before acting on it.
    pub verify_alarms: bool,
    /// An incident open this long is announced once: a human is needed.
    pub incident_max_age: Duration,
    /// The longest pause a human may ask for.
    pub max_pause: Duration,
}

/// What an alarm in ALARM asks for: `action` (restart, scale_out or notify), and for a scale-out
/// by how many tasks.
#[derive(Debug, Clone)]
pub struct Rule {
    pub pattern: String,
    matcher: Pattern,
    pub action: Action,
    /// Tasks added by a scale-out (0 for the other actions).
    pub scale_by: i32,
    pub severity: Severity,
    /// A crash loop after a deployment may be rolled back to the last completed one.
    pub rollback: bool,
    /// An out-of-memory kill may get a task-definition revision with more memory (once per
    /// incident; `[diagnosis.scale_up]` says how much).
    pub scale_up: bool,
}

impl Rule {
    pub fn matches(&self, alarm_name: &str) -> bool {
        self.matcher.matches(alarm_name)
    }
}

pub(super) fn guards(raw: &RawGuards, fields: &Fields) -> Result<Guards, PolicyError> {
    let d = |field: &str, text: &str| duration::parse(fields, &format!("guards.{field}"), text);
    let guards = Guards {
        restart_cooldown: d("restart_cooldown", &raw.restart_cooldown)?,
        scale_out_cooldown: d("scale_out_cooldown", &raw.scale_out_cooldown)?,
        circuit_max_restarts: raw.circuit_max_restarts,
        circuit_window: d("circuit_window", &raw.circuit_window)?,
        verify_alarms: raw.verify_alarms,
        incident_max_age: d("incident_max_age", &raw.incident_max_age)?,
        max_pause: d("max_pause", &raw.max_pause)?,
    };
    for (field, d) in [
        ("guards.restart_cooldown", guards.restart_cooldown),
        ("guards.scale_out_cooldown", guards.scale_out_cooldown),
        ("guards.circuit_window", guards.circuit_window),
        ("guards.incident_max_age", guards.incident_max_age),
        ("guards.max_pause", guards.max_pause),
    ] {
        // A zero cooldown or window would switch the guard off without saying so.
        if d.is_zero() {
            return Err(fields.invalid(field, "must be longer than zero"));
        }
    }
    if guards.circuit_max_restarts == 0 {
        return Err(fields.invalid("guards.circuit_max_restarts", "must be at least 1"));
    }
    Ok(guards)
}

pub(super) fn rules(
    raw: &[RawRule],
    scale_up_defined: bool,
    fields: &Fields,
) -> Result<Vec<Rule>, PolicyError> {
    let mut rules = Vec::with_capacity(raw.len());
    for (i, r) in raw.iter().enumerate() {
        let field = format!("rules[{i}] ({})", r.alarm);
        // `glob` patterns match without compiling a regex: cheap at every cold start.
        let matcher = Pattern::new(&r.alarm)
            .map_err(|e| fields.invalid(&field, format!("bad alarm pattern: {e}")))?;
        let (action, scale_by) = match (r.action.as_str(), r.by) {
            ("restart", None) => (Action::Restart, 0),
            ("notify", None) => (Action::Notify, 0),
            ("scale_out", Some(by)) if by >= 1 => (Action::ScaleOut, by),
            ("scale_out", Some(by)) => {
                return Err(fields.invalid(&field, format!("by = {by}: must be at least 1")))
            }
            ("scale_out", None) => {
                return Err(fields.invalid(&field, "scale_out needs `by`, e.g. by = 2"))
            }
            ("restart" | "notify", Some(_)) => {
                return Err(fields.invalid(&field, "`by` only goes with scale_out"))
            }
            (other, _) => {
                return Err(fields.invalid(
                    &field,
                    format!("action {other:?} is not one of restart, scale_out, notify"),
                ))
            }
        };
        if (r.rollback || r.scale_up) && !matches!(action, Action::Restart | Action::ScaleOut) {
            return Err(fields.invalid(
                &field,
                "rollback and scale_up go only with restart or scale_out",
            ));
        }
        if r.scale_up && !scale_up_defined {
            return Err(fields.invalid(
                &field,
                "scale_up = true needs [diagnosis.scale_up] (factor, max_memory)",
            ));
        }
        rules.push(Rule {
            pattern: r.alarm.clone(),
            matcher,
            action,
            scale_by,
            severity: r.severity,
            rollback: r.rollback,
            scale_up: r.scale_up,
        });
    }
    Ok(rules)
}
