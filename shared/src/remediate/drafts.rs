//! Writes the post-mortem drafts a service owes (its closed incidents, kept in its state until
//! stored): at the close, at the close's retry, or at the reconcile tick.

use super::handler::{Ports, RemediateError, Remediator};
use super::postmortem::{key, render, PostMortem};
use super::state::{self, OwedPostMortem};
use crate::model::Target;
use crate::ports::Reports;
use crate::redact::redact_clip;

impl<X: Ports> Remediator<'_, X> {
    /// Writes every draft `target` owes and forgets those settled (stored, or never to be: no
    /// bucket, a dry run); one that failed stays owed for the next close or tick.
    pub(super) async fn settle_postmortems(
        &self,
        target: &Target,
    ) -> Result<Vec<(String, PostMortem)>, RemediateError> {
        let owed = state::load(&self.ledger, self.mode(), target)
            .await
            .map_err(RemediateError::Ledger)?
            .state
            .postmortems_owed;
        let mut written = Vec::with_capacity(owed.len());
        for o in &owed {
            written.push((o.incident.id.clone(), self.write(target, o).await));
        }
        let settled: Vec<&str> = written
            .iter()
            .filter(|(_, p)| p.stored.is_some() || p.never)
            .map(|(id, _)| id.as_str())
            .collect();
        if settled.is_empty() {
            return Ok(written);
        }
        state::update(&self.ledger, self.mode(), target, |state| {
            state
                .postmortems_owed
                .retain(|o| !settled.contains(&o.incident.id.as_str()));
            true
        })
        .await
        .map_err(RemediateError::Ledger)?
        .ok_or_else(|| RemediateError::Contention(target.to_string()))?;
        Ok(written)
    }

    /// The draft of the incident just closed: written now, with any other the target owes.
    pub(super) async fn postmortem_of(&self, target: &Target, incident_id: &str) -> PostMortem {
        let key = key(target, incident_id);
        match self.settle_postmortems(target).await {
            Ok(written) => written
                .into_iter()
                .find(|(id, _)| id == incident_id)
                .map(|(_, p)| p)
                .unwrap_or(PostMortem {
                    key,
                    stored: None,
                    not_stored: Some("written by an earlier attempt".into()),
                    never: false,
                }),
            Err(e) => {
                tracing::error!(%target, error = %e, "post-mortem");
                PostMortem {
                    key,
                    stored: None,
                    not_stored: Some(format!("{e}; the reconcile tick tries again")),
                    never: false,
                }
            }
        }
    }

    async fn write(&self, target: &Target, o: &OwedPostMortem) -> PostMortem {
        let key = key(target, &o.incident.id);
        let never = |why: &str| PostMortem {
            key: key.clone(),
            stored: None,
            not_stored: Some(why.to_owned()),
            never: true,
        };
        if self.dry_run {
            return never("a dry run stores no post-mortem");
        }
        let Some(reports) = &self.reports else {
            return never("no reports bucket is configured (OPS_REPORT_BUCKET)");
        };
        let text = render(&o.incident, target, o.resolved, &o.closing);
        match reports.put(&key, &text).await {
            Ok(uri) => PostMortem {
                key,
                stored: Some(uri),
                not_stored: None,
                never: false,
            },
            Err(e) => {
                tracing::error!(incident = %o.incident.id, error = %e, "post-mortem not stored");
                PostMortem {
                    key,
                    stored: None,
                    not_stored: Some(format!(
                        "writing it failed: {}; the reconcile tick tries again",
                        redact_clip(&e.message, 300)
                    )),
                    never: false,
                }
            }
        }
    }
}
