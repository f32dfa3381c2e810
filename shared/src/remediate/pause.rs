//! Pause and resume: a human's "hands off" on one service or all of them, kept in each target's
//! state (so every decision sees it without another read) and announced. A pause ends by itself
//! at its end: the next decision or reconcile tick says automation is back.

use chrono::{DateTime, Utc};
use serde_json::{json, Value};

use super::state::{self, target_pk, Pause, TargetState};
use crate::idempotency::{Handled, Once, OnceError, Settle};
use crate::model::{job_notice, Action, LedgerKeys, Notification, Outcome, Severity, Target};
use crate::policy::Policy;
use crate::ports::{Ledger, Mode, Notifier, PortError};
use crate::runtime::Invocation;

#[derive(Debug, thiserror::Error)]
pub enum PauseError {
    #[error("{0}")]
    Refused(String),
    #[error("ledger: {0}")]
    Ledger(PortError),
    #[error("notify: {0}")]
    Notify(PortError),
    #[error("{0}: its state kept changing under us; try again")]
    Contention(String),
}

impl From<OnceError> for PauseError {
    fn from(e: OnceError) -> Self {
        match e {
            OnceError::Ledger(e) => PauseError::Ledger(e),
            OnceError::Notify(e) => PauseError::Notify(e),
        }
    }
}

/// The targets `which` names: `all`, or one `<cluster>/<service>` of the allowlist.
pub fn targets(policy: &Policy, which: &str) -> Result<Vec<Target>, PauseError> {
    let all: Vec<Target> = policy
        .services
        .iter()
        .map(|s| Target::new(policy.cluster.clone(), s.name.clone()))
        .collect();
    if which == "all" {
        return Ok(all);
    }
    all.into_iter()
        .find(|t| t.to_string() == which)
        .map(|t| vec![t])
        .ok_or_else(|| {
            let names: Vec<String> = policy
                .services
                .iter()
                .map(|s| format!("{}/{}", policy.cluster, s.name))
                .collect();
            PauseError::Refused(format!(
                "{which:?} is not a service of the policy: expected `all` or one of {}",
                names.join(", ")
            ))
        })
}

/// Pauses every target until `until`; refused beyond the policy's `max_pause`.
pub async fn pause<L: Ledger, N: Notifier>(
    ledger: &L,
    notifier: &N,
    policy: &Policy,
    targets: &[Target],
    p: Pause,
) -> Result<Vec<Value>, PauseError> {
    let max = chrono::Duration::from_std(policy.guards.max_pause).unwrap_or(chrono::Duration::MAX);
    if p.until <= p.since || p.until - p.since > max {
        return Err(PauseError::Refused(format!(
            "a pause lasts more than nothing and at most the policy's max_pause ({}s); asked for {}s",
            max.num_seconds(),
            (p.until - p.since).num_seconds()
        )));
    }
    let mut out = Vec::new();
    for t in targets {
        update(ledger, t, |s| {
            s.pause = Some(p.clone());
            true
        })
        .await?;
        let what = format!("paused by {} until {}", p.by, p.until.to_rfc3339());
        out.push(announce(ledger, notifier, t, p.since, &what, &p.reason, "pause").await?);
    }
    Ok(out)
}

/// Ends the pause of every target now.
pub async fn resume<L: Ledger, N: Notifier>(
    ledger: &L,
    notifier: &N,
    targets: &[Target],
    by: &str,
    now: DateTime<Utc>,
) -> Result<Vec<Value>, PauseError> {
    let mut out = Vec::new();
    for t in targets {
        update(ledger, t, |s| s.pause.take().is_some()).await?;
        let what = format!("resumed by {by}: automation is back");
        out.push(announce(ledger, notifier, t, now, &what, "", "resume").await?);
    }
    Ok(out)
}

