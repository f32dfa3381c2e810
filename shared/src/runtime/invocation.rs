//! One invocation's identity, clock and deadline: what every job is handed with its event.

use std::time::Instant;

use chrono::{DateTime, Duration, Utc};

#[derive(Debug, Clone)]
pub struct Invocation {
    pub request_id: String,
    pub deadline: Option<Instant>,
    /// When the invocation began, on the clock `deadline` is read by: `now` is this instant.
    pub started: Instant,
    pub now: DateTime<Utc>,
    /// The account and region the function runs in: events naming others are not believed.
    pub home: Home,
}

/// Where the function runs, from its own ARN; unknown (`None`) on a local run.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Home {
    pub account: Option<String>,
    pub region: Option<String>,
}

impl Home {
    /// `arn:aws:lambda:us-east-1:123456789012:function:name[:alias]`.
    pub fn of_arn(arn: &str) -> Home {
        let mut parts = arn.split(':');
        let field = |p: Option<&str>| p.filter(|s| !s.is_empty()).map(str::to_owned);
        let region = field(parts.nth(3));
        let account = field(parts.next());
        Home { account, region }
    }
}

impl Invocation {
    /// From Lambda's context: the deadline is epoch milliseconds.
    pub fn from_lambda(request_id: &str, deadline_ms: u64, function_arn: &str) -> Invocation {
        let now = Utc::now();
        let left_ms = (deadline_ms as i64)
            .saturating_sub(now.timestamp_millis())
            .max(0) as u64;
        Invocation {
            request_id: request_id.to_owned(),
            deadline: (deadline_ms > 0)
                .then(|| Instant::now() + std::time::Duration::from_millis(left_ms)),
            started: Instant::now(),
            now,
            home: Home::of_arn(function_arn),
        }
    }

    pub fn local(request_id: &str, timeout: std::time::Duration) -> Invocation {
        Invocation {
            request_id: request_id.to_owned(),
            deadline: Some(Instant::now() + timeout),
            started: Instant::now(),
            now: Utc::now(),
            home: Home::default(),
        }
    }

    /// The same, running in `account` and `region`.
    pub fn at_home(mut self, account: &str, region: &str) -> Invocation {
        self.home = Home {
            account: Some(account.to_owned()),
            region: Some(region.to_owned()),
        };
        self
    }

    /// How long a claim holds: until the invocation's deadline, after which a retry may take it.
    /// Measured from the invocation's start (`now`), whenever the claim is made: a claim made
    /// late in the invocation still holds to its end.
    pub fn lease_until(&self) -> DateTime<Utc> {
        let length = self
            .deadline
            .map(|d| d.saturating_duration_since(self.started))
            .unwrap_or(std::time::Duration::from_secs(900));
        self.now + Duration::from_std(length).unwrap_or(Duration::minutes(15))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_late_claim_still_holds_to_the_deadline() {
        let mut inv = Invocation::local("t", std::time::Duration::from_secs(60));
        // As if the claim were made 35 s into the invocation.
        inv.started -= std::time::Duration::from_secs(35);
        inv.deadline = Some(inv.started + std::time::Duration::from_secs(60));
        assert_eq!((inv.lease_until() - inv.now).num_seconds(), 60);
    }

    #[test]
    fn home_is_read_from_the_function_arn() {
        let h = Home::of_arn("arn:aws:lambda:eu-west-1:123456789012:function:remediate:live");
        assert_eq!(h.account.as_deref(), Some("123456789012"));
        assert_eq!(h.region.as_deref(), Some("eu-west-1"));
        assert_eq!(Home::of_arn(""), Home::default());
    }
}
