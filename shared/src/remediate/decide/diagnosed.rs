//! What the diagnosis does to the rule's change: the guide's "restart (last resort)" as a table.
//!
//! | finding | restart / scale-out rule |
//! |---|---|
//! | database down | no ECS change, SEV1 naming it |
//! | crash loop | no restart or scale-out (a scale-out goes ahead on failing health checks); roll back when the rule allows it (once per incident), else SEV1 |
//! | out of memory | as the rule says, and said; a memory scale-up instead when the rule allows it (once per incident) |
//! | no room | a scale-out is escalated (SEV1) instead; a restart goes ahead |
//! | unclear, or no evidence | as the rule says |

use super::{Asked, Decision, Held, Situation, Verdict};
use crate::model::{Action, AlarmState, Effect, Severity};
use crate::remediate::diagnose::{short_task_definition, Failure, Finding};
use crate::remediate::state::Incident;

pub(super) enum Steer {
    /// The rule's change; `note` says what the evidence showed.
    AsRule { note: Option<String> },
    /// No change: a human is needed.
    Hold { severity: Severity, reason: String },
    /// Another change than the rule's.
    Instead {
        kind: Action,
        effect: Effect,
        reason: String,
    },
}

/// The rule's change (a restart or a scale-out) in the light of the diagnosis.
pub(super) fn steer(s: &Situation<'_>, rule: Asked, incident: Option<&Incident>) -> Steer {
    let Some(dg) = s.diagnosis else {
        return Steer::AsRule { note: None };
    };
    let alarm = &s.alarm.alarm_name;
    let change = match rule.action {
        Action::ScaleOut => "scale-out",
        _ => "restart",
    };
    let target = s.target;
    match &dg.finding {
        Finding::DependencyDown { database, status } => Steer::Hold {
            severity: Severity::Sev1,
            reason: format!(
                "{alarm} is in ALARM but the database {database} is {status}: a {change} of {target} would only add reconnect storms; no ECS change, the database needs a human"
            ),
        },
        // Health checks failing under load: more tasks may be just what helps.
        Finding::CrashLoop {
            failure: Failure::HealthCheck,
            ..
        } if rule.action == Action::ScaleOut => Steer::AsRule {
            note: Some(format!("note: {}", dg.headline())),
        },
        Finding::CrashLoop {
            rollback_to,
            deployment,
            ..
        } => {
            let why = format!("a {change} would not help: {}", dg.headline());
            let rolled = incident.is_some_and(|i| i.rolled_back);
            match (rule.rollback, rollback_to, deployment) {
                (true, Some(to), Some(from)) if !rolled => Steer::Instead {
                    kind: Action::Rollback,
                    effect: Effect::Rollback {
                        from: from.clone(),
                        to: to.clone(),
                    },
                    reason: format!(
                        "{alarm} is in ALARM; {why}: rolling back to {} (the last completed deployment)",
                        short_task_definition(to)
                    ),
                },
                (true, Some(_), Some(_)) => Steer::Hold {
                    severity: Severity::Sev1,
                    reason: format!("{why}; already rolled back once in this incident"),
                },
                (true, ..) => Steer::Hold {
                    severity: Severity::Sev1,
                    reason: format!("{why}; no earlier completed deployment to roll back to"),
                },
                (false, ..) => Steer::Hold {
                    severity: Severity::Sev1,
                    reason: why,
                },
            }
        }
        Finding::OutOfMemory { memory, .. } => {
            let said = format!("OOM: {}", dg.headline());
            let scaled = incident.is_some_and(|i| i.scaled_up);
            let grow = s.policy.diagnosis.scale_up.filter(|_| rule.scale_up && !scaled);
            match (grow, memory, &s.observed.task_definition) {
                (Some(su), Some(m), Some(td)) => match su.next(*m) {
                    Some(to) => Steer::Instead {
                        kind: Action::ScaleUp,
                        effect: Effect::ScaleUp {
                            task_definition: td.clone(),
                            from: *m,
                            to,
                        },
                        reason: format!(
                            "{alarm} is in ALARM; {said}: task memory {m}→{to} MiB (a new revision of {}, deployed)",
                            short_task_definition(td)
                        ),
                    },
                    None => Steer::AsRule {
                        note: Some(format!("{said}; memory already at the policy's maximum")),
                    },
                },
                _ => Steer::AsRule { note: Some(said) },
            }
        }
        Finding::NoRoom { .. } if rule.action == Action::ScaleOut => Steer::Hold {
            severity: Severity::Sev1,
            reason: format!(
                "{alarm} is in ALARM but a scale-out would not help: {}; escalating",
                dg.headline()
            ),
        },
        Finding::NoRoom { .. } | Finding::Unclear => Steer::AsRule { note: None },
    }
}

/// Whether the first decision is worth the evidence: an ALARM of an allowlisted service that
/// a rule acts on (or a critical one it only announces), not already held by a human or by what
/// CloudWatch says, and not the retry of an action already reserved.
pub fn wants_evidence(d: &Decision, state: AlarmState, retry: bool) -> bool {
    let held_before_acting = matches!(
        d.held,
        None | Some(Held::Cooldown) | Some(Held::CircuitOpen) | Some(Held::AtMax)
    );
    let asks = match d.ask {
        Action::Restart | Action::ScaleOut => true,
        Action::Notify => d.severity != Severity::Sev3,
        _ => false,
    };
    state == AlarmState::Alarm
        && !retry
        && d.target.is_some()
        && d.verdict != Verdict::AlreadyDone
        && held_before_acting
        && asks
}
