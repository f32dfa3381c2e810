//! Optimistic concurrency on a ledger document (a target's state, a maintenance window's
//! progress): read it with its version, decide on it, write it only if nobody wrote in between;
//! when someone did, read again and decide again. One helper, one bound, for every job.

use std::future::Future;

use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::ports::{Ledger, PortError};

/// How often a decision is made again when another invocation wrote the document first.
pub const ATTEMPTS: usize = 8;

/// The end of one attempt.
pub enum Attempt<T> {
    /// Written (or nothing needed writing): done with `T`.
    Won(T),
    /// Another invocation wrote first: read and decide again.
    Lost,
}

/// Runs `attempt` until it wins, at most [`ATTEMPTS`] times. `Ok(None)`: the document kept
/// changing under us; nothing was written, and the caller fails so Lambda retries later.
pub async fn until_written<T, E, F, Fut>(mut attempt: F) -> Result<Option<T>, E>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<Attempt<T>, E>>,
{
    for _ in 0..ATTEMPTS {
        if let Attempt::Won(t) = attempt().await? {
            return Ok(Some(t));
        }
    }
    Ok(None)
}

/// The document at `pk`/`sk` with its version; `None` when it was never written.
pub async fn load<T: DeserializeOwned, L: Ledger>(
    ledger: &L,
    pk: &str,
    sk: &str,
) -> Result<Option<(T, u64)>, PortError> {
    let Some((doc, version)) = ledger.get_doc(pk, sk).await? else {
        return Ok(None);
    };
    let doc = serde_json::from_value(doc)
        .map_err(|e| PortError(format!("{pk} {sk} is unreadable: {e}")))?;
    Ok(Some((doc, version)))
}

/// Writes `doc` if the stored version is still `expected` (`None`: not written yet). `Ok(false)`
/// when another invocation wrote first.
pub async fn save<T: Serialize, L: Ledger>(
    ledger: &L,
    pk: &str,
    sk: &str,
    doc: &T,
    expected: Option<u64>,
) -> Result<bool, PortError> {
    let doc = serde_json::to_value(doc).map_err(|e| PortError(e.to_string()))?;
    ledger.put_doc(pk, sk, &doc, expected).await
}
