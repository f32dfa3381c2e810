//! The change itself, and its outcome written back into the target's state.

use chrono::{DateTime, Utc};

use super::decide::{Decision, Verdict};
use super::handler::{Ports, RemediateError, Remediator};
use super::notice;
use super::state::{self};
use crate::model::{Effect, Outcome};
use crate::ports::{Certainty, Scaling, Services};
use crate::redact::redact_clip;

/// Characters kept of an AWS error in the ledger and the notice.
const ERROR_MAX: usize = 500;

impl<X: Ports> Remediator<'_, X> {
    pub(super) async fn act(&self, d: &Decision) -> (Outcome, Option<String>) {
        match d.verdict {
            Verdict::Suppressed => (Outcome::Suppressed, None),
            Verdict::NoAction => (Outcome::NoAction, None),
            Verdict::AlreadyDone => (Outcome::Done, None),
            Verdict::Act if self.dry_run => (Outcome::DryRun, None),
            Verdict::Act => {
                let (Some(target), Some(effect)) = (&d.target, &d.effect) else {
                    return (Outcome::NoAction, None);
                };
                let res = match (effect, d.bounds) {
                    (Effect::Restart, _) => self.services.restart(target).await,
                    (Effect::Rollback { to, .. }, _) => self.services.deploy(target, to).await,
                    (
                        Effect::ScaleUp {
                            task_definition,
                            to,
                            ..
                        },
                        _,
                    ) => match self.services.with_memory(task_definition, *to).await {
                        Ok(revision) => self.services.deploy(target, &revision).await,
                        Err(e) => Err(e),
                    },
                    // The bounds first: raised, target tracking cannot scale in under us; put
                    // back, it does not hold the count up while we restore it.
                    (Effect::SetDesired { to, .. }, Some((lo, hi))) => {
                        match self.scaling.set_bounds(target, lo, hi).await {
                            Ok(()) => self.services.set_desired(target, *to).await,
                            Err(e) => Err(e),
                        }
                    }
                    (Effect::SetDesired { to, .. }, None) => {
                        self.services.set_desired(target, *to).await
                    }
                };
                match res {
                    Ok(()) => (Outcome::Done, None),
                    Err(e) => {
                        let outcome = match e.certainty {
                            Certainty::Failed => Outcome::Failed,
                            Certainty::Unknown => Outcome::Unknown,
                        };
                        // AWS's words may quote what they refused (a definition, a value).
                        (outcome, Some(redact_clip(&e.message, ERROR_MAX)))
                    }
                }
            }
        }
    }

    /// Writes the action's outcome into the target's state (cooldowns, incident timeline).
    pub(super) async fn settle(
        &self,
        d: &Decision,
        key: &str,
        outcome: Outcome,
        now: DateTime<Utc>,
    ) -> Result<(), RemediateError> {
        let Some(target) = &d.target else {
            return Ok(());
        };
        let what = notice::headline(d, outcome);
        state::update(&self.ledger, self.mode(), target, |state| {
            state.settle(key, outcome, d.effect.clone(), now, &what);
            true
        })
        .await
        .map_err(RemediateError::Ledger)?
        .map(|_| ())
        .ok_or_else(|| RemediateError::Contention(target.to_string()))
    }
}