/// Ends a pause past its end, announced once (the reconcile tick); `None` when there was none.
pub async fn expire<L: Ledger, N: Notifier>(
    once: &Once<'_, L, N>,
    target: &Target,
    stored: &TargetState,
    inv: &Invocation,
) -> Result<Option<Value>, PauseError> {
    let Some(p) = stored.pause.as_ref().filter(|p| p.until <= inv.now) else {
        return Ok(None);
    };
    let key = format!("pause-ended#{}#{}", target_pk(target), p.since.timestamp());
    let work = async {
        // Only the pause seen ended is cleared; a resume or an event may have ended it first, or a
        // new pause replaced it: then there is nothing to announce.
        match update(once.ledger, target, |s| {
            let ended = s
                .pause
                .as_ref()
                .is_some_and(|q| q.since == p.since && q.until <= inv.now);
            if ended {
                s.pause = None;
            }
            ended
        })
        .await
        {
            Ok(true) => {}
            Ok(false) => return Settle::Done(Value::Null, None),
            Err(e) => return Settle::Retry(e, None),
        }
        let what = format!(
            "automation is back: the pause by {} ended at {}",
            p.by,
            p.until.to_rfc3339()
        );
        let (entry, notice) = entry_and_notice(target, inv.now, &what, &p.reason, "pause-ended");
        match once
            .ledger
            .record(&target_pk(target), &sk(inv.now, "pause-ended"), &entry)
            .await
        {
            Ok(()) => Settle::Done(entry, Some(notice)),
            Err(e) => Settle::Retry(PauseError::Ledger(e), None),
        }
    };
    Ok(match once.run(&key, inv, work).await? {
        Handled::Fresh(v) if !v.is_null() => Some(v),
        _ => None,
    })
}

/// Applies `f` to the target's live state (`state::update`); returns what `f` said.
async fn update<L: Ledger>(
    ledger: &L,
    t: &Target,
    f: impl Fn(&mut TargetState) -> bool,
) -> Result<bool, PauseError> {
    state::update(ledger, Mode::Live, t, f)
        .await
        .map_err(PauseError::Ledger)?
        .ok_or_else(|| PauseError::Contention(t.to_string()))
}

fn sk(at: DateTime<Utc>, what: &str) -> String {
    format!("decision#{}#{what}", at.format("%Y-%m-%dT%H:%M:%S%.3fZ"))
}

fn entry_and_notice(
    t: &Target,
    at: DateTime<Utc>,
    what: &str,
    reason: &str,
    kind: &str,
) -> (Value, Notification) {
    let keys = LedgerKeys {
        pk: target_pk(t),
        sk: sk(at, kind),
    };
    let entry = json!({
        "at": at.to_rfc3339(),
        "event_key": kind,
        "target": t.to_string(),
        "action": Action::Notify.as_str(),
        "outcome": Outcome::NoAction.as_str(),
        "severity": Severity::Sev3,
        "reason": if reason.is_empty() { what.to_owned() } else { format!("{what}: {reason}") },
        "dry_run": false,
    });
    let details = if reason.is_empty() {
        format!("Ledger:   pk={} sk={}", keys.pk, keys.sk)
    } else {
        format!(
            "Why:      {reason}\nLedger:   pk={} sk={}",
            keys.pk, keys.sk
        )
    };
    let notice = job_notice(
        Severity::Sev3,
        Action::Notify,
        Outcome::NoAction,
        &t.to_string(),
        what,
        &details,
        json!({ "version": 1, "what": what, "reason": reason, "ledger": keys }),
    );
    (entry, notice)
}

async fn announce<L: Ledger, N: Notifier>(
    ledger: &L,
    notifier: &N,
    t: &Target,
    at: DateTime<Utc>,
    what: &str,
    reason: &str,
    kind: &str,
) -> Result<Value, PauseError> {
    let (entry, notice) = entry_and_notice(t, at, what, reason, kind);
    ledger
        .record(&target_pk(t), &sk(at, kind), &entry)
        .await
        .map_err(PauseError::Ledger)?;
    notifier
        .publish(&notice)
        .await
        .map_err(PauseError::Notify)?;
    Ok(entry)
}
