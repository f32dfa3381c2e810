//! `Health`: the guide's `curl …/health`, as an HTTP GET with a short timeout.

use std::time::Duration;

use crate::ports::Health;

#[derive(Debug, Clone)]
pub struct HttpHealth {
    client: reqwest::Client,
}

impl HttpHealth {
    pub fn new() -> Result<HttpHealth, String> {
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(5))
            .connect_timeout(Duration::from_secs(3))
            .user_agent("axiom-ops-maintenance")
            .build()
            .map_err(|e| format!("HTTP client: {e}"))?;
        Ok(HttpHealth { client })
    }
}

impl Health for HttpHealth {
    async fn check(&self, url: &str) -> Result<u16, String> {
        self.client
            .get(url)
            .send()
            .await
            .map(|r| r.status().as_u16())
            .map_err(|e| format!("GET {url}: {e}"))
    }
}
