//! The `remediate` job: an alarm transition in, at most one guarded action out, all of it
//! recorded and announced.
//!
//! parse → claim → observe → decide (pure) → reserve → act → settle → record → notify.

use std::sync::Arc;
use std::time::Instant;

use chrono::{DateTime, Duration, Utc};
use serde_json::{json, Value};

use crate::adapters::ecs::EcsServices;
use crate::adapters::ledger::{target_pk, DynamoLedger};
use crate::alarm::{self, AlarmTransition, Inbound, ParseError};
use crate::audit::Audit;
use crate::aws::{sdk_config, Budget};
use crate::config::{Config, ConfigError};
use crate::decide::{decide, Decision, Verdict};
use crate::notify::{self, LedgerKeys};
use crate::policy::Policy;
use crate::ports::{Certainty, Claim, EventStatus, Ledger, Mode, Notifier, PortError, Services};
use crate::state::{Effect, Outcome};
use crate::target::{resolve, Resolution};

/// How often a decision is re-made when another invocation wrote the target's state first.
const MAX_CONTENTION_RETRIES: usize = 8;

#[derive(Debug, thiserror::Error)]
pub enum RemediateError {
    #[error(transparent)]
    Parse(#[from] ParseError),
    #[error("ledger: {0}")]
    Ledger(PortError),
    #[error("observing {target}: {error}")]
    Observe { target: String, error: PortError },
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

/// One invocation's identity and deadline.
#[derive(Debug, Clone)]
pub struct Invocation {
    pub request_id: String,
    pub deadline: Option<Instant>,
    pub now: DateTime<Utc>,
}

impl Invocation {
    /// From Lambda's context: the deadline is epoch milliseconds.
    pub fn from_lambda(request_id: &str, deadline_ms: u64) -> Invocation {
        let now = Utc::now();
        let left_ms = (deadline_ms as i64)
            .saturating_sub(now.timestamp_millis())
            .max(0) as u64;
        Invocation {
            request_id: request_id.to_owned(),
            deadline: (deadline_ms > 0)
                .then(|| Instant::now() + std::time::Duration::from_millis(left_ms)),
            now,
        }
    }

    pub fn local(request_id: &str, timeout: std::time::Duration) -> Invocation {
        Invocation {
            request_id: request_id.to_owned(),
            deadline: Some(Instant::now() + timeout),
            now: Utc::now(),
        }
    }

    fn budget(&self) -> Budget {
        Budget::until(self.deadline)
    }

    /// How long a claim holds: until the invocation's deadline, after which a retry may take it.
    pub fn lease_until(&self) -> DateTime<Utc> {
        let left = self
            .deadline
            .map(|d| d.saturating_duration_since(Instant::now()))
            .unwrap_or(std::time::Duration::from_secs(900));
        self.now + Duration::from_std(left).unwrap_or(Duration::minutes(15))
    }
}

/// The composition of the ports for one invocation.
pub struct Remediator<'a, S, L, N> {
    pub policy: &'a Policy,
    pub services: S,
    pub ledger: L,
    pub notifier: N,
    pub dry_run: bool,
}

impl<S: Services, L: Ledger, N: Notifier> Remediator<'_, S, L, N> {
    fn mode(&self) -> Mode {
        Mode::of(self.dry_run)
    }

