//! One invocation's identity, clock and deadline: what every job is handed with its event.

use std::time::Instant;

use chrono::{DateTime, Duration, Utc};

#[derive(Debug, Clone)]
pub struct Invocation {
    pub request_id: String,
    pub deadline: Option<Instant>,
    pub now: DateTime<Utc>,
}

impl Invocation {
    /// From Lambda's context: the deadline is epoch milliseconds.
    pub fn from_lambda(request_id: &str, deadline_ms: u64) -> Invocation {
        let now = Utc::now();
        let left_ms = (deadline_ms as i64)
            .saturating_sub(now.timestamp_millis())
            .max(0) as u64;
        Invocation {
            request_id: request_id.to_owned(),
            deadline: (deadline_ms > 0)
                .then(|| Instant::now() + std::time::Duration::from_millis(left_ms)),
            now,
        }
    }

    pub fn local(request_id: &str, timeout: std::time::Duration) -> Invocation {
        Invocation {
            request_id: request_id.to_owned(),
            deadline: Some(Instant::now() + timeout),
            now: Utc::now(),
        }
    }

    /// How long a claim holds: until the invocation's deadline, after which a retry may take it.
    pub fn lease_until(&self) -> DateTime<Utc> {
        let left = self
            .deadline
            .map(|d| d.saturating_duration_since(Instant::now()))
            .unwrap_or(std::time::Duration::from_secs(900));
        self.now + Duration::from_std(left).unwrap_or(Duration::minutes(15))
    }
}
