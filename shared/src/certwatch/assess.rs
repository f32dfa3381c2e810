//! From what was seen to what is wrong, pure: each certificate, endpoint and database becomes a
//! [`Finding`] with the conditions that hold for it now, each with its severity, what it means
//! and the guide's next step for the case at hand.

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::{json, Value};

use super::observe::Seen;
use crate::model::{AcmCert, CertType, DbState, Severity};

/// The guide's thresholds, first match wins: (days under, code, severity, who it applies to).
/// A certificate nobody renews (imported, ineligible, or its renewal stalled) is told of earlier.
const EXPIRY: &[(i64, &str, Severity, Applies)] = &[
    (0, "expired", Severity::Sev1, Applies::All),
    (7, "expires-under-7d", Severity::Sev1, Applies::All),
    (30, "expires-under-30d", Severity::Sev2, Applies::All),
    (
        45,
        "expires-under-45d",
        Severity::Sev2,
        Applies::NotRenewing,
    ),
];

/// Stalled or ineligible renewals are told of from this many days out.
pub const RENEWAL_WATCH_DAYS: i64 = 45;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Applies {
    All,
    NotRenewing,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    Acm,
    Endpoint,
    Database,
    /// Only when its listeners cannot be read.
    LoadBalancer,
}

/// One thing wrong now.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Condition {
    /// Stable: what the ledger remembers as announced.
    pub code: String,
    pub severity: Severity,
    pub says: String,
    pub next: String,
}

/// One certificate, endpoint or database, as assessed now.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Finding {
    /// The notice's `target`: the certificate ARN, the endpoint, the database identifier.
    pub target: String,
    /// What people call it, for the subject: `api.axiomcore.example.com`.
    pub label: String,
    pub kind: Kind,
    pub days: Option<i64>,
    pub not_after: Option<DateTime<Utc>>,
    pub conditions: Vec<Condition>,
    /// Everything seen, for the JSON body and the ledger.
    pub facts: Value,
}

impl Finding {
    /// Nothing wrong yet, nothing read yet but `facts`.
    pub fn new(target: &str, label: String, kind: Kind, facts: Value) -> Finding {
        Finding {
            target: target.to_owned(),
            label,
            kind,
            days: None,
            not_after: None,
            conditions: Vec::new(),
            facts,
        }
    }

    pub fn severity(&self) -> Option<Severity> {
        self.conditions.iter().map(|c| c.severity).min()
    }
}

/// Whole days left (floored): 5 days 23 hours is 5.
pub fn days_left(not_after: DateTime<Utc>, now: DateTime<Utc>) -> i64 {
    (not_after - now).num_seconds().div_euclid(86_400)
}

/// The tightest threshold crossed, if any.
pub fn expiry(days: i64, renews: bool) -> Option<(&'static str, Severity)> {
    EXPIRY
        .iter()
        .find(|(under, _, _, applies)| days < *under && (!renews || *applies == Applies::All))
        .map(|(_, code, sev, _)| (*code, *sev))
}

pub(super) fn in_days(days: i64) -> String {
    match days {
        d if d < 0 => format!("expired {} day{} ago", -d, if d == -1 { "" } else { "s" }),
        0 => "expires today".to_owned(),
        1 => "expires tomorrow".to_owned(),
        d => format!("expires in {d} days"),
    }
}

fn expiry_condition(
    days: i64,
    renews: bool,
    not_after: DateTime<Utc>,
    next: &str,
) -> Option<Condition> {
    let (code, severity) = expiry(days, renews)?;
    Some(Condition {
        code: code.to_owned(),
        severity,
        says: format!(
            "{} ({})",
            in_days(days),
            not_after.format("%Y-%m-%d %H:%M UTC")
        ),
        next: next.to_owned(),
    })
}

pub(super) fn condition(code: &str, severity: Severity, says: String, next: String) -> Condition {
    Condition {
        code: code.to_owned(),
        severity,
        says,
        next,
    }
}

/// Who renews a certificate, as far as ACM says.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Renewal {
    /// Imported: ACM never renews it.
    Imported,
    /// Amazon-issued but in use by nothing: ACM will not renew it.
    Ineligible,
    /// ACM's renewal is under way and stuck: `PENDING_VALIDATION` or `FAILED`, and why.
    Stalled(String),
    /// ACM renews it by itself.
    Managed,
}

