//! An endpoint's served certificate, judged as its clients judge it, pure: still valid, trusted,
//! for this host, and the certificate ACM says the load balancer presents.

use chrono::{DateTime, Utc};
use serde_json::json;

use super::assess::{condition, days_left, expiry, Finding, Kind};
use crate::model::{AcmCert, ListenerCert, Served, Severity};

/// The ACM certificates an endpoint is expected to serve: those of the policy's load balancers'
/// listeners when there are any, else the policy's own ACM certificates that cover its host.
pub fn expected<'a>(
    host: &str,
    listeners: &[ListenerCert],
    certs: &'a [AcmCert],
) -> Vec<&'a AcmCert> {
    let from_listeners: Vec<&AcmCert> = certs
        .iter()
        .filter(|c| listeners.iter().any(|l| l.certificate == c.arn))
        .filter(|c| crate::model::covers(&names_of(c), host))
        .collect();
    if !from_listeners.is_empty() {
        return from_listeners;
    }
    certs
        .iter()
        .filter(|c| crate::model::covers(&names_of(c), host))
        .collect()
}

fn names_of(c: &AcmCert) -> Vec<String> {
    let mut names = c.names.clone();
    names.push(c.domain.clone());
    names
}

pub fn endpoint(
    url: &str,
    host: &str,
    seen: &Result<Served, String>,
    expected: &[&AcmCert],
    now: DateTime<Utc>,
) -> Finding {
    let facts = json!({ "endpoint": url });
    let mut f = Finding::new(url, host.to_owned(), Kind::Endpoint, facts);
    let s = match seen {
        Ok(s) => s,
        Err(why) => {
            f.conditions.push(condition(
                "unreachable",
                Severity::Sev3,
                format!("no certificate could be read: {why}"),
                format!("Check that {host} is up and reachable from certwatch's network: curl -vI {url}"),
            ));
            return f;
        }
    };
    let days = days_left(s.not_after, now);
    f.days = Some(days);
    f.not_after = Some(s.not_after);
    let matching = expected
        .iter()
        .find(|c| c.fingerprint.as_deref() == Some(s.fingerprint.as_str()));
    f.facts = json!({
        "endpoint": url,
        "served": s,
        "acm_certificate": matching.map(|c| c.arn.clone()),
        "expected": expected.iter().map(|c| c.arn.clone()).collect::<Vec<_>>(),
    });
    let update_listener = |what: &str| {
        format!(
            "Update the ALB listener to {what}: aws elbv2 modify-listener --listener-arn <listener> --certificates CertificateArn=<arn>; then verify: openssl s_client -connect {host}:{} -servername {host}",
            s.port
        )
    };
    if let Some((code, severity)) = expiry(days, true) {
        let next = match (matching, expected.first()) {
            // ACM's certificate is the one served: renewing it is the fix.
            (Some(c), _) => format!(
                "Renew the certificate it serves, {} (see its own notice)",
                c.arn
            ),
            (None, Some(c)) => {
                update_listener(&format!("serve {} (ACM's certificate for it)", c.arn))
            }
            (None, None) => update_listener("serve a renewed certificate"),
        };
        f.conditions.push(condition(
            code,
            severity,
            format!(
                "serves a certificate that {} ({})",
                super::assess::in_days(days),
                s.not_after.format("%Y-%m-%d %H:%M UTC")
            ),
            next,
        ));
    }
    if let Some(why) = &s.untrusted {
        f.conditions.push(condition(
            "untrusted",
            Severity::Sev1,
            format!("clients do not trust what it serves: {why}"),
            update_listener("a certificate with its full chain from a trusted CA"),
        ));
    }
    if !s.covers(host) {
        f.conditions.push(condition(
            "wrong-name",
            Severity::Sev1,
            format!(
                "serves a certificate for {} , not for {host}",
                if s.names.is_empty() {
                    s.subject.clone()
                } else {
                    s.names.join(", ")
                }
            ),
            update_listener(&format!("a certificate for {host}")),
        ));
    }
    // Only certificates whose fingerprint ACM gave can be compared; others say nothing either way.
    let comparable = expected.iter().any(|c| c.fingerprint.is_some());
    if matching.is_none() && comparable {
        let arns: Vec<&str> = expected.iter().map(|c| c.arn.as_str()).collect();
        f.conditions.push(condition(
            "not-acm-certificate",
            Severity::Sev2,
            format!(
                "serves a certificate ({}, fingerprint {}…) that is not ACM's {}",
                s.subject,
                s.fingerprint.get(..16).unwrap_or(&s.fingerprint),
                arns.join(", ")
            ),
            format!(
                "Verify DNS: {host} must point at the load balancer; {}",
                update_listener(&format!("use {}", arns[0]))
            ),
        ));
    }
    f
}
