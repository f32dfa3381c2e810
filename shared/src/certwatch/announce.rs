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

pub fn change(before: &Told, now: &BTreeSet<String>) -> Change {
    let new: Vec<String> = now.difference(&before.conditions).cloned().collect();
    if !new.is_empty() {
        Change::Raised(new)
    } else if now.is_empty() && !before.conditions.is_empty() {
        Change::Resolved
    } else if *now != before.conditions {
        Change::Eased
    } else {
        Change::Quiet
    }
}

/// What is remembered after `finding` was dealt with.
pub fn told_after(before: &Told, finding: &Finding, at: DateTime<Utc>) -> Told {
    let conditions: BTreeSet<String> = finding.conditions.iter().map(|c| c.code.clone()).collect();
    if conditions.is_empty() {
        return Told::default();
    }
    Told {
        severity: finding.severity(),
        since: before.since.or(Some(at)),
        conditions,
    }
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