    /// Handles one payload of any accepted shape; the returned JSON is the decision report.
    pub async fn handle(&self, payload: &Value, inv: &Invocation) -> Result<Value, RemediateError> {
        let alarms = match alarm::parse(payload)? {
            Inbound::Ignored { what } => {
                tracing::info!(%what, "acknowledged and ignored");
                return Ok(json!({ "ignored": what }));
            }
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

    async fn handle_alarm(
        &self,
        a: &AlarmTransition,
        inv: &Invocation,
    ) -> Result<Value, RemediateError> {
        let mode = self.mode();
        let key = a.event_key();
        let now = inv.now;

        match self
            .ledger
            .claim(mode, &key, now, inv.lease_until())
            .await
            .map_err(RemediateError::Ledger)?
        {
            Claim::Duplicate => {
                tracing::info!(event_key = %key, "duplicate delivery: already handled");
                return Ok(json!({ "event_key": key, "alarm": a.alarm_name, "duplicate": true }));
            }
            Claim::Notify(n) => {
                self.notifier
                    .publish(&n)
                    .await
                    .map_err(RemediateError::Notify)?;
                self.ledger
                    .finish(mode, &key, EventStatus::Done, None)
                    .await
                    .map_err(RemediateError::Ledger)?;
                return Ok(
                    json!({ "event_key": key, "alarm": a.alarm_name, "renotified": true, "subject": n.subject }),
                );
            }
            Claim::Fresh => {}
        }

        let decision = match self.decide_and_reserve(a, now).await {
            Ok(d) => d,
            Err(e) => {
                // Nothing was changed: release the claim so Lambda's retry handles it afresh.
                if let Err(le) = self
                    .ledger
                    .finish(mode, &key, EventStatus::Retry, None)
                    .await
                {
                    tracing::error!(error = %le, "could not release the claim");
                }
                return Err(e);
            }
        };

        let (outcome, error) = self.act(&decision).await;

        if matches!(decision.verdict, Verdict::Act | Verdict::AlreadyDone) {
            self.settle(&decision, &key, outcome, now).await?;
        }

        let pk = decision
            .target
            .as_ref()
            .map(target_pk)
            .unwrap_or_else(|| format!("alarm#{}", a.alarm_name));
        let sk = format!(
            "decision#{}#{key}",
            Utc::now().format("%Y-%m-%dT%H:%M:%S%.6fZ")
        );
        let keys = LedgerKeys { pk, sk };
        let entry = audit_entry(a, &decision, outcome, error.as_deref(), inv, self.dry_run);
        self.ledger
            .record(&keys.pk, &keys.sk, &entry)
            .await
            .map_err(RemediateError::Ledger)?;

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

        let failed = matches!(outcome, Outcome::Failed | Outcome::Unknown);
        let mut notified = false;
        if decision.notify {
            let n = notify::build(a, &decision, outcome, &keys, error.as_deref(), Utc::now());
            if failed {
                // The retry must redo the action, not just the notice: mark it for retry first.
                self.ledger
                    .finish(mode, &key, EventStatus::Retry, None)
                    .await
                    .map_err(RemediateError::Ledger)?;
                if let Err(e) = self.notifier.publish(&n).await {
                    tracing::error!(error = %e, "could not announce the failure");
                }
            } else {
                self.ledger
                    .finish(mode, &key, EventStatus::Notifying, Some(&n))
                    .await
                    .map_err(RemediateError::Ledger)?;
                self.notifier
                    .publish(&n)
                    .await
                    .map_err(RemediateError::Notify)?;
                notified = true;
            }
        }
        if failed {
            if !decision.notify {
                self.ledger
                    .finish(mode, &key, EventStatus::Retry, None)
                    .await
                    .map_err(RemediateError::Ledger)?;
            }
            return Err(RemediateError::Action {
                event_key: key,
                outcome: outcome.as_str(),
                error: error.unwrap_or_default(),
            });
        }
        self.ledger
            .finish(mode, &key, EventStatus::Done, None)
            .await
            .map_err(RemediateError::Ledger)?;

        let mut report = entry;
        if let Value::Object(m) = &mut report {
            m.insert("notified".into(), Value::Bool(notified));
            m.insert("ledger".into(), json!(keys));
        }
        Ok(report)
    }

    /// Decides on fresh state and writes the new state conditionally; when another invocation
    /// wrote first, decides again on what it wrote. Only the winner of the write may act.
    async fn decide_and_reserve(
        &self,
        a: &AlarmTransition,
        now: DateTime<Utc>,
    ) -> Result<Decision, RemediateError> {
        let mode = self.mode();
        let resolution = resolve(a, self.policy);
        let Resolution::Allowed(target, _) = &resolution else {
            return Ok(decide(a, self.policy, None, &Default::default(), now));
        };
        for _ in 0..MAX_CONTENTION_RETRIES {
            let stored = self
                .ledger
                .load(mode, target)
                .await
                .map_err(RemediateError::Ledger)?;
            let mut observed =
                self.services
                    .describe(target)
                    .await
                    .map_err(|error| RemediateError::Observe {
                        target: target.to_string(),
                        error,
                    })?;
            if self.dry_run {
                // A dry run sees the service as if its earlier would-be changes had been made, so
                // its whole sequence (scale out, cooldown, restore) is the live one.
                if let (Some(o), Some(n)) = (
                    observed.as_mut(),
                    stored
                        .state
                        .incident
                        .as_ref()
                        .and_then(|i| i.last_set_desired),
                ) {
                    o.desired = n;
                }
            }
            let d = decide(a, self.policy, observed.as_ref(), &stored.state, now);
            let Some(next) = &d.state else {
                return Ok(d);
            };
            if next == &stored.state {
                return Ok(d);
            }
            if self
                .ledger
                .save(mode, target, next, stored.version)
                .await
                .map_err(RemediateError::Ledger)?
            {
                return Ok(d);
            }
            tracing::info!(%target, "state changed by a concurrent invocation; deciding again");
        }
        Err(RemediateError::Contention(target.to_string()))
    }

    async fn act(&self, d: &Decision) -> (Outcome, Option<String>) {
        match d.verdict {
            Verdict::Suppressed => (Outcome::Suppressed, None),
            Verdict::NoAction => (Outcome::NoAction, None),
            Verdict::AlreadyDone => (Outcome::Done, None),
            Verdict::Act if self.dry_run => (Outcome::DryRun, None),
            Verdict::Act => {
                let (Some(target), Some(effect)) = (&d.target, d.effect) else {
                    return (Outcome::NoAction, None);
                };
                let res = match effect {
                    Effect::Restart => self.services.restart(target).await,
                    Effect::SetDesired { to, .. } => self.services.set_desired(target, to).await,
                };
                match res {
                    Ok(()) => (Outcome::Done, None),
                    Err(e) => {
                        let outcome = match e.certainty {
                            Certainty::Failed => Outcome::Failed,
                            Certainty::Unknown => Outcome::Unknown,
                        };
                        (outcome, Some(e.message))
                    }
                }
            }
        }
    }

    /// Writes the action's outcome into the target's state (cooldowns, incident timeline).
    async fn settle(
        &self,
        d: &Decision,
        key: &str,
        outcome: Outcome,
        now: DateTime<Utc>,
    ) -> Result<(), RemediateError> {
        let Some(target) = &d.target else {
            return Ok(());
        };
        let mode = self.mode();
        let what = notify::headline(d, outcome);
        for _ in 0..MAX_CONTENTION_RETRIES {
            let mut stored = self
                .ledger
                .load(mode, target)
                .await
                .map_err(RemediateError::Ledger)?;
            stored.state.settle(key, outcome, d.effect, now, &what);
            if self
                .ledger
                .save(mode, target, &stored.state, stored.version)
                .await
                .map_err(RemediateError::Ledger)?
            {
                return Ok(());
            }
        }
        Err(RemediateError::Contention(target.to_string()))
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
        "closed_incident": d.closed.as_ref().map(|i| notify::timeline_text(i, a.state_time)),
        "request_id": inv.request_id,
        "dry_run": dry_run,
    })
}

/// What a cold start builds once: configuration and SDK clients.
#[derive(Clone)]
pub struct App {
    pub config: Arc<Config>,
    pub ecs: aws_sdk_ecs::Client,
    audit: Audit,
}

impl App {
    pub async fn from_env() -> Result<App, ConfigError> {
        App::with_config(Config::from_env()?).await
    }

