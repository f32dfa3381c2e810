//! Whether a maintenance window is in progress, read from the ledger: other jobs (remediate)
//! hold their changes while it is.

use chrono::{DateTime, Utc};

use super::window::Window;
use super::PK;
use crate::ports::{Ledger, PortError};
use crate::versioned;

/// The live window in progress at `now`, in words; `None` when there is none. A window past its
/// scheduled end holds nothing, even if its state machine died before finishing it.
pub async fn in_progress<L: Ledger>(
    ledger: &L,
    now: DateTime<Utc>,
) -> Result<Option<String>, PortError> {
    let keys = ledger.keys(PK, "window#").await?;
    let Some(latest) = keys.iter().filter(|k| !k.ends_with("#dry_run")).max() else {
        return Ok(None);
    };
    let Some((w, _)) = versioned::load::<Window, _>(ledger, PK, latest).await? else {
        return Ok(None);
    };
    // The window's id alone: what a hold is announced by, once per window.
    Ok((!w.phase.is_final() && now < w.ends).then(|| format!("window {} in progress", w.id)))
}
