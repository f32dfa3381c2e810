//! The `certwatch` job: the guide's "SSL certificate expiring" page, every day, before it pages.
//!
//! parse the trigger → resend what a failed run could not → read everything at once (what the
//! policy names, and what is still told of) → assess each certificate, endpoint, load balancer
//! and database (pure) → per finding, tell what is new or that it is over, once (`tell`) → EMF
//! `DaysToExpiry`. It never changes anything but its own ledger entries.

use chrono::{DateTime, Utc};
use serde_json::{json, Value};

use super::assess::{self, Finding, Kind};
use super::observe::{Observed, Seen, Sources};
use super::report;
use super::served;
use super::trigger::{self, Trigger, TriggerError};
use crate::idempotency::{Once, OnceError};
use crate::policy::Policy;
use crate::ports::{
    Certificates, Databases, Dns, Ledger, Listeners, Mode, Notifier, PortError, Probe,
};
use crate::runtime::{Failure, Invocation};

/// Kept notices of earlier runs resent at the start of a run, at most.
const RESEND_PER_RUN: i32 = 25;

#[derive(Debug, thiserror::Error)]
pub enum CertwatchError {
    #[error(transparent)]
    Trigger(#[from] TriggerError),
    #[error("some certificates could not be checked (announced SEV3; retried): {0}")]
    Unreadable(String),
    #[error("ledger: {0}")]
    Ledger(PortError),
    #[error("{0}: another run kept writing the same record; retried")]
    Contention(String),
    #[error("notify: {0}")]
    Notify(PortError),
}

impl Failure for CertwatchError {
    fn kind(&self) -> &'static str {
        match self {
            CertwatchError::Trigger(_) => "ParseError",
            CertwatchError::Unreadable(_) => "Unreadable",
            CertwatchError::Ledger(_) => "LedgerUnavailable",
            CertwatchError::Contention(_) => "Contention",
            CertwatchError::Notify(_) => "NotifyFailed",
        }
    }
}

impl From<OnceError> for CertwatchError {
    fn from(e: OnceError) -> Self {
        match e {
            OnceError::Ledger(e) => CertwatchError::Ledger(e),
            OnceError::Notify(e) => CertwatchError::Notify(e),
        }
    }
}

pub struct CertwatchJob<'a, C, L, P, D, S, G, N> {
    pub policy: &'a Policy,
    pub sources: Sources<'a, C, L, P, D, S>,
    pub ledger: G,
    pub notifier: N,
    pub dry_run: bool,
}

/// Every finding of one run, in the order read. `named`: what the policy names. `unwatched`:
/// targets still told of that the policy no longer names. A certificate that nothing names (not
/// the policy, not a listener) and nothing uses, or that no longer exists, is not watched: it
/// gets a finding with nothing wrong, so what was told of it ends, and ACM's events about it
/// tell nothing.
pub fn findings(
    seen: &Observed,
    named: &[String],
    unwatched: &[String],
    now: DateTime<Utc>,
) -> Vec<Finding> {
    let certs = seen.found();
    // With a load balancer unread, any certificate may still be on its listeners.
    let blind = seen.load_balancers.iter().any(|(_, read)| read.is_err());
    let watched = |arn: &String| {
        blind || named.contains(arn) || seen.listeners.iter().any(|l| &l.certificate == arn)
    };
    let mut out: Vec<Finding> = seen
        .certificates
        .iter()
        .map(|(arn, s)| match s {
            // A deleted certificate is on no listener, seen or not.
            Seen::Missing if !named.contains(arn) => no_longer_watched(arn),
            Seen::Found(c) if !watched(arn) && c.in_use_by.is_empty() => no_longer_watched(arn),
            s => assess::acm(arn, s, now),
        })
        .collect();
    out.extend(seen.load_balancers.iter().map(|(lb, read)| match read {
        Ok(()) => assess::load_balancer(lb, None),
        Err(why) => assess::load_balancer(lb, Some(why)),
    }));
    out.extend(seen.served.iter().map(|(ep, s)| {
        let expected = served::expected(&ep.host, &seen.listeners, &certs);
        served::endpoint(&ep.url, &ep.host, s, &expected, now)
    }));
    out.extend(
        seen.databases
            .iter()
            .map(|(id, s)| assess::database(id, s, now)),
    );
    let read: Vec<&str> = out.iter().map(|f| f.target.as_str()).collect();
    let gone: Vec<Finding> = unwatched
        .iter()
        .filter(|t| !read.contains(&t.as_str()))
        .map(|t| no_longer_watched(t))
        .collect();
    out.extend(gone);
    out
}