impl Renewal {
    fn of(c: &AcmCert) -> Renewal {
        if c.kind == CertType::Imported {
            return Renewal::Imported;
        }
        if c.renewal_eligibility.as_deref() == Some("INELIGIBLE") {
            return Renewal::Ineligible;
        }
        match c.renewal_status.as_deref() {
            Some(s @ ("PENDING_VALIDATION" | "FAILED")) => Renewal::Stalled(format!(
                "{s}{}",
                c.renewal_reason
                    .as_deref()
                    .map(|r| format!(" ({r})"))
                    .unwrap_or_default()
            )),
            _ => Renewal::Managed,
        }
    }

    /// What is said of it, and the condition of its own (beside expiry), if any.
    fn why_not(&self) -> Option<(Option<&'static str>, String)> {
        match self {
            Renewal::Imported => Some((None, "it is imported: ACM never renews it".into())),
            Renewal::Ineligible => Some((
                Some("renewal-ineligible"),
                "ACM will not renew it: it is in use by nothing (renewal INELIGIBLE)".into(),
            )),
            Renewal::Stalled(why) => Some((
                Some("renewal-stalled"),
                format!("its renewal is stalled: {why}"),
            )),
            Renewal::Managed => None,
        }
    }
}

/// The validation records that are not validated yet, as the DNS records that must exist.
fn missing_records(c: &AcmCert) -> Vec<String> {
    c.validation
        .iter()
        .filter(|r| r.status != "SUCCESS")
        .map(|r| match &r.dns {
            Some(answer) => format!("{} {} {} ({})", r.name, r.rtype, r.value, answer.describe()),
            None => format!("{} {} {}", r.name, r.rtype, r.value),
        })
        .collect()
}

pub fn acm(arn: &str, seen: &Seen<AcmCert>, now: DateTime<Utc>) -> Finding {
    let mut f = Finding::new(
        arn,
        short_arn(arn),
        Kind::Acm,
        json!({ "certificate": arn }),
    );
    let c = match seen {
        Seen::Unreadable(why) => {
            f.conditions.push(condition(
                "unreadable",
                Severity::Sev3,
                format!("could not be read: {why}"),
                format!("Check certwatch's access: aws acm describe-certificate --certificate-arn {arn}"),
            ));
            return f;
        }
        Seen::Missing => {
            f.conditions.push(condition(
                "missing",
                Severity::Sev2,
                "does not exist in ACM".into(),
                "Correct the policy's [certificates] list, or the listener that names it.".into(),
            ));
            return f;
        }
        Seen::Found(c) => c,
    };
    f.label = c.domain.clone();
    f.facts = serde_json::to_value(c).unwrap_or(Value::Null);
    let Some(not_after) = c.not_after else {
        return f;
    };
    let days = days_left(not_after, now);
    f.days = Some(days);
    f.not_after = Some(not_after);
    let renewal = Renewal::of(c);
    let records = missing_records(c);
    let next = match &renewal {
        Renewal::Imported => format!(
            "Renew it with its issuer, then re-import it under the same ARN (listeners keep using it): aws acm import-certificate --certificate-arn {arn} --certificate fileb://cert.pem --private-key fileb://key.pem --certificate-chain fileb://chain.pem"
        ),
        Renewal::Stalled(_) if !records.is_empty() => format!(
            "Verify DNS: ACM validates the renewal only once these records exist: {}. Then: aws acm describe-certificate --certificate-arn {arn}",
            records.join("; ")
        ),
        Renewal::Stalled(_) => format!(
            "Find what its validation waits for (e-mail approval, or a DNS record ACM no longer lists): aws acm describe-certificate --certificate-arn {arn}; if it cannot complete, request a new certificate and update the ALB listener"
        ),
        Renewal::Ineligible => format!(
            "Renew it: attach it to the listener that should use it (ACM renews only certificates in use), or request a new one and update the ALB listener: aws acm request-certificate --domain-name {} --validation-method DNS",
            c.domain
        ),
        Renewal::Managed => format!(
            "ACM renews it by itself; if it has not within days: aws acm renew-certificate --certificate-arn {arn}, and verify DNS (the validation CNAME)"
        ),
    };
    let why_not = renewal.why_not();
    f.conditions
        .extend(expiry_condition(days, why_not.is_none(), not_after, &next));
    if let (Some((code, why)), true) = (why_not, days < RENEWAL_WATCH_DAYS) {
        match code {
            Some(code) => f
                .conditions
                .push(condition(code, Severity::Sev2, why, next.clone())),
            // Imported: said with the expiry itself.
            None => {
                if let Some(first) = f.conditions.first_mut() {
                    first.says = format!("{}; {why}", first.says);
                }
            }
        }
    }
    f
}

