//! The `certwatch` job: the guide's "SSL certificate expiring" page, every day, before it pages.
//!
//! parse the trigger → read everything at once → assess each certificate, endpoint and database
//! (pure) → per finding: what was told before (ledger) → tell what is new, or that it is over,
//! once (claim → record → notify) → remember → EMF `DaysToExpiry`. It never changes anything
//! but its own ledger entries.

use std::collections::BTreeSet;

use chrono::{DateTime, Utc};
use serde_json::{json, Value};

use super::announce::{change, told_after, Change, Told};
use super::assess::{self, Finding};
use super::observe::{Observed, Sources};
use super::served;
use super::trigger::{self, Trigger, TriggerError};
use super::{notice, report};
use crate::idempotency::{Once, OnceError, Settle};
use crate::model::key_part;
use crate::policy::Policy;
use crate::ports::{
    Certificates, Databases, Dns, Ledger, Listeners, Mode, Notifier, PortError, Probe,
};
use crate::runtime::{Failure, Invocation};
use crate::versioned;

#[derive(Debug, thiserror::Error)]
pub enum CertwatchError {
    #[error(transparent)]
    Trigger(#[from] TriggerError),
    #[error("some certificates could not be checked (announced SEV3; retried): {0}")]
    Unreadable(String),
    #[error("ledger: {0}")]
    Ledger(PortError),
    #[error("notify: {0}")]
    Notify(PortError),
}

impl Failure for CertwatchError {
    fn kind(&self) -> &'static str {
        match self {
            CertwatchError::Trigger(_) => "ParseError",
            CertwatchError::Unreadable(_) => "Unreadable",
            CertwatchError::Ledger(_) => "LedgerUnavailable",
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

/// Every finding of one run, in the order read.
pub fn findings(seen: &Observed, now: DateTime<Utc>) -> Vec<Finding> {
    let certs = seen.found();
    let mut out: Vec<Finding> = seen
        .certificates
        .iter()
        .map(|(arn, s)| assess::acm(arn, s, now))
        .collect();
    out.extend(
        seen.unread_load_balancers
            .iter()
            .map(|(lb, why)| assess::load_balancer(lb, why)),
    );
    out.extend(seen.served.iter().map(|(ep, s)| {
        let expected = served::expected(&ep.host, &seen.listeners, &certs);
        served::endpoint(&ep.url, &ep.host, s, &expected, now)
    }));
    out.extend(
        seen.databases
            .iter()
            .map(|(id, s)| assess::database(id, s, now)),
    );
    out
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
    fn mode(&self) -> Mode {
        Mode::of(self.dry_run)
    }

    pub async fn handle(&self, payload: &Value, inv: &Invocation) -> Result<Value, CertwatchError> {
        let trigger = trigger::parse(payload, inv.now, &inv.home)?;
        let seen = self.sources.observe(self.policy, &trigger).await;
        let findings = findings(&seen, inv.now);

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

    /// Tells what is new about one finding, once, and remembers it.
    async fn settle(
        &self,
        f: &Finding,
        trigger: &Trigger,
        inv: &Invocation,
    ) -> Result<Value, CertwatchError> {
        let pk = format!("certwatch#{}", key_part(&f.target));
        let sk = format!("told{}", self.mode().key_suffix());
        let (before, version) = match versioned::load::<Told, _>(&self.ledger, &pk, &sk)
            .await
            .map_err(CertwatchError::Ledger)?
        {
            Some((told, v)) => (told, Some(v)),
            None => (Told::default(), None),
        };
        let now: BTreeSet<String> = f.conditions.iter().map(|c| c.code.clone()).collect();
        let change = change(&before, &now);
        let said = match &change {
            Change::Quiet => return Ok(report::row(f, "quiet")),
            Change::Eased => None,
            Change::Raised(new) => Some(notice::raised(f, new, &before)),
            Change::Resolved => Some(notice::resolved(f, &before)),
        };
        let what = report::change_name(&change);
        match said {
            Some(n) => {
                // Keyed by the version told of: two runs seeing the same change tell it once.
                let key = format!("{pk}#v{}", version.unwrap_or(0));
                let once = Once {
                    ledger: &self.ledger,
                    notifier: &self.notifier,
                    mode: self.mode(),
                };
                let work = async {
                    match self.record(&pk, f, what, trigger, inv).await {
                        Ok(()) => Settle::Done((), Some(n)),
                        Err(e) => Settle::Retry(e, None),
                    }
                };
                once.run(&key, inv, work).await?;
            }
            None => self.record(&pk, f, what, trigger, inv).await?,
        }
        let after = told_after(&before, f, inv.now);
        // Another run that wrote first remembered the same change: nothing more to do.
        versioned::save(&self.ledger, &pk, &sk, &after, version)
            .await
            .map_err(CertwatchError::Ledger)?;
        Ok(report::row(f, what))
    }

    async fn record(
        &self,
        pk: &str,
        f: &Finding,
        change: &str,
        trigger: &Trigger,
        inv: &Invocation,
    ) -> Result<(), CertwatchError> {
        let item = json!({
            "at": inv.now.to_rfc3339(),
            "job": "certwatch",
            "target": f.target,
            "change": change,
            "severity": f.severity().map(|s| s.as_str()),
            "conditions": f.conditions.iter().map(|c| c.code.as_str()).collect::<Vec<_>>(),
            "days": f.days,
            "trigger": report::trigger(trigger),
            "request_id": inv.request_id,
            "dry_run": self.dry_run,
        });
        let sk = format!(
            "decision#{}{}",
            inv.now.format("%Y-%m-%dT%H:%M:%S%.6fZ"),
            self.mode().key_suffix()
        );
        self.ledger
            .record(pk, &sk, &item)
            .await
            .map_err(CertwatchError::Ledger)
    }
}
