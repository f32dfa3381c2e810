//! The evidence of a failing service, read in parallel within the policy's budget once the alarm
//! is believed: its deployments, events and stopped tasks (ECS), the newest ERROR lines of its log
//! group, and the policy's databases. A source slower than the budget is left out and said so;
//! every free text is redacted here, before anything keeps or sends it.

use std::future::Future;
use std::time::Duration;

use futures_util::future::join_all;
use tokio::time::{timeout_at, Instant};

use super::diagnose::RECENT;
use super::handler::{Ports, Remediator};
use crate::model::{DbHealth, Evidence, ServiceHistory, Sourced, Target};
use crate::ports::{Databases, Logs, PortError, Services};
use crate::redact::redact_clip;
use crate::runtime::Invocation;

/// Characters kept of one log line, stop reason or event.
pub const LINE_MAX: usize = 300;
/// Time kept back from the invocation's deadline for deciding, acting and recording.
const AFTER_EVIDENCE: Duration = Duration::from_secs(3);

impl<X: Ports> Remediator<'_, X> {
    /// Everything there is to read about `target` now, within the budget.
    pub(super) async fn evidence(&self, target: &Target, inv: &Invocation) -> Evidence {
        let budget = self.policy.diagnosis.budget;
        let mut until = Instant::now() + budget;
        if let Some(deadline) = inv.deadline {
            until = until.min(
                Instant::from_std(deadline)
                    .checked_sub(AFTER_EVIDENCE)
                    .unwrap_or(until),
            );
        }
        let slow = format!("no answer within the {}s budget", budget.as_secs_f32());
        let since = inv.now - RECENT;
        let log_group = self.policy.log_group(&target.service);
        let lines = self.policy.diagnosis.log_lines;
        let (service, logs, databases) = tokio::join!(
            within(until, &slow, self.services.history(target, since)),
            within(until, &slow, self.logs.errors(&log_group, since, lines)),
            join_all(self.policy.databases.iter().map(|db| async {
                let read = within(until, &slow, self.databases.database(db)).await;
                match read {
                    Sourced::Read(Some(state)) => Sourced::Read(DbHealth {
                        id: db.id.clone(),
                        status: state.status,
                    }),
                    Sourced::Read(None) => Sourced::LeftOut(format!(
                        "{}: RDS does not know it (the policy's [[databases]])",
                        db.id
                    )),
                    Sourced::LeftOut(why) => Sourced::LeftOut(format!("{}: {why}", db.id)),
                }
            })),
        );
        let service = match service {
            Sourced::Read(h) => Sourced::Read(redacted(h)),
            left => left,
        };
        let logs = match logs {
            Sourced::Read(mut lines) => {
                for l in &mut lines {
                    l.message = redact_clip(&l.message, LINE_MAX);
                }
                Sourced::Read(lines)
            }
            left => left,
        };
        Evidence {
            at: inv.now,
            service,
            log_group,
            logs,
            databases,
        }
    }
}

async fn within<T>(
    until: Instant,
    slow: &str,
    read: impl Future<Output = Result<T, PortError>>,
) -> Sourced<T> {
    match timeout_at(until, read).await {
        Ok(Ok(t)) => Sourced::Read(t),
        Ok(Err(e)) => Sourced::LeftOut(redact_clip(&e.0, LINE_MAX)),
        Err(_) => Sourced::LeftOut(slow.to_owned()),
    }
}

fn redacted(mut h: ServiceHistory) -> ServiceHistory {
    let clip = |s: &mut String| *s = redact_clip(s, LINE_MAX);
    for e in &mut h.events {
        clip(&mut e.message);
    }
    for t in &mut h.stopped {
        t.stopped_reason.iter_mut().for_each(clip);
        for c in &mut t.containers {
            c.reason.iter_mut().for_each(clip);
        }
    }
    h
}