    pub async fn with_config(config: Config) -> Result<App, ConfigError> {
        App::with_sdk(config, &sdk_config().await)
    }

    /// With an SDK configuration of the caller's (the local emulator's, say).
    pub fn with_sdk(config: Config, sdk: &aws_config::SdkConfig) -> Result<App, ConfigError> {
        Ok(App {
            ecs: aws_sdk_ecs::Client::new(sdk),
            audit: Audit::new(&config, sdk)?,
            config: Arc::new(config),
        })
    }

    /// The ledger, for reading an incident's history back.
    pub fn ledger(&self) -> DynamoLedger {
        self.audit.ledger(Budget::unbounded())
    }

    pub async fn handle(
        &self,
        payload: &Value,
        inv: &Invocation,
        dry_run: bool,
    ) -> Result<Value, RemediateError> {
        let budget = inv.budget();
        let r = Remediator {
            policy: &self.config.policy,
            services: EcsServices::new(&self.ecs, budget),
            ledger: self.audit.ledger(budget),
            notifier: self.audit.notifier(budget),
            dry_run: dry_run || self.config.dry_run,
        };
        r.handle(payload, inv).await
    }
}

impl crate::lambda::Job for App {
    const NAME: &'static str = "remediate";
    type Error = RemediateError;

    async fn from_env() -> Result<App, ConfigError> {
        App::from_env().await
    }

    async fn handle(
        &self,
        payload: &Value,
        inv: &Invocation,
        dry_run: bool,
    ) -> Result<Value, RemediateError> {
        App::handle(self, payload, inv, dry_run).await
    }
}
