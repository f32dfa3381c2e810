//! Once per event, for every job: claim the event's key in the ledger, do the work, finish the
//! claim. The protocol is here and nowhere else:
//!
//! - a key already finished (or held by a live invocation) is a **duplicate**: nothing is done;
//! - a key whose work finished but whose notice may not have gone out is **renotified**: the
//!   notice kept with the claim is sent again, nothing else is redone;
//! - work that finished keeps its notice with the claim *before* publishing it, so a lost
//!   publish is repeated by the retry (at least once), then marks the claim done;
//! - work that did not finish releases the claim, so Lambda's retry does it again, and its notice
//!   (a failure's) is sent on a best-effort basis: the failed invocation pages anyway.

use std::future::Future;

use crate::model::Notification;
use crate::ports::{Claim, EventStatus, Ledger, Mode, Notifier, PortError};
use crate::runtime::Invocation;

#[derive(Debug, thiserror::Error)]
pub enum OnceError {
    #[error("ledger: {0}")]
    Ledger(PortError),
    #[error("notify: {0}")]
    Notify(PortError),
}

/// How the work ended.
pub enum Settle<T, E> {
    /// Finished; announce the notice, if any, at least once.
    Done(T, Option<Notification>),
    /// Not finished: release the claim for a retry, announce the notice if it can be.
    Retry(E, Option<Notification>),
}

/// What became of one event.
#[derive(Debug)]
pub enum Handled<T> {
    Duplicate,
    Renotified(Notification),
    Fresh(T),
}

/// The ledger and topic of one job, in one mode (live and dry runs never share a claim).
pub struct Once<'a, L, N> {
    pub ledger: &'a L,
    pub notifier: &'a N,
    pub mode: Mode,
}

impl<L: Ledger, N: Notifier> Once<'_, L, N> {
    /// Runs `work` at most once (to completion) for `key`.
    pub async fn run<T, E, W>(&self, key: &str, inv: &Invocation, work: W) -> Result<Handled<T>, E>
    where
        W: Future<Output = Settle<T, E>>,
        E: From<OnceError>,
    {
        let claim = self.claim(key, inv).await?;
        match claim {
            Claim::Duplicate => {
                tracing::info!(event_key = %key, "duplicate delivery: already handled");
                Ok(Handled::Duplicate)
            }
            Claim::Notify(n) => {
                self.renotify(key, &n).await?;
                Ok(Handled::Renotified(*n))
            }
            Claim::Fresh => match work.await {
                Settle::Done(value, notice) => {
                    if let Some(n) = &notice {
                        self.finish(key, EventStatus::Notifying, Some(n)).await?;
                        self.publish(n).await?;
                    }
                    self.finish(key, EventStatus::Done, None).await?;
                    Ok(Handled::Fresh(value))
                }
                Settle::Retry(error, notice) => {
                    // The work's own error is what the operator needs; a failed release only
                    // means the retry waits for the lease to run out.
                    if let Err(e) = self.finish(key, EventStatus::Retry, None).await {
                        tracing::error!(event_key = %key, error = %e, "could not release the claim");
                    }
                    if let Some(n) = &notice {
                        if let Err(e) = self.notifier.publish(n).await {
                            tracing::error!(error = %e, subject = %n.subject, "could not announce the failure");
                        }
                    }
                    Err(error)
                }
            },
        }
    }

    /// Sends again the kept notice of `key`, if its work finished and the notice may not have
    /// gone out; `Ok(true)` when it was sent. Anything else about the key is left as it was.
    pub async fn resend(&self, key: &str, inv: &Invocation) -> Result<bool, OnceError> {
        let claim = self.claim(key, inv).await?;
        match claim {
            Claim::Notify(n) => {
                self.renotify(key, &n).await?;
                Ok(true)
            }
            // Its work is not finished: leave it to the retry that will finish it.
            Claim::Fresh => {
                self.finish(key, EventStatus::Retry, None).await?;
                Ok(false)
            }
            Claim::Duplicate => Ok(false),
        }
    }

    async fn claim(&self, key: &str, inv: &Invocation) -> Result<Claim, OnceError> {
        self.ledger
            .claim(self.mode, key, inv.now, inv.lease_until())
            .await
            .map_err(OnceError::Ledger)
    }

    /// The kept notice of finished work, sent again; then the claim is done.
    async fn renotify(&self, key: &str, n: &Notification) -> Result<(), OnceError> {
        self.publish(n).await?;
        self.finish(key, EventStatus::Done, None).await
    }

    async fn finish(
        &self,
        key: &str,
        status: EventStatus,
        notice: Option<&Notification>,
    ) -> Result<(), OnceError> {
        self.ledger
            .finish(self.mode, key, status, notice)
            .await
            .map_err(OnceError::Ledger)
    }

    async fn publish(&self, n: &Notification) -> Result<(), OnceError> {
        self.notifier
            .publish(n)
            .await
            .map(|_| ())
            .map_err(OnceError::Notify)
    }
}
