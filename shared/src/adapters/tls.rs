//! `Probe`: a TLS handshake with an endpoint, as a client would make it, and the certificate it
//! was served. The chain is judged against the Mozilla roots compiled in, plus the policy's extra
//! CA bundle; an untrusted chain is reported, not refused, so its certificate can still be read.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, Utc};
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::client::WebPkiServerVerifier;
use rustls::crypto::CryptoProvider;
use rustls::{DigitallySignedStruct, RootCertStore, SignatureScheme};
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, ServerName, UnixTime};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;
use x509_cert::der::oid::AssociatedOid;
use x509_cert::der::Decode;
use x509_cert::ext::pkix::name::GeneralName;
use x509_cert::ext::pkix::SubjectAltName;

use crate::model::{fingerprint, Served};
use crate::policy::Endpoint;
use crate::ports::Probe;

/// Connect and handshake, together.
pub const PROBE_TIMEOUT: Duration = Duration::from_secs(5);

#[derive(Debug, Clone)]
pub struct TlsProbe {
    roots: Arc<RootCertStore>,
    provider: Arc<CryptoProvider>,
}

impl TlsProbe {
    /// The compiled-in roots, and those of `extra_ca_file` (PEM) when given: an unreadable or
    /// empty bundle is an error naming the file, so a typo fails the cold start.
    pub fn new(extra_ca_file: Option<&str>) -> Result<TlsProbe, String> {
        let mut roots = RootCertStore::empty();
        roots.add_parsable_certificates(webpki_root_certs::TLS_SERVER_ROOT_CERTS.iter().cloned());
        if let Some(path) = extra_ca_file {
            let certs = CertificateDer::pem_file_iter(path)
                .map_err(|e| format!("{path}: {e}"))?
                .collect::<Result<Vec<_>, _>>()
                .map_err(|e| format!("{path}: {e}"))?;
            let (added, _) = roots.add_parsable_certificates(certs);
            if added == 0 {
                return Err(format!("{path}: no CA certificate in it (expected PEM)"));
            }
        }
        Ok(TlsProbe {
            roots: Arc::new(roots),
            provider: Arc::new(rustls::crypto::ring::default_provider()),
        })
    }

    async fn handshake(&self, ep: &Endpoint) -> Result<Served, String> {
        let verifier = WebPkiServerVerifier::builder_with_provider(
            Arc::clone(&self.roots),
            Arc::clone(&self.provider),
        )
        .build()
        .map_err(|e| format!("TLS set-up: {e}"))?;
        let judge = Arc::new(Judge {
            inner: verifier,
            verdict: Mutex::new(None),
        });
        let config = rustls::ClientConfig::builder_with_provider(Arc::clone(&self.provider))
            .with_safe_default_protocol_versions()
            .map_err(|e| format!("TLS set-up: {e}"))?
            .dangerous()
            .with_custom_certificate_verifier(judge.clone())
            .with_no_client_auth();
        let name = ServerName::try_from(ep.host.clone())
            .map_err(|e| format!("{}: not a server name: {e}", ep.host))?;
        let tcp = TcpStream::connect((ep.host.as_str(), ep.port))
            .await
            .map_err(|e| format!("connect to {}:{}: {e}", ep.host, ep.port))?;
        let tls = TlsConnector::from(Arc::new(config))
            .connect(name, tcp)
            .await
            .map_err(|e| format!("TLS handshake with {}:{}: {e}", ep.host, ep.port))?;
        let leaf = tls
            .get_ref()
            .1
            .peer_certificates()
            .and_then(|c| c.first())
            .ok_or_else(|| format!("{}:{} presented no certificate", ep.host, ep.port))?;
        let untrusted = judge
            .verdict
            .lock()
            .map_err(|_| "TLS verdict lost".to_owned())?
            .clone()
            .unwrap_or_else(|| Some("the certificate was not checked".into()));
        read(ep, leaf, untrusted)
    }
}

