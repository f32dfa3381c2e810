//! `[certificates]`: what `certwatch` watches. ACM certificates by ARN and those the named load
//! balancers' listeners present; endpoints probed with a TLS handshake; an extra CA bundle for
//! endpoints signed by a private CA.

use serde::Deserialize;

use super::{Fields, PolicyError};

/// The guide's public endpoint.
const DEFAULT_ENDPOINT: &str = "https://api.axiomcore.example.com";

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct Raw {
    #[serde(default)]
    acm: Vec<String>,
    #[serde(default)]
    load_balancers: Vec<String>,
    #[serde(default = "default_endpoints")]
    endpoints: Vec<String>,
    #[serde(default)]
    extra_ca_file: Option<String>,
}

impl Default for Raw {
    fn default() -> Self {
        Raw {
            acm: Vec::new(),
            load_balancers: Vec::new(),
            endpoints: default_endpoints(),
            extra_ca_file: None,
        }
    }
}

fn default_endpoints() -> Vec<String> {
    vec![DEFAULT_ENDPOINT.to_owned()]
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct CertificatePolicy {
    pub acm: Vec<String>,
    pub load_balancers: Vec<String>,
    pub endpoints: Vec<Endpoint>,
    pub extra_ca_file: Option<String>,
}

impl CertificatePolicy {
    /// Every target the policy names: certificates, load balancers, endpoints, and `databases`.
    pub fn named(&self, databases: &[crate::model::Database]) -> Vec<String> {
        self.acm
            .iter()
            .chain(&self.load_balancers)
            .cloned()
            .chain(self.endpoints.iter().map(|e| e.url.clone()))
            .chain(databases.iter().map(|d| d.id.clone()))
            .collect()
    }
}

/// An endpoint to probe: `https://host[:port]`, a path being ignored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoint {
    /// As the policy writes it: the notice's target.
    pub url: String,
    pub host: String,
    pub port: u16,
}

impl Endpoint {
    pub fn parse(url: &str) -> Result<Endpoint, String> {
        let rest = url
            .strip_prefix("https://")
            .ok_or_else(|| format!("{url:?} is not an https:// URL"))?;
        let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
        if authority.contains('@') {
            return Err(format!("{url:?}: credentials in the URL are not accepted"));
        }
        // `[v6]` or `[v6]:port`; else `host` or `host:port`.
        let (host, port) = match authority.strip_prefix('[') {
            Some(v6) => {
                let (host, rest) = v6
                    .split_once(']')
                    .ok_or_else(|| format!("{url:?}: an IPv6 address needs its closing ]"))?;
                let port = match rest {
                    "" => None,
                    r => Some(r.strip_prefix(':').ok_or_else(|| {
                        format!("{url:?}: expected :port after the IPv6 address")
                    })?),
                };
                (host, port)
            }
            None => match authority.rsplit_once(':') {
                Some((h, p)) => (h, Some(p)),
                None => (authority, None),
            },
        };
        let port = match port {
            None => 443,
            Some(p) => p
                .parse::<u16>()
                .ok()
                .filter(|p| *p > 0)
                .ok_or_else(|| format!("{url:?}: port {p:?} is not a port number"))?,
        };
        let valid = !host.is_empty()
            && host
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':'));
        if !valid {
            return Err(format!("{url:?}: {host:?} is not a host name"));
        }
        Ok(Endpoint {
            url: url.to_owned(),
            host: host.to_ascii_lowercase(),
            port,
        })
    }
}

fn arn_of(arn: &str, service: &str, resource: &str) -> bool {
    let parts: Vec<&str> = arn.splitn(6, ':').collect();
    parts.len() == 6
        && parts[0] == "arn"
        && parts[1].starts_with("aws")
        && parts[2] == service
        && !parts[3].is_empty()
        && parts[4].len() == 12
        && parts[5].starts_with(resource)
}

pub(super) fn validate(raw: Raw, fields: &Fields) -> Result<CertificatePolicy, PolicyError> {
    for (i, arn) in raw.acm.iter().enumerate() {
        if !arn_of(arn, "acm", "certificate/") {
            return Err(fields.invalid(
                &format!("certificates.acm[{i}]"),
                format!("{arn:?} is not an ACM certificate ARN (arn:aws:acm:<region>:<account>:certificate/<id>)"),
            ));
        }
    }
    for (i, arn) in raw.load_balancers.iter().enumerate() {
        if !arn_of(arn, "elasticloadbalancing", "loadbalancer/") {
            return Err(fields.invalid(
                &format!("certificates.load_balancers[{i}]"),
                format!("{arn:?} is not a load balancer ARN (arn:aws:elasticloadbalancing:<region>:<account>:loadbalancer/…)"),
            ));
        }
    }
    let endpoints = raw
        .endpoints
        .iter()
        .enumerate()
        .map(|(i, url)| {
            Endpoint::parse(url)
                .map_err(|e| fields.invalid(&format!("certificates.endpoints[{i}]"), e))
        })
        .collect::<Result<Vec<_>, _>>()?;
    if let Some(path) = &raw.extra_ca_file {
        if path.trim().is_empty() {
            return Err(fields.invalid(
                "certificates.extra_ca_file",
                "is empty: name a PEM file or leave it out",
            ));
        }
    }
    Ok(CertificatePolicy {
        acm: raw.acm,
        load_balancers: raw.load_balancers,
        endpoints,
        extra_ca_file: raw.extra_ca_file,
    })
}

#[cfg(test)]
mod tests {
    use super::Endpoint;

    #[test]
    fn endpoints_name_host_and_port() {
        let e = Endpoint::parse("https://API.axiomcore.example.com/health").expect("ok");
        assert_eq!(
            (e.host.as_str(), e.port),
            ("api.axiomcore.example.com", 443)
        );
        let e = Endpoint::parse("https://127.0.0.1:8443").expect("ok");
        assert_eq!((e.host.as_str(), e.port), ("127.0.0.1", 8443));
        assert!(Endpoint::parse("http://x")
            .expect_err("http")
            .contains("https://"));
        assert!(Endpoint::parse("https://x:99999")
            .expect_err("port")
            .contains("99999"));
        assert!(Endpoint::parse("https://u:p@x")
            .expect_err("creds")
            .contains("credentials"));
        assert!(Endpoint::parse("https://")
            .expect_err("empty")
            .contains("host"));
        assert!(Endpoint::parse("https://a b")
            .expect_err("space")
            .contains("host"));
    }
}
