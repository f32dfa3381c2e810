//! Certificates as certwatch sees them: ACM's record of one, a load balancer listener's use of
//! one, and the certificate an endpoint actually serves.

use chrono::{DateTime, Utc};
use serde::Serialize;

/// Who renews it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum CertType {
    /// ACM issued it and renews it, when it is eligible and its validation still holds.
    AmazonIssued,
    /// Imported into ACM: ACM never renews it.
    Imported,
    /// Issued by a private CA through ACM.
    Private,
}

/// A DNS record ACM needs for validation (and so for every managed renewal).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ValidationRecord {
    pub domain: String,
    pub name: String,
    pub rtype: String,
    pub value: String,
    /// ACM's validation status for the domain: `SUCCESS`, `PENDING_VALIDATION`, `FAILED`.
    pub status: String,
    /// What DNS answers for `name`, when it was asked (only for records not yet validated).
    pub dns: Option<DnsAnswer>,
}

/// What DNS answers for a validation record's name, against the value ACM expects.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DnsAnswer {
    /// It is there, pointing where ACM expects.
    AsExpected,
    /// It points elsewhere.
    Elsewhere(Vec<String>),
    /// No such record.
    Missing,
    /// No answer: why.
    Unknown(String),
}

impl DnsAnswer {
    /// Judges a lookup of `expected`'s record; names compare without case or the final dot.
    pub fn judge(expected: &str, answer: Result<Vec<String>, String>) -> DnsAnswer {
        let norm = |s: &str| s.trim_end_matches('.').to_ascii_lowercase();
        match answer {
            Err(why) => DnsAnswer::Unknown(why),
            Ok(found) if found.is_empty() => DnsAnswer::Missing,
            Ok(found) if found.iter().any(|f| norm(f) == norm(expected)) => DnsAnswer::AsExpected,
            Ok(found) => DnsAnswer::Elsewhere(found),
        }
    }

    pub fn describe(&self) -> String {
        match self {
            DnsAnswer::AsExpected => "it resolves as expected".into(),
            DnsAnswer::Elsewhere(to) => format!("it points elsewhere: {}", to.join(", ")),
            DnsAnswer::Missing => "DNS has no such record".into(),
            DnsAnswer::Unknown(why) => format!("DNS did not answer: {why}"),
        }
    }
}

/// One ACM certificate, as `DescribeCertificate` (and `GetCertificate`) report it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AcmCert {
    pub arn: String,
    pub domain: String,
    pub names: Vec<String>,
    pub not_after: Option<DateTime<Utc>>,
    pub kind: CertType,
    /// `ISSUED`, `EXPIRED`, `PENDING_VALIDATION`, …
    pub status: String,
    /// `ELIGIBLE` or `INELIGIBLE` (an Amazon-issued certificate in use by nothing is not renewed).
    pub renewal_eligibility: Option<String>,
    /// `PENDING_AUTO_RENEWAL`, `PENDING_VALIDATION`, `SUCCESS`, `FAILED`: a renewal under way.
    pub renewal_status: Option<String>,
    pub renewal_reason: Option<String>,
    /// The records of the renewal under way, else of the original validation.
    pub validation: Vec<ValidationRecord>,
    pub in_use_by: Vec<String>,
    /// SHA-256 of the certificate (DER), hex: compared with what endpoints serve.
    pub fingerprint: Option<String>,
}

/// A certificate a load balancer's HTTPS or TLS listener presents.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ListenerCert {
    pub load_balancer: String,
    pub listener: String,
    pub port: Option<i32>,
    pub certificate: String,
    /// The listener's default certificate (else one of its SNI certificates).
    pub default: bool,
}

/// What an endpoint presented in a TLS handshake.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Served {
    pub endpoint: String,
    pub host: String,
    pub port: u16,
    pub not_after: DateTime<Utc>,
    pub subject: String,
    pub issuer: String,
    /// DNS names of its subjectAltName extension.
    pub names: Vec<String>,
    /// Why its chain does not verify for `host`, or `None` when it does.
    pub untrusted: Option<String>,
    /// SHA-256 of the leaf certificate (DER), hex.
    pub fingerprint: String,
}

impl Served {
    /// Whether one of its names covers `host` (one leftmost `*` label matches one label).
    pub fn covers(&self, host: &str) -> bool {
        covers(&self.names, host)
    }
}

/// A certificate's fingerprint: SHA-256 of its DER encoding, lower-case hex.
pub fn fingerprint(der: &[u8]) -> String {
    use sha2::{Digest, Sha256};
    super::payload::hex(&Sha256::digest(der))
}

/// Whether a certificate with these DNS names is good for `host`.
pub fn covers(names: &[String], host: &str) -> bool {
    let host = host.trim_end_matches('.').to_ascii_lowercase();
    names.iter().any(|n| {
        let n = n.trim_end_matches('.').to_ascii_lowercase();
        match n.strip_prefix("*.") {
            Some(rest) => host
                .split_once('.')
                .is_some_and(|(label, parent)| !label.is_empty() && parent == rest),
            None => n == host,
        }
    })
}

#[cfg(test)]
mod tests {
    use super::{covers, DnsAnswer};

    #[test]
    fn dns_answers_are_judged_against_the_expected_value() {
        let want = "_y2.acm-validations.aws.";
        let j = |r: Result<Vec<&str>, &str>| {
            DnsAnswer::judge(
                want,
                r.map(|v| v.into_iter().map(String::from).collect())
                    .map_err(String::from),
            )
        };
        assert_eq!(
            j(Ok(vec!["_Y2.acm-validations.aws"])),
            DnsAnswer::AsExpected
        );
        assert_eq!(j(Ok(vec![])), DnsAnswer::Missing);
        assert_eq!(
            j(Ok(vec!["old.example."])),
            DnsAnswer::Elsewhere(vec!["old.example.".into()])
        );
        assert_eq!(j(Err("timed out")), DnsAnswer::Unknown("timed out".into()));
    }

    #[test]
    fn wildcards_cover_one_label() {
        let names = vec![
            "*.axiomcore.example.com".to_owned(),
            "axiomcore.example.com".to_owned(),
        ];
        assert!(covers(&names, "api.axiomcore.example.com"));
        assert!(covers(&names, "API.axiomcore.example.com."));
        assert!(covers(&names, "axiomcore.example.com"));
        assert!(!covers(&names, "a.b.axiomcore.example.com"));
        assert!(!covers(&names, "example.com"));
        assert!(!covers(&names, "evilaxiomcore.example.com"));
    }
}