fn no_longer_watched(target: &str) -> Finding {
    let (kind, label) = if target.starts_with("https://") {
        (Kind::Endpoint, target.to_owned())
    } else if let Some((_, name)) = target.split_once(":loadbalancer/") {
        (Kind::LoadBalancer, name.to_owned())
    } else if target.contains(":acm:") {
        (Kind::Acm, assess::short_arn(target))
    } else {
        (Kind::Database, format!("database {target}"))
    };
    let facts = json!({ "target": target, "no_longer_watched": true });
    Finding::new(target, label, kind, facts)
}

impl<C, L, P, D, S, G, N> CertwatchJob<'_, C, L, P, D, S, G, N>
where
    C: Certificates,
    L: Listeners,
    P: Probe,
    D: Databases,
    S: Dns,
    G: Ledger,
    N: Notifier,
{
    pub(super) fn mode(&self) -> Mode {
        Mode::of(self.dry_run)
    }

    pub async fn handle(&self, payload: &Value, inv: &Invocation) -> Result<Value, CertwatchError> {
        let trigger = trigger::parse(payload, inv.now, &inv.home)?;
        self.resend(inv).await?;
        // A scheduled run also checks what is still told of, whatever names it now.
        let named = self.policy.certificates.named(&self.policy.databases);
        let unwatched: Vec<String> = match &trigger {
            Trigger::Schedule { .. } => self
                .registry()
                .await?
                .targets
                .into_iter()
                .filter(|t| !named.contains(t))
                .collect(),
            Trigger::Acm { .. } => Vec::new(),
        };
        let extra: Vec<String> = unwatched
            .iter()
            .filter(|t| t.contains(":acm:"))
            .cloned()
            .collect();
        let seen = self.sources.observe(self.policy, &trigger, &extra).await;
        let findings = findings(&seen, &named, &unwatched, inv.now);

        let mut rows = Vec::new();
        let mut first_error = None;
        for f in &findings {
            report::emit_metric(f);
            match self.settle(f, &trigger, inv).await {
                Ok(row) => rows.push(row),
                Err(e) => {
                    tracing::error!(target = %f.target, error = %e, "not settled");
                    first_error.get_or_insert(e);
                }
            }
        }
        if let Some(e) = first_error {
            return Err(e);
        }
        let unread: Vec<String> = findings
            .iter()
            .filter(|f| f.conditions.iter().any(|c| c.code == "unreadable"))
            .map(|f| f.target.clone())
            .collect();
        if !unread.is_empty() {
            return Err(CertwatchError::Unreadable(unread.join(", ")));
        }
        Ok(
            json!({ "trigger": report::trigger(&trigger), "checked": rows, "dry_run": self.dry_run }),
        )
    }

    /// Notices a failed run kept but could not send (the claim's outbox), sent now.
    async fn resend(&self, inv: &Invocation) -> Result<(), CertwatchError> {
        let once = Once {
            ledger: &self.ledger,
            notifier: &self.notifier,
            mode: self.mode(),
        };
        let keys = self
            .ledger
            .unsent(self.mode(), inv.now, RESEND_PER_RUN)
            .await
            .map_err(CertwatchError::Ledger)?;
        for key in keys.iter().filter(|k| k.starts_with("certwatch#")) {
            once.resend(key, inv).await?;
        }
        Ok(())
    }
}
