//! certwatch's judgement, pure: the guide's thresholds over every day of a certificate's last
//! year, every kind of certificate, and what an endpoint serves.

use axiom_ops::certwatch::assess::{self, days_left, expiry, Finding};
use axiom_ops::certwatch::observe::Seen;
use axiom_ops::certwatch::served;
use axiom_ops::model::{
    parse_time, AcmCert, CertType, DbState, ListenerCert, Served, Severity, ValidationRecord,
};
use chrono::{DateTime, TimeDelta, Utc};
use proptest::prelude::*;

const ARN: &str =
    "arn:aws:acm:us-east-1:123456789012:certificate/61f50cd4-45b9-4259-b049-d0a53682fa4b";

fn now() -> DateTime<Utc> {
    parse_time("2026-11-27T09:00:00Z").expect("t")
}

fn in_days(d: i64) -> DateTime<Utc> {
    now() + TimeDelta::days(d) + TimeDelta::hours(1)
}

fn cert(kind: CertType, days: i64) -> AcmCert {
    AcmCert {
        arn: ARN.into(),
        domain: "api.axiomcore.example.com".into(),
        names: vec!["api.axiomcore.example.com".into()],
        not_after: Some(in_days(days)),
        kind,
        status: "ISSUED".into(),
        renewal_eligibility: Some("ELIGIBLE".into()),
        renewal_status: None,
        renewal_reason: None,
        validation: vec![ValidationRecord {
            domain: "api.axiomcore.example.com".into(),
            name: "_x1.api.axiomcore.example.com.".into(),
            rtype: "CNAME".into(),
            value: "_y2.acm-validations.aws.".into(),
            status: "SUCCESS".into(),
            dns: None,
        }],
        in_use_by: vec![
            "arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/app/axiomcore-alb/1"
                .into(),
        ],
        fingerprint: Some("aa".repeat(32)),
    }
}

fn codes(f: &Finding) -> Vec<&str> {
    f.conditions.iter().map(|c| c.code.as_str()).collect()
}

fn rank(s: Option<(&str, Severity)>) -> u8 {
    match s.map(|(_, sev)| sev) {
        None => 9,
        Some(sev) => sev as u8,
    }
}

proptest! {
    // Fewer days left is never less urgent, and a certificate nobody renews is told of earlier.
    #[test]
    fn thresholds_only_tighten_as_expiry_nears(d in -400i64..400, renews in any::<bool>()) {
        prop_assert!(rank(expiry(d - 1, renews)) <= rank(expiry(d, renews)));
        prop_assert!(rank(expiry(d, false)) <= rank(expiry(d, true)));
        let quiet_from = if renews { 30 } else { 45 };
        prop_assert_eq!(expiry(d, renews).is_none(), d >= quiet_from);
        prop_assert_eq!(expiry(d, renews).map(|(_, s)| s) == Some(Severity::Sev1), d < 7);
    }

    #[test]
    fn days_are_whole_days_left(h in -10_000i64..10_000) {
        let d = days_left(now() + TimeDelta::hours(h), now());
        prop_assert!(d * 24 <= h && h < (d + 1) * 24);
    }
}

#[test]
fn imported_certificates_page_by_the_guides_thresholds() {
    for (days, expect, sev) in [
        (5, vec!["expires-under-7d"], Some(Severity::Sev1)),
        (20, vec!["expires-under-30d"], Some(Severity::Sev2)),
        (40, vec!["expires-under-45d"], Some(Severity::Sev2)),
        (200, vec![], None),
    ] {
        let f = assess::acm(ARN, &Seen::Found(cert(CertType::Imported, days)), now());
        assert_eq!((codes(&f), f.severity()), (expect, sev), "{days} days");
        assert_eq!(f.days, Some(days));
        if let Some(c) = f.conditions.first() {
            assert!(
                c.next.contains("import-certificate") && c.next.contains(ARN),
                "{}",
                c.next
            );
            assert!(c.says.contains("imported"), "{}", c.says);
        }
    }
}

#[test]
fn a_managed_certificate_is_told_of_early_only_when_its_renewal_stalls() {
    let healthy = assess::acm(ARN, &Seen::Found(cert(CertType::AmazonIssued, 40)), now());
    assert!(healthy.conditions.is_empty());

    let mut stalled = cert(CertType::AmazonIssued, 40);
    stalled.renewal_status = Some("PENDING_VALIDATION".into());
    stalled.validation[0].status = "PENDING_VALIDATION".into();
    let f = assess::acm(ARN, &Seen::Found(stalled.clone()), now());
    assert_eq!(codes(&f), ["expires-under-45d", "renewal-stalled"]);
    let next = &f.conditions[1].next;
    assert!(
        next.contains("Verify DNS")
            && next.contains("_x1.api.axiomcore.example.com. CNAME _y2.acm-validations.aws."),
        "{next}"
    );

    // Past 45 days out a stall is not yet news.
    stalled.not_after = Some(in_days(50));
    assert!(assess::acm(ARN, &Seen::Found(stalled), now())
        .conditions
        .is_empty());

    let mut idle = cert(CertType::AmazonIssued, 20);
    idle.renewal_eligibility = Some("INELIGIBLE".into());
    let f = assess::acm(ARN, &Seen::Found(idle), now());
    assert_eq!(codes(&f), ["expires-under-30d", "renewal-ineligible"]);
    assert!(
        f.conditions[0].next.contains("update the ALB listener"),
        "{}",
        f.conditions[0].next
    );

    // Renewing normally, 20 days out: the guide's "renew" as the fallback.
    let f = assess::acm(ARN, &Seen::Found(cert(CertType::AmazonIssued, 20)), now());
    assert_eq!(codes(&f), ["expires-under-30d"]);
    assert!(f.conditions[0].next.contains("renew-certificate"));
}