/// The served leaf, read.
fn read(
    ep: &Endpoint,
    der: &CertificateDer<'_>,
    untrusted: Option<String>,
) -> Result<Served, String> {
    let cert = x509_cert::Certificate::from_der(der)
        .map_err(|e| format!("{}: the served certificate cannot be read: {e}", ep.url))?;
    let tbs = &cert.tbs_certificate;
    let secs = tbs.validity.not_after.to_unix_duration().as_secs();
    let not_after = i64::try_from(secs)
        .ok()
        .and_then(|s| DateTime::<Utc>::from_timestamp(s, 0))
        .ok_or_else(|| format!("{}: notAfter out of range", ep.url))?;
    let mut names = Vec::new();
    for ext in tbs.extensions.iter().flatten() {
        if ext.extn_id != SubjectAltName::OID {
            continue;
        }
        let san = SubjectAltName::from_der(ext.extn_value.as_bytes())
            .map_err(|e| format!("{}: subjectAltName cannot be read: {e}", ep.url))?;
        for n in san.0 {
            match n {
                GeneralName::DnsName(d) => names.push(d.to_string()),
                GeneralName::IpAddress(ip) => {
                    let bytes = ip.as_bytes();
                    if let Ok(v4) = <[u8; 4]>::try_from(bytes) {
                        names.push(std::net::Ipv4Addr::from(v4).to_string());
                    } else if let Ok(v6) = <[u8; 16]>::try_from(bytes) {
                        names.push(std::net::Ipv6Addr::from(v6).to_string());
                    }
                }
                _ => {}
            }
        }
    }
    Ok(Served {
        endpoint: ep.url.clone(),
        host: ep.host.clone(),
        port: ep.port,
        not_after,
        subject: tbs.subject.to_string(),
        issuer: tbs.issuer.to_string(),
        names,
        untrusted,
        fingerprint: fingerprint(der),
    })
}

impl Probe for TlsProbe {
    async fn served(&self, endpoint: &str) -> Result<Served, String> {
        let ep = Endpoint::parse(endpoint)?;
        match tokio::time::timeout(PROBE_TIMEOUT, self.handshake(&ep)).await {
            Ok(r) => r,
            Err(_) => Err(format!(
                "{}:{}: no TLS handshake within {}s",
                ep.host,
                ep.port,
                PROBE_TIMEOUT.as_secs()
            )),
        }
    }
}

/// Why clients would not trust the chain, if they would not. Expiry and the host name are told
/// of on their own (from the certificate itself), not as an untrusted chain as well.
fn chain_problem(e: rustls::Error) -> Option<String> {
    use rustls::CertificateError as C;
    match &e {
        rustls::Error::InvalidCertificate(
            C::Expired
            | C::ExpiredContext { .. }
            | C::NotValidYet
            | C::NotValidYetContext { .. }
            | C::NotValidForName
            | C::NotValidForNameContext { .. },
        ) => None,
        _ => Some(e.to_string()),
    }
}

/// Verifies the chain as a client would, remembers the verdict, and lets the handshake go on so
/// the certificate can be read whatever the verdict. Accepting any certificate is safe here only
/// because nothing is ever sent on the connection: it is closed once the certificate is read.
/// Handshake signatures are still checked.
#[derive(Debug)]
struct Judge {
    inner: Arc<WebPkiServerVerifier>,
    /// `Some(None)`: trusted; `Some(Some(why))`: not.
    verdict: Mutex<Option<Option<String>>>,
}

impl ServerCertVerifier for Judge {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        let verdict = self
            .inner
            .verify_server_cert(end_entity, intermediates, server_name, ocsp_response, now)
            .err()
            .and_then(chain_problem);
        if let Ok(mut v) = self.verdict.lock() {
            *v = Some(verdict);
        }
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.inner.supported_verify_schemes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_or_empty_ca_bundle_is_named() {
        let e = TlsProbe::new(Some("/no/such/ca.pem")).expect_err("missing");
        assert!(e.contains("/no/such/ca.pem"), "{e}");
        assert!(TlsProbe::new(None).is_ok());
    }

    #[tokio::test]
    async fn nothing_listening_is_an_error_naming_the_endpoint() {
        let probe = TlsProbe::new(None).expect("roots");
        let e = probe
            .served("https://127.0.0.1:9")
            .await
            .expect_err("closed");
        assert!(e.contains("127.0.0.1:9"), "{e}");
    }
}
