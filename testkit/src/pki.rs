//! Certificates made for tests, with chosen expiry dates: a CA of the test's own, leaves it
//! signs, their import into the emulator's ACM, and a TLS endpoint on 127.0.0.1 serving one.

use std::path::Path;
use std::sync::Arc;

use aws_config::SdkConfig;
use aws_sdk_acm::primitives::Blob;
use chrono::{Datelike, TimeDelta, Utc};
use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, DnType, IsCa, KeyPair};
use tokio::net::TcpListener;

/// A CA of the test's own, trusted through the policy's `extra_ca_file`.
pub struct Pki {
    ca: CertifiedIssuer<'static, KeyPair>,
    ca_file: std::path::PathBuf,
}

impl Default for Pki {
    fn default() -> Self {
        Pki::new()
    }
}

pub struct Leaf {
    pub pem: String,
    pub key_pem: String,
    pub der: Vec<u8>,
    pub key_der: Vec<u8>,
}

/// Sets `not_after` to midnight UTC after `days` whole days from now (what certwatch counts).
fn expire_in(params: &mut CertificateParams, days: i64) {
    let d = (Utc::now() + TimeDelta::days(days + 1)).date_naive();
    params.not_after = rcgen::date_time_ymd(d.year(), d.month() as u8, d.day() as u8);
    let b = (Utc::now() - TimeDelta::days(2)).date_naive();
    params.not_before = rcgen::date_time_ymd(b.year(), b.month() as u8, b.day() as u8);
}

impl Pki {
    /// The CA's certificate as a PEM file (a policy's `extra_ca_file`).
    pub fn ca_file(&self) -> &Path {
        &self.ca_file
    }

    pub fn ca_pem(&self) -> String {
        self.ca.pem()
    }

    pub fn new() -> Pki {
        let mut params = CertificateParams::new(Vec::<String>::new()).expect("params");
        params
            .distinguished_name
            .push(DnType::CommonName, "axiom-ops test CA");
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        expire_in(&mut params, 3650);
        let ca =
            CertifiedIssuer::self_signed(params, KeyPair::generate().expect("key")).expect("CA");
        let ca_file = std::env::temp_dir().join(format!(
            "certwatch-ca-{}-{}.pem",
            std::process::id(),
            Utc::now().timestamp_nanos_opt().unwrap_or(0)
        ));
        std::fs::write(&ca_file, ca.pem()).expect("CA file");
        Pki { ca, ca_file }
    }

    pub fn leaf(&self, names: &[&str], days: i64) -> Leaf {
        let mut params =
            CertificateParams::new(names.iter().map(|n| n.to_string()).collect::<Vec<_>>())
                .expect("params");
        params.distinguished_name.push(DnType::CommonName, names[0]);
        expire_in(&mut params, days);
        let key = KeyPair::generate().expect("key");
        let cert = params.signed_by(&key, &self.ca).expect("leaf");
        Leaf {
            pem: cert.pem(),
            key_pem: key.serialize_pem(),
            der: cert.der().to_vec(),
            key_der: key.serialize_der(),
        }
    }
}

pub async fn import(sdk: &SdkConfig, pki: &Pki, leaf: &Leaf, into: Option<&str>) -> String {
    aws_sdk_acm::Client::new(sdk)
        .import_certificate()
        .set_certificate_arn(into.map(str::to_owned))
        .certificate(Blob::new(leaf.pem.as_bytes()))
        .private_key(Blob::new(leaf.key_pem.as_bytes()))
        .certificate_chain(Blob::new(pki.ca.pem().as_bytes()))
        .send()
        .await
        .expect("import certificate")
        .certificate_arn()
        .expect("arn")
        .to_owned()
}

/// A TLS endpoint on 127.0.0.1 presenting `leaf` and the test CA; returns its port.
pub async fn serve(pki: &Pki, leaf: &Leaf) -> u16 {
    use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
    let chain = vec![
        CertificateDer::from(leaf.der.clone()),
        CertificateDer::from(pki.ca.der().to_vec()),
    ];
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(leaf.key_der.clone()));
    let config = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .expect("versions")
    .with_no_client_auth()
    .with_single_cert(chain, key)
    .expect("server config");
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let port = listener.local_addr().expect("addr").port();
    tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            let acceptor = acceptor.clone();
            tokio::spawn(async move {
                let _ = acceptor.accept(tcp).await;
            });
        }
    });
    port
}
