//! The `remediate` job over its ports: an alarm transition in, at most one guarded action out,
//! all of it recorded and announced.
//!
//! parse → claim (once per transition) → observe → decide (pure) → reserve (the target's state,
//! written conditionally) → act → settle → record → notify.

use chrono::Utc;
use serde_json::{json, Value};

use super::alarm::{self, AlarmTransition, Inbound, ParseError};
use super::decide::{judge_with, wants_evidence, Decision, Facts, Held, Live, Verdict};
use super::diagnose::{classify, Diagnosis};
use super::notice;
use super::state::{self, target_pk, Stored};
use super::target::{resolve, Resolution};
use crate::idempotency::{Handled, Once, OnceError, Settle};
use crate::model::{key_part, LedgerKeys, Outcome};
use crate::policy::Policy;
use crate::ports::{
    Alarms, Databases, Ledger, Logs, Mode, Notifier, Parameters, PortError, Reports, Scaling,
    Services,
};
use crate::runtime::{Failure, Invocation};
use crate::versioned::{self, Attempt};

#[derive(Debug, thiserror::Error)]
pub enum RemediateError {
    #[error(transparent)]
    Parse(#[from] ParseError),
    #[error("ledger: {0}")]
    Ledger(PortError),
    #[error("observing {target}: {error}")]
    Observe { target: String, error: PortError },
    #[error("reading alarm states from CloudWatch: {0}")]
    Verify(PortError),
    #[error("reading the maintenance-mode parameter: {0}")]
    Parameter(PortError),
    #[error("{0}; failing so Lambda retries")]
    VerifyLagging(String),
    #[error("{0}: the target's state kept changing under us; retry")]
    Contention(String),
    #[error("{event_key}: {outcome} ({error}); recorded and announced, failing so Lambda retries")]
    Action {
        event_key: String,
        outcome: &'static str,
        error: String,
    },
    #[error("notify: {0}")]
    Notify(PortError),
}

impl Failure for RemediateError {
    fn kind(&self) -> &'static str {
        match self {
            RemediateError::Parse(_) => "ParseError",
            RemediateError::Ledger(_) => "LedgerUnavailable",
            RemediateError::Observe { .. } => "ObserveFailed",
            RemediateError::Verify(_) => "VerifyFailed",
            RemediateError::Parameter(_) => "ParameterUnavailable",
            RemediateError::VerifyLagging(_) => "VerifyLagging",
            RemediateError::Contention(_) => "Contention",
            RemediateError::Action { outcome, .. } if *outcome == "unknown" => "OutcomeUnknown",
            RemediateError::Action { .. } => "ActionFailed",
            RemediateError::Notify(_) => "NotifyFailed",
        }
    }
}

impl From<OnceError> for RemediateError {
    fn from(e: OnceError) -> Self {
        match e {
            OnceError::Ledger(e) => RemediateError::Ledger(e),
            OnceError::Notify(e) => RemediateError::Notify(e),
        }
    }
}

/// The ports one `remediate` invocation works through, named once: the adapters in a
/// deployment (`app::Aws`), any other composition in a test.
pub trait Ports {
    type Services: Services;
    type Alarms: Alarms;
    type Scaling: Scaling;
    type Parameters: Parameters;
    type Ledger: Ledger;
    type Notifier: Notifier;
    type Databases: Databases;
    type Logs: Logs;
    type Reports: Reports;
}

/// The composition of the ports for one invocation.
pub struct Remediator<'a, X: Ports> {
    pub policy: &'a Policy,
    pub services: X::Services,
    pub alarms: X::Alarms,
    /// Application Auto Scaling: who else owns the count.
    pub scaling: X::Scaling,
    /// The maintenance-mode parameter.
    pub parameters: X::Parameters,
    pub ledger: X::Ledger,
    pub notifier: X::Notifier,
    /// RDS: whether the policy's databases are up (evidence).
    pub databases: X::Databases,
    /// CloudWatch Logs: the service's ERROR lines (evidence).
    pub logs: X::Logs,
    /// Where post-mortems go; `None` when no reports bucket is configured.
    pub reports: Option<X::Reports>,
    pub dry_run: bool,
    /// An operator's preview: decided on the live state (its ledger writes nothing).
    pub preview: bool,
}

