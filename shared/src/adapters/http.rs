//! `Health`: the guide's `curl …/health`, as an HTTP GET with a short timeout.
//!
//! The client (and its TLS set-up: the Mozilla roots compiled in, and the host's own for an
//! internal endpoint) is built at the first check, not at cold start: most invocations of
//! `maintenance` never reach the health step.

use std::sync::{Arc, OnceLock};
use std::time::Duration;

use crate::ports::Health;

#[derive(Debug, Clone, Default)]
pub struct HttpHealth {
    client: Arc<OnceLock<Result<reqwest::Client, String>>>,
}

impl HttpHealth {
    pub fn new() -> HttpHealth {
        HttpHealth::default()
    }

    fn client(&self) -> Result<&reqwest::Client, String> {
        self.client
            .get_or_init(|| {
                reqwest::Client::builder()
                    .timeout(Duration::from_secs(5))
                    .connect_timeout(Duration::from_secs(3))
                    .user_agent("axiom-ops-maintenance")
                    .build()
                    .map_err(|e| format!("HTTP client: {e}"))
            })
            .as_ref()
            .map_err(Clone::clone)
    }
}

impl Health for HttpHealth {
    async fn check(&self, url: &str) -> Result<u16, String> {
        self.client()?
            .get(url)
            .send()
            .await
            .map(|r| r.status().as_u16())
            .map_err(|e| format!("GET {url}: {e}"))
    }
}