#[test]
fn missing_and_unreadable_certificates_are_told_apart() {
    let f = assess::acm(ARN, &Seen::Missing, now());
    assert_eq!(
        (codes(&f), f.severity()),
        (vec!["missing"], Some(Severity::Sev2))
    );
    let f = assess::acm(ARN, &Seen::Unreadable("AccessDenied".into()), now());
    assert_eq!(
        (codes(&f), f.severity()),
        (vec!["unreadable"], Some(Severity::Sev3))
    );
    assert!(f.conditions[0].says.contains("AccessDenied"));
}

fn served_cert(days: i64, fingerprint: &str) -> Served {
    Served {
        endpoint: "https://api.axiomcore.example.com".into(),
        host: "api.axiomcore.example.com".into(),
        port: 443,
        not_after: in_days(days),
        subject: "CN=api.axiomcore.example.com".into(),
        issuer: "CN=Amazon RSA 2048 M02".into(),
        names: vec!["*.axiomcore.example.com".into()],
        untrusted: None,
        fingerprint: fingerprint.into(),
    }
}

fn endpoint(s: Result<Served, String>, expected: &[&AcmCert]) -> Finding {
    served::endpoint(
        "https://api.axiomcore.example.com",
        "api.axiomcore.example.com",
        &s,
        expected,
        now(),
    )
}

#[test]
fn an_endpoint_is_judged_by_what_it_serves() {
    let acm = cert(CertType::AmazonIssued, 300);
    let same = "aa".repeat(32);
    // Serving ACM's healthy certificate: nothing to say.
    assert!(endpoint(Ok(served_cert(300, &same)), &[&acm])
        .conditions
        .is_empty());
    // ACM's certificate is healthy, the endpoint serves another that expires in 3 days.
    let f = endpoint(Ok(served_cert(3, &"bb".repeat(32))), &[&acm]);
    assert_eq!(codes(&f), ["expires-under-7d", "not-acm-certificate"]);
    assert_eq!(f.severity(), Some(Severity::Sev1));
    assert!(
        f.conditions[0].next.contains("Update the ALB listener")
            && f.conditions[0].next.contains(ARN)
    );
    // What clients would refuse.
    let mut bad = served_cert(300, &same);
    bad.untrusted = Some("invalid peer certificate: UnknownIssuer".into());
    bad.names = vec!["www.other.example".into()];
    let f = endpoint(Ok(bad), &[&acm]);
    assert_eq!(codes(&f), ["untrusted", "wrong-name"]);
    assert!(f.conditions.iter().all(|c| c.severity == Severity::Sev1));
    // Nothing served: told, not paged.
    let f = endpoint(Err("connect: refused".into()), &[&acm]);
    assert_eq!(
        (codes(&f), f.severity()),
        (vec!["unreachable"], Some(Severity::Sev3))
    );
    // ACM gave no fingerprint (validation pending): no comparison, no mismatch.
    let mut pending = acm.clone();
    pending.fingerprint = None;
    let f = endpoint(Ok(served_cert(300, &"bb".repeat(32))), &[&pending]);
    assert!(f.conditions.is_empty(), "{:?}", codes(&f));
    // Nothing in ACM to compare with: judged on its own.
    assert!(endpoint(Ok(served_cert(300, &same)), &[])
        .conditions
        .is_empty());
}

#[test]
fn the_listeners_certificate_is_what_an_endpoint_should_serve() {
    let on_listener = cert(CertType::AmazonIssued, 300);
    let mut other = cert(CertType::Imported, 300);
    other.arn = format!("{ARN}-other");
    let all = vec![other.clone(), on_listener.clone()];
    let listener = ListenerCert {
        load_balancer:
            "arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/app/axiomcore-alb/1"
                .into(),
        listener:
            "arn:aws:elasticloadbalancing:us-east-1:123456789012:listener/app/axiomcore-alb/1/2"
                .into(),
        port: Some(443),
        certificate: ARN.into(),
        default: true,
    };
    let e = served::expected(
        "api.axiomcore.example.com",
        std::slice::from_ref(&listener),
        &all,
    );
    assert_eq!(e.iter().map(|c| c.arn.as_str()).collect::<Vec<_>>(), [ARN]);
    // Without listeners, every policy certificate for the host.
    assert_eq!(
        served::expected("api.axiomcore.example.com", &[], &all).len(),
        2
    );
    assert!(served::expected("www.other.example", &[], &all).is_empty());
}

#[test]
fn a_database_server_certificate_follows_the_same_thresholds() {
    let db = |days: Option<i64>| DbState {
        status: "available".into(),
        arn: None,
        ca: Some("rds-ca-2019".into()),
        cert_valid_till: days.map(in_days),
    };
    let f = assess::database("axiomcore-production", &Seen::Found(db(Some(20))), now());
    assert_eq!(
        (codes(&f), f.severity()),
        (vec!["expires-under-30d"], Some(Severity::Sev2))
    );
    assert!(
        f.conditions[0].next.contains("--ca-certificate-identifier")
            && f.conditions[0].next.contains("rds-ca-2019")
    );
    assert!(
        assess::database("axiomcore-production", &Seen::Found(db(None)), now())
            .conditions
            .is_empty()
    );
    assert_eq!(
        codes(&assess::database("x", &Seen::Missing, now())),
        ["missing"]
    );
}