impl<X: Ports> Remediator<'_, X> {
    pub(super) fn mode(&self) -> Mode {
        if self.preview {
            return Mode::Live;
        }
        Mode::of(self.dry_run)
    }

    pub(super) fn once(&self) -> Once<'_, X::Ledger, X::Notifier> {
        Once {
            ledger: &self.ledger,
            notifier: &self.notifier,
            mode: self.mode(),
        }
    }

    /// Handles one payload of any accepted shape; the returned JSON is the decision report.
    pub async fn handle(&self, payload: &Value, inv: &Invocation) -> Result<Value, RemediateError> {
        let alarms = match alarm::parse(payload)? {
            Inbound::Ignored { what } => {
                tracing::info!(%what, "acknowledged and ignored");
                return Ok(json!({ "ignored": what }));
            }
            Inbound::Tick => return self.reconcile(inv).await,
            Inbound::Alarms(a) => a,
        };
        let mut results = Vec::with_capacity(alarms.len());
        let mut first_error = None;
        for a in &alarms {
            match self.handle_alarm(a, inv).await {
                Ok(r) => results.push(r),
                Err(e) => {
                    tracing::error!(alarm = %a.alarm_name, error = %e, "alarm not fully handled");
                    first_error.get_or_insert(e);
                }
            }
        }
        match first_error {
            // Any record left unfinished fails the invocation; finished ones are duplicates on retry.
            Some(e) => Err(e),
            None => Ok(json!({ "results": results })),
        }
    }

    pub(super) async fn handle_alarm(
        &self,
        a: &AlarmTransition,
        inv: &Invocation,
    ) -> Result<Value, RemediateError> {
        let key = a.event_key();
        // Boxed: the whole decision as one future type nests too deep for the compiler's
        // layout queries otherwise (and it is one allocation per alarm).
        let work = Box::pin(self.work(a, &key, inv));
        match self.once().run(&key, inv, work).await? {
            Handled::Duplicate => {
                Ok(json!({ "event_key": key, "alarm": a.alarm_name, "duplicate": true }))
            }
            Handled::Renotified(n) => Ok(
                json!({ "event_key": key, "alarm": a.alarm_name, "renotified": true, "subject": n.subject }),
            ),
            Handled::Fresh(report) => Ok(report),
        }
    }

    /// Everything after the claim: its notice goes out through the claim, at least once.
    async fn work(
        &self,
        a: &AlarmTransition,
        key: &str,
        inv: &Invocation,
    ) -> Settle<Value, RemediateError> {
        let now = inv.now;
        let decision = match self.decide_and_reserve(a, inv).await {
            Ok(d) => d,
            // Nothing was changed: the claim is released so Lambda's retry handles it afresh.
            Err(e) => return Settle::Retry(e, None),
        };
        if decision.held == Some(Held::Lagging) {
            return Settle::Retry(RemediateError::VerifyLagging(decision.reason), None);
        }

        let (outcome, error) = self.act(&decision).await;

        if matches!(decision.verdict, Verdict::Act | Verdict::AlreadyDone) {
            if let Err(e) = self.settle(&decision, key, outcome, now).await {
                return Settle::Retry(e, None);
            }
        }

        let pk = decision
            .target
            .as_ref()
            .map(target_pk)
            .unwrap_or_else(|| format!("alarm#{}", key_part(&a.alarm_name)));
        // One record per transition and outcome: a retry that reaches the same end writes none.
        let sk = format!(
            "decision#{}#{key}#{}{}",
            a.state_time.format("%Y-%m-%dT%H:%M:%S%.3fZ"),
            outcome.as_str(),
            self.mode().key_suffix()
        );
        let keys = LedgerKeys { pk, sk };
        let entry = audit_entry(a, &decision, outcome, error.as_deref(), inv, self.dry_run);
        if let Err(e) = self.ledger.record(&keys.pk, &keys.sk, &entry).await {
            return Settle::Retry(RemediateError::Ledger(e), None);
        }

        tracing::info!(
            event_key = %key,
            alarm = %a.alarm_name,
            target = decision.target.as_ref().map(|t| t.to_string()).unwrap_or_default(),
            action = decision.ask.as_str(),
            outcome = outcome.as_str(),
            severity = %decision.severity,
            reason = %decision.reason,
            "decision"
        );

        let postmortem = match (&decision.closed, &decision.target) {
            (Some(inc), Some(target)) => Some(self.postmortem_of(target, &inc.id).await),
            _ => None,
        };
        let notice = decision.notify.then(|| {
            let mut n = notice::build(a, &decision, outcome, &keys, error.as_deref(), Utc::now());
            if let Some(p) = &postmortem {
                notice::link_postmortem(&mut n, p);
            }
            n
        });
        if matches!(outcome, Outcome::Failed | Outcome::Unknown) {
            // The retry must redo the action, not just the notice.
            let e = RemediateError::Action {
                event_key: key.to_owned(),
                outcome: outcome.as_str(),
                error: error.unwrap_or_default(),
            };
            return Settle::Retry(e, notice);
        }
        let mut report = entry;
        if let Value::Object(m) = &mut report {
            m.insert("notified".into(), Value::Bool(notice.is_some()));
            m.insert("ledger".into(), json!(keys));
        }
        Settle::Done(report, notice)
    }

    /// Decides on fresh state and writes the new state conditionally; when another invocation
    /// wrote first, decides again on what it wrote. Only the winner of the write may act.
    async fn decide_and_reserve(
        &self,
        a: &AlarmTransition,
        inv: &Invocation,
    ) -> Result<Decision, RemediateError> {
        let facts = Facts {
            policy: self.policy,
            home: &inv.home,
            observed: None,
            live: &Live::Unverified,
            state: &Default::default(),
            window: None,
            now: inv.now,
        };
        let resolution = resolve(a, self.policy);
        let Resolution::Allowed(target, _) = &resolution else {
            return Ok(judge_with(a, facts, None));
        };
        // Read once, after the alarm is believed; a lost write decides again on the same evidence.
        let diagnosis: tokio::sync::OnceCell<Diagnosis> = tokio::sync::OnceCell::new();
        let won = versioned::until_written(|| async {
            let Stored {
                state: mut stored,
                version,
            } = state::load(&self.ledger, self.mode(), target)
                .await
                .map_err(RemediateError::Ledger)?;
            if self.mode() == Mode::DryRun {
                // A human's pause is on the live state; the shadow run honours it too.
                stored.pause = state::load(&self.ledger, Mode::Live, target)
                    .await
                    .map_err(RemediateError::Ledger)?
                    .state
                    .pause;
            }
            let observed = self.service(target, &stored).await?;
            let live = self.live(a, &stored).await?;
            let window = self.window(inv).await?;
            let facts = Facts {
                observed: observed.as_ref(),
                live: &live,
                state: &stored,
                window: window.as_deref(),
                ..facts
            };
            let mut d = judge_with(a, facts, diagnosis.get());
            let retry = stored.action_for(&a.event_key()).is_some();
            if diagnosis.get().is_none() && wants_evidence(&d, a.state, retry) {
                let dg = diagnosis
                    .get_or_init(|| async { classify(self.evidence(target, inv).await) })
                    .await;
                d = judge_with(a, facts, Some(dg));
            }
            match &d.state {
                Some(next) if next != &stored => {
                    if state::save(&self.ledger, self.mode(), target, next, version)
                        .await
                        .map_err(RemediateError::Ledger)?
                    {
                        Ok::<_, RemediateError>(Attempt::Won(d))
                    } else {
                        tracing::info!(%target, "state changed by a concurrent invocation; deciding again");
                        Ok(Attempt::Lost)
                    }
                }
                _ => Ok(Attempt::Won(d)),
            }
        })
        .await?;
        won.ok_or_else(|| RemediateError::Contention(target.to_string()))
    }
}

