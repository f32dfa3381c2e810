//! `Health`: the guide's `curl …/health`, as an HTTP GET with a short timeout.
//!
//! It runs on the hyper/rustls stack the SDK's own client already links (no second HTTP client in
//! the function). The client, and its TLS set-up, is built at the first check, not at cold start:
//! most invocations of `maintenance` never reach the health step. It trusts the Mozilla roots
//! compiled in and the host's own, since an internal endpoint may use a private CA.

use std::sync::{Arc, OnceLock};
use std::time::Duration;

use bytes::Bytes;
use http_body_util::Empty;
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;

use crate::ports::Health;

const CONNECT_TIMEOUT: Duration = Duration::from_secs(3);
const REQUEST_TIMEOUT: Duration = Duration::from_secs(5);

type HttpsClient = Client<HttpsConnector<HttpConnector>, Empty<Bytes>>;

#[derive(Debug, Clone, Default)]
pub struct HttpHealth {
    client: Arc<OnceLock<Result<HttpsClient, String>>>,
}

impl HttpHealth {
    pub fn new() -> HttpHealth {
        HttpHealth::default()
    }

    fn client(&self) -> Result<&HttpsClient, String> {
        self.client
            .get_or_init(build)
            .as_ref()
            .map_err(Clone::clone)
    }
}

fn build() -> Result<HttpsClient, String> {
    let mut roots = rustls::RootCertStore::empty();
    roots.add_parsable_certificates(webpki_root_certs::TLS_SERVER_ROOT_CERTS.iter().cloned());
    // Unreadable host certificates are skipped: the Mozilla roots still serve public endpoints.
    roots.add_parsable_certificates(rustls_native_certs::load_native_certs().certs);
    let tls = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .map_err(|e| format!("TLS set-up: {e}"))?
    .with_root_certificates(roots)
    .with_no_client_auth();
    let mut http = HttpConnector::new();
    http.set_connect_timeout(Some(CONNECT_TIMEOUT));
    http.enforce_http(false);
    let https = hyper_rustls::HttpsConnectorBuilder::new()
        .with_tls_config(tls)
        .https_or_http()
        .enable_http1()
        .wrap_connector(http);
    Ok(Client::builder(TokioExecutor::new()).build(https))
}

impl Health for HttpHealth {
    async fn check(&self, url: &str) -> Result<u16, String> {
        let client = self.client()?;
        let req = http::Request::get(url)
            .header(http::header::USER_AGENT, "axiom-ops-maintenance")
            .body(Empty::<Bytes>::new())
            .map_err(|e| format!("GET {url}: {e}"))?;
        match tokio::time::timeout(REQUEST_TIMEOUT, client.request(req)).await {
            Ok(Ok(resp)) => Ok(resp.status().as_u16()),
            Ok(Err(e)) => Err(format!("GET {url}: {e}")),
            Err(_) => Err(format!(
                "GET {url}: no answer within {}s",
                REQUEST_TIMEOUT.as_secs()
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_tls_client_builds_with_the_compiled_in_roots() {
        assert!(build().is_ok());
    }

    #[tokio::test]
    async fn an_unreachable_endpoint_is_an_error_naming_the_url() {
        // Port 9 (discard) on loopback: nothing listens there.
        let e = HttpHealth::new()
            .check("http://127.0.0.1:9/health")
            .await
            .expect_err("nothing listens");
        assert!(e.contains("http://127.0.0.1:9/health"), "{e}");
    }
}
