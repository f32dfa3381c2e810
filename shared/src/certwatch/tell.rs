//! Telling once, and remembering: per target, what was told lives in the ledger (versioned).
//! A change is claimed (`Once`, keyed by the version and the change), recorded, kept with its
//! claim and announced; only then is it remembered. Whatever step fails, the retry computes the
//! same change from the same version, so it finds the same claim: a kept notice is sent again,
//! a sent one only remembered — never told as new a second time, never forgotten unsent.

use serde_json::{json, Value};

use super::announce::{change, claim_key, holding, told_after, Change, Registry, Told};
use super::assess::Finding;
use super::job::{CertwatchError, CertwatchJob};
use super::trigger::Trigger;
use super::{notice, report};
use crate::idempotency::{Once, Settle};
use crate::model::key_part;
use crate::ports::{Certificates, Databases, Dns, Ledger, Listeners, Notifier, Probe};
use crate::runtime::Invocation;
use crate::versioned::{self, Attempt};

/// Where the targets with something told are listed.
pub const REGISTRY_PK: &str = "certwatch#registry";

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
    fn told_sk(&self) -> String {
        format!("told{}", self.mode().key_suffix())
    }

    /// Tells what is new about one finding, once, and remembers it.
    pub(super) async fn settle(
        &self,
        f: &Finding,
        trigger: &Trigger,
        inv: &Invocation,
    ) -> Result<Value, CertwatchError> {
        let pk = format!("certwatch#{}", key_part(&f.target));
        let sk = self.told_sk();
        let (before, version) = match versioned::load::<Told, _>(&self.ledger, &pk, &sk)
            .await
            .map_err(CertwatchError::Ledger)?
        {
            Some((told, v)) => (told, Some(v)),
            None => (Told::default(), None),
        };
        let now = holding(&before, f);
        let change = change(&before, &now);
        let what = report::change_name(&change);
        let after = told_after(&before, &now, f, inv.now);
        let said = match &change {
            Change::Quiet => {
                // Remembered as over but still listed (a run failed in between): take it off.
                if before.conditions.is_empty() && f.facts["no_longer_watched"] == true {
                    self.list(&f.target, false).await?;
                }
                return Ok(report::row(f, what));
            }
            Change::Eased => {
                self.record(
                    &pk,
                    &claim_key(&pk, version, &change),
                    f,
                    what,
                    trigger,
                    inv,
                )
                .await?;
                // Lost to another run: it remembered at least as much.
                versioned::save(&self.ledger, &pk, &sk, &after, version)
                    .await
                    .map_err(CertwatchError::Ledger)?;
                return Ok(report::row(f, what));
            }
            Change::Raised(new) => notice::raised(f, new, &before),
            Change::Resolved => notice::resolved(f, &before),
        };
        let once = Once {
            ledger: &self.ledger,
            notifier: &self.notifier,
            mode: self.mode(),
        };
        let key = claim_key(&pk, version, &change);
        let work = async {
            match self.record(&pk, &key, f, what, trigger, inv).await {
                Ok(()) => Settle::Done((), Some(said)),
                Err(e) => Settle::Retry(e, None),
            }
        };
        // Fresh, resent or a duplicate, it has been told (or is being told by the run holding
        // the claim, which remembers the same): remember it. Listed before it is remembered, and
        // taken off only after, so a failure between the two leaves it listed, never lost.
        once.run(&key, inv, work).await?;
        if !now.is_empty() {
            self.list(&f.target, true).await?;
        }
        // Lost to another run: it remembered the same change, from the same version.
        versioned::save(&self.ledger, &pk, &sk, &after, version)
            .await
            .map_err(CertwatchError::Ledger)?;
        if now.is_empty() {
            self.list(&f.target, false).await?;
        }
        Ok(report::row(f, what))
    }

    /// Written once per telling (its claim key): a retried telling records it once.
    async fn record(
        &self,
        pk: &str,
        key: &str,
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
        let telling = key.strip_prefix(pk).unwrap_or(key);
        let sk = format!("decision{telling}{}", self.mode().key_suffix());
        self.ledger
            .record(pk, &sk, &item)
            .await
            .map_err(CertwatchError::Ledger)
    }

    /// The targets with something told, not yet resolved.
    pub(super) async fn registry(&self) -> Result<Registry, CertwatchError> {
        Ok(
            versioned::load::<Registry, _>(&self.ledger, REGISTRY_PK, &self.told_sk())
                .await
                .map_err(CertwatchError::Ledger)?
                .map(|(r, _)| r)
                .unwrap_or_default(),
        )
    }

    /// Lists `target` (something told) or takes it off (resolved).
    async fn list(&self, target: &str, listed: bool) -> Result<(), CertwatchError> {
        let sk = self.told_sk();
        let written = versioned::until_written(|| async {
            let (mut r, version) =
                match versioned::load::<Registry, _>(&self.ledger, REGISTRY_PK, &sk).await? {
                    Some((r, v)) => (r, Some(v)),
                    None => (Registry::default(), None),
                };
            let changed = if listed {
                r.targets.insert(target.to_owned())
            } else {
                r.targets.remove(target)
            };
            if !changed || versioned::save(&self.ledger, REGISTRY_PK, &sk, &r, version).await? {
                return Ok(Attempt::Won(()));
            }
            Ok(Attempt::Lost)
        })
        .await
        .map_err(CertwatchError::Ledger)?;
        written.ok_or_else(|| CertwatchError::Contention(REGISTRY_PK.to_owned()))
    }
}
