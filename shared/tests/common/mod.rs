//! What the pure belief and decision tests share: a fixed clock, the built-in policy, the
//! function's home, alarms, CloudWatch's answers and a service.
#![allow(dead_code)]

pub mod evidence;

use std::collections::{BTreeMap, BTreeSet};

use axiom_ops::model::{AlarmState, AlarmStatus, ServiceStatus, Severity};
use axiom_ops::policy::Policy;
use axiom_ops::remediate::alarm::{AlarmKind, AlarmTransition, Delivery};
use axiom_ops::remediate::decide::{judge, Decision, Facts, Live};
use axiom_ops::remediate::state::{Incident, TargetState};
use axiom_ops::runtime::Home;
use chrono::{DateTime, Duration, TimeZone, Utc};

pub const CPU: &str = "axiomcore-api-cpu-critical";
pub const DOWN: &str = "axiomcore-api-down-critical";
pub const LATENCY: &str = "axiomcore-api-latency-critical";

pub fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 20, 3, 0, 0)
        .single()
        .expect("valid time")
}

pub fn policy() -> Policy {
    Policy::built_in().expect("built-in policy")
}

pub fn home() -> Home {
    Home {
        account: Some("123456789012".into()),
        region: Some("us-east-1".into()),
    }
}

pub fn alarm(name: &str, state: AlarmState, at: DateTime<Utc>) -> AlarmTransition {
    AlarmTransition {
        alarm_name: name.to_owned(),
        alarm_arn: Some(format!(
            "arn:aws:cloudwatch:us-east-1:123456789012:alarm:{name}"
        )),
        state,
        previous_state: None,
        reason: "Threshold Crossed".to_owned(),
        description: None,
        state_time: at,
        kind: AlarmKind::Metric,
        delivery: Delivery::EventBridge,
        dimensions: BTreeMap::new(),
        account: Some("123456789012".into()),
        region: Some("us-east-1".into()),
        suppressed_by: None,
        suppressor: None,
    }
}

pub fn status(name: &str, state: AlarmState) -> AlarmStatus {
    AlarmStatus {
        name: name.to_owned(),
        state,
        updated: Some(t0()),
        composite: false,
        suppressed_by: None,
        suppressor: None,
    }
}

pub fn live(of: &[(&str, AlarmState)]) -> Live {
    Live::of(of.iter().map(|(n, s)| status(n, *s)).collect())
}

pub fn svc(desired: i32) -> ServiceStatus {
    ServiceStatus {
        desired,
        running: desired,
        primary_since: Some(t0() - Duration::days(1)),
        deployments: 1,
        scaling: None,
        task_definition: None,
    }
}

pub fn judged(
    a: &AlarmTransition,
    live: &Live,
    state: &TargetState,
    now: DateTime<Utc>,
) -> Decision {
    let p = policy();
    let h = home();
    let observed = svc(3);
    judge(
        a,
        Facts {
            policy: &p,
            home: &h,
            observed: Some(&observed),
            live,
            state,
            window: None,
            now,
        },
    )
}

pub fn incident(firing: &[&str], last_set: Option<i32>) -> TargetState {
    let names: BTreeSet<String> = firing.iter().map(|s| s.to_string()).collect();
    TargetState {
        incident: Some(Incident {
            id: "axiomcore-production/api@x".into(),
            opened_at: t0(),
            pre_incident_desired: 3,
            firing: names.clone(),
            fired: names,
            severity: Severity::Sev2,
            circuit_open: false,
            last_set_desired: last_set,
            timeline: Vec::new(),
            elided: 0,
            scaling_before: None,
            detected_at: None,
            rolled_back: false,
            scaled_up: false,
            diagnoses: Vec::new(),
        }),
        ..TargetState::default()
    }
}