/// `…certificate/1234abcd-…` is long: the subject keeps the id's last 8 characters.
pub(super) fn short_arn(arn: &str) -> String {
    let id = arn.rsplit_once('/').map_or(arn, |(_, id)| id);
    let tail: Vec<char> = id.chars().rev().take(9).collect();
    if tail.len() <= 8 {
        return id.to_owned();
    }
    let last8: String = tail[..8].iter().rev().collect();
    format!("…{last8}")
}

pub fn database(id: &str, seen: &Seen<DbState>, now: DateTime<Utc>) -> Finding {
    let facts = json!({ "database": id });
    let mut f = Finding::new(id, format!("database {id}"), Kind::Database, facts);
    let db = match seen {
        Seen::Unreadable(why) => {
            f.conditions.push(condition(
                "unreadable",
                Severity::Sev3,
                format!("could not be read: {why}"),
                format!("Check certwatch's access: aws rds describe-db-instances --db-instance-identifier {id}"),
            ));
            return f;
        }
        Seen::Missing => {
            f.conditions.push(condition(
                "missing",
                Severity::Sev2,
                "does not exist in RDS".into(),
                "Correct the policy's [[databases]] list.".into(),
            ));
            return f;
        }
        Seen::Found(db) => db,
    };
    f.facts = json!({
        "database": id,
        "ca": db.ca,
        "server_certificate_valid_till": db.cert_valid_till.map(|t| t.to_rfc3339()),
        "status": db.status,
    });
    let Some(till) = db.cert_valid_till else {
        return f;
    };
    let days = days_left(till, now);
    f.days = Some(days);
    f.not_after = Some(till);
    let ca = db.ca.as_deref().unwrap_or("its CA");
    let next = format!(
        "Rotate its server certificate to a current CA in the maintenance window (the database restarts): aws rds modify-db-instance --db-instance-identifier {id} --ca-certificate-identifier rds-ca-rsa2048-g1 --apply-immediately; clients must trust the new CA first (now {ca})"
    );
    f.conditions
        .extend(expiry_condition(days, true, till, &next).map(|mut c| {
            c.says = format!("server certificate {} (CA {ca})", c.says);
            c
        }));
    f
}

/// A load balancer: its listeners read (nothing to say of it), or why they could not be, so
/// their certificates went unchecked this run.
pub fn load_balancer(arn: &str, unread: Option<&String>) -> Finding {
    let conditions = match unread {
        None => Vec::new(),
        Some(why) => vec![condition(
            "unreadable",
            Severity::Sev3,
            format!(
                "its listeners could not be read, so their certificates were not checked: {why}"
            ),
            format!(
                "Check certwatch's access: aws elbv2 describe-listeners --load-balancer-arn {arn}"
            ),
        )],
    };
    let label = arn
        .split_once("loadbalancer/")
        .map_or(arn, |(_, name)| name);
    let facts = json!({ "load_balancer": arn, "error": unread });
    Finding {
        conditions,
        ..Finding::new(arn, label.to_owned(), Kind::LoadBalancer, facts)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thresholds_are_the_guides() {
        assert_eq!(expiry(-1, true), Some(("expired", Severity::Sev1)));
        assert_eq!(expiry(0, true), Some(("expires-under-7d", Severity::Sev1)));
        assert_eq!(expiry(6, true), Some(("expires-under-7d", Severity::Sev1)));
        assert_eq!(expiry(7, true), Some(("expires-under-30d", Severity::Sev2)));
        assert_eq!(
            expiry(29, false),
            Some(("expires-under-30d", Severity::Sev2))
        );
        assert_eq!(expiry(30, true), None);
        assert_eq!(expiry(44, true), None);
        assert_eq!(
            expiry(44, false),
            Some(("expires-under-45d", Severity::Sev2))
        );
        assert_eq!(expiry(45, false), None);
    }

    #[test]
    fn days_are_floored() {
        let now = crate::model::parse_time("2026-11-27T12:00:00Z").expect("t");
        let later = |h: i64| now + chrono::TimeDelta::hours(h);
        assert_eq!(days_left(later(5 * 24 + 23), now), 5);
        assert_eq!(days_left(later(24), now), 1);
        assert_eq!(days_left(later(1), now), 0);
        assert_eq!(days_left(later(-1), now), -1);
    }
}