fn audit_entry(
    a: &AlarmTransition,
    d: &Decision,
    outcome: Outcome,
    error: Option<&str>,
    inv: &Invocation,
    dry_run: bool,
) -> Value {
    json!({
        "at": inv.now.to_rfc3339(),
        "event_key": a.event_key(),
        "alarm": a.alarm_name,
        "state": a.state,
        "state_time": a.state_time.to_rfc3339(),
        "kind": a.kind,
        "delivery": a.delivery,
        "target": d.target.as_ref().map(|t| t.to_string()),
        "action": d.ask.as_str(),
        "outcome": outcome.as_str(),
        "severity": d.severity,
        "reason": d.reason,
        "held_by": d.held,
        "before": d.before,
        "after": d.after,
        "error": error,
        "incident_id": d.incident_id,
        "closed_incident": d.closed.as_ref().map(|i| notice::timeline_text(i, a.state_time)),
        // The whole incident: `axiom-ops postmortem` renders its draft from it when the bucket
        // has none.
        "incident": d.closed,
        "closing": d.closed.as_ref().and_then(|c| d
            .state
            .as_ref()
            .and_then(|s| s.postmortems_owed.iter().find(|o| o.incident.id == c.id))
            .map(|o| o.closing.clone())),
        "diagnosis": d.diagnosis,
        "request_id": inv.request_id,
        "dry_run": dry_run,
    })
}
