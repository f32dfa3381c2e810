//! When to tell, pure: once per condition that newly holds (a threshold crossed, a renewal
//! stalled, an endpoint serving the wrong certificate), and once when nothing holds any more.
//! What was told is remembered in the ledger as the set of condition codes.

use std::collections::BTreeSet;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::assess::Finding;
use crate::model::Severity;

/// What the team was last told about one certificate, endpoint or database.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Told {
    pub conditions: BTreeSet<String>,
    pub severity: Option<Severity>,
    pub since: Option<DateTime<Utc>>,
    /// What it was called when told: its resolution says the same.
    #[serde(default)]
    pub label: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    /// Nothing new: say nothing.
    Quiet,
    /// These conditions hold and were not told of yet.
    Raised(Vec<String>),
    /// Everything told of is over.
    Resolved,
    /// Some told-of conditions are over, others still hold: remember it, say nothing.
    Eased,
}

/// Conditions that say a thing could not be seen this time.
pub const BLIND: &[&str] = &["unreadable", "unreachable"];

/// What holds now, as far as anyone knows: what was seen; and when the thing could not be seen,
/// what was told of it before still stands (a throttled read must not end, then re-tell, a
/// SEV1).
pub fn holding(before: &Told, finding: &Finding) -> BTreeSet<String> {
    let seen: BTreeSet<String> = finding.conditions.iter().map(|c| c.code.clone()).collect();
    if !seen.iter().any(|c| BLIND.contains(&c.as_str())) {
        return seen;
    }
    before
        .conditions
        .iter()
        .filter(|c| !BLIND.contains(&c.as_str()))
        .cloned()
        .chain(seen)
        .collect()
}

pub fn change(before: &Told, now: &BTreeSet<String>) -> Change {
    let new: Vec<String> = now.difference(&before.conditions).cloned().collect();
    if !new.is_empty() {
        Change::Raised(new)
    } else if now.is_empty() && !before.conditions.is_empty() {
        Change::Resolved
    } else if *now != before.conditions {
        // Some told conditions ended, others hold: the next telling is when all have ended.
        Change::Eased
    } else {
        Change::Quiet
    }
}

/// What is remembered once `now` was dealt with.
pub fn told_after(
    before: &Told,
    now: &BTreeSet<String>,
    finding: &Finding,
    at: DateTime<Utc>,
) -> Told {
    if now.is_empty() {
        return Told::default();
    }
    let kept_before = now.iter().any(|c| before.conditions.contains(c));
    let severity = match (finding.severity(), before.severity.filter(|_| kept_before)) {
        (Some(a), Some(b)) => Some(a.most_urgent(b)),
        (a, b) => a.or(b),
    };
    Told {
        severity,
        since: before.since.or(Some(at)),
        conditions: now.clone(),
        label: Some(finding.label.clone()),
    }
}

/// The claim of one telling: the state's version and what is told, so a kept notice is only ever
/// resent for the very change it tells.
pub fn claim_key(pk: &str, version: Option<u64>, change: &Change) -> String {
    let what = match change {
        Change::Raised(new) => new.join("+"),
        Change::Resolved => "resolved".to_owned(),
        Change::Eased => "eased".to_owned(),
        Change::Quiet => "quiet".to_owned(),
    };
    crate::model::key_part(&format!("{pk}#v{}#{what}", version.unwrap_or(0)))
}

/// Targets with something told and not yet resolved: a scheduled run checks them even once the
/// policy or the listeners stop naming them, so each ends with a resolution.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Registry {
    pub targets: BTreeSet<String>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const CODES: &[&str] = &[
        "expired",
        "expires-under-7d",
        "expires-under-30d",
        "expires-under-45d",
        "renewal-stalled",
        "untrusted",
        "unreachable",
    ];

    fn set(mask: u8) -> BTreeSet<String> {
        CODES
            .iter()
            .enumerate()
            .filter(|(i, _)| mask & (1 << i) != 0)
            .map(|(_, c)| (*c).to_owned())
            .collect()
    }

    proptest! {
        // Every pair of before/now sets: told exactly when something is new or all is over.
        #[test]
        fn told_once_per_new_condition_and_once_when_resolved(b in 0u8..128, n in 0u8..128) {
            let before = Told { conditions: set(b), ..Told::default() };
            let now = set(n);
            let c = change(&before, &now);
            match &c {
                Change::Raised(new) => {
                    prop_assert!(!new.is_empty());
                    prop_assert!(new.iter().all(|x| now.contains(x) && !before.conditions.contains(x)));
                }
                Change::Resolved => prop_assert!(now.is_empty() && !before.conditions.is_empty()),
                Change::Eased => prop_assert!(now.is_subset(&before.conditions) && now != before.conditions && !now.is_empty()),
                Change::Quiet => prop_assert_eq!(&now, &before.conditions),
            }
            // Asked again with what would be remembered, nothing more is said.
            let after = Told { conditions: now.clone(), ..Told::default() };
            prop_assert_eq!(change(&after, &now), Change::Quiet);
        }
    }

    fn finding(codes: &[&str]) -> Finding {
        use crate::certwatch::assess::{Condition, Kind};
        Finding {
            target: "t".into(),
            label: "t".into(),
            kind: Kind::Acm,
            days: None,
            not_after: None,
            conditions: codes
                .iter()
                .map(|c| Condition {
                    code: (*c).into(),
                    severity: Severity::Sev3,
                    says: String::new(),
                    next: String::new(),
                })
                .collect(),
            facts: serde_json::Value::Null,
        }
    }

    #[test]
    fn a_blind_run_keeps_what_was_told() {
        let told = Told {
            conditions: set(0b100),
            severity: Some(Severity::Sev2),
            ..Told::default()
        };
        let blind = holding(&told, &finding(&["unreadable"]));
        assert_eq!(
            change(&told, &blind),
            Change::Raised(vec!["unreadable".into()])
        );
        let after = told_after(&told, &blind, &finding(&["unreadable"]), Utc::now());
        assert_eq!(
            after.severity,
            Some(Severity::Sev2),
            "the SEV2 told still stands"
        );
        // Seen again, still under 30 days: nothing new to tell (the read failure is over).
        let seen = holding(&after, &finding(&["expires-under-30d"]));
        assert_eq!(change(&after, &seen), Change::Eased);
        // Seen again, renewed meanwhile: resolved.
        assert_eq!(
            change(&after, &holding(&after, &finding(&[]))),
            Change::Resolved
        );
    }

    #[test]
    fn claims_name_the_change() {
        let a = claim_key(
            "certwatch#x",
            Some(3),
            &Change::Raised(vec!["expires-under-7d".into()]),
        );
        let b = claim_key(
            "certwatch#x",
            Some(3),
            &Change::Raised(vec!["expires-under-30d".into()]),
        );
        assert_ne!(a, b);
        assert_eq!(
            claim_key("certwatch#x", None, &Change::Resolved),
            "certwatch#x#v0#resolved"
        );
    }

    #[test]
    fn a_threshold_crossed_is_new_and_a_renewal_resolves() {
        let told = Told {
            conditions: set(0b100),
            ..Told::default()
        }; // under 30 days
        assert_eq!(
            change(&told, &set(0b010)),
            Change::Raised(vec!["expires-under-7d".into()])
        );
        assert_eq!(change(&told, &BTreeSet::new()), Change::Resolved);
        assert_eq!(change(&Told::default(), &BTreeSet::new()), Change::Quiet);
    }
}
