//! The drill over its ports: one step per invocation. Read the drill's progress from the ledger,
//! run its phase's step (`steps`), write the progress back conditionally; when it is done, record
//! and announce the verdict with the measured RTO.

use serde::de::IgnoredAny;
use serde::Deserialize;
use serde_json::{json, Value};

use super::plan::{human, Drill, Phase};
use crate::model::{job_notice, keys_of, Action, Outcome, Severity};
use crate::policy::Policy;
use crate::ports::{BackupStore, Keys, Ledger, Notifier, PortError, Restores, Secrets, Snapshots};
use crate::runtime::{Caught, Failure, Invocation};
use crate::versioned;

/// The ledger partition of drills: one progress document per day (`run#YYYYMMDD`) and the
/// verdicts (`decision#…`).
pub const PK: &str = "drill";

/// The progress document of the drill of `date`.
pub fn run_key(date: &str) -> String {
    format!("run#{date}")
}

#[derive(Debug, thiserror::Error)]
pub enum DrillError {
    #[error("not a drill step: {0}")]
    Input(String),
    #[error("{0}")]
    Failed(String),
    #[error("ledger: {0}")]
    Ledger(PortError),
    #[error("drill {0}: its progress changed under us; retry")]
    Contention(String),
}

impl Failure for DrillError {
    fn kind(&self) -> &'static str {
        match self {
            DrillError::Input(_) => "ParseError",
            DrillError::Failed(_) => "DrillStepFailed",
            DrillError::Ledger(_) => "LedgerUnavailable",
            DrillError::Contention(_) => "Contention",
        }
    }
}

/// What the state machine sends: `{}`, then each step's output; `abort` (with the failed
/// step's `error`) to clean up. Unknown keys are refused before anything changes.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct Input {
    #[serde(default)]
    drill: Option<String>,
    #[serde(default)]
    abort: bool,
    #[serde(default)]
    error: Option<Caught>,
    // A previous step's output, passed back by the loop; not acted on.
    #[serde(default, rename = "instance")]
    _instance: Option<IgnoredAny>,
    #[serde(default, rename = "phase")]
    _phase: Option<IgnoredAny>,
    #[serde(default, rename = "done")]
    _done: Option<IgnoredAny>,
    #[serde(default, rename = "wait_seconds")]
    _wait_seconds: Option<IgnoredAny>,
    #[serde(default, rename = "passed")]
    _passed: Option<IgnoredAny>,
    #[serde(default, rename = "rto_seconds")]
    _rto_seconds: Option<IgnoredAny>,
}

pub struct DrillJob<'a, R, V, S, K, L, N> {
    pub policy: &'a Policy,
    /// RDS where the drill restores: the DR region's when snapshots are copied there.
    pub rds: R,
    pub region: Option<String>,
    pub vault: V,
    pub secrets: S,
    pub kms: K,
    pub ledger: L,
    pub notifier: N,
    /// Say what the drill would do; restore, delete, record and announce nothing.
    pub dry_run: bool,
}

impl<R, V, S, K, L, N> DrillJob<'_, R, V, S, K, L, N>
where
    R: Snapshots + Restores,
    V: BackupStore,
    S: Secrets,
    K: Keys,
    L: Ledger,
    N: Notifier,
{
    pub async fn handle(&self, payload: &Value, inv: &Invocation) -> Result<Value, DrillError> {
        if !payload.is_object() {
            return Err(DrillError::Input(format!(
                "expected {{}} or a drill step's output; got {}",
                keys_of(payload)
            )));
        }
        let input: Input = serde_json::from_value(payload.clone()).map_err(|e| {
            DrillError::Input(format!("{e}; expected {{}} or a drill step's output"))
        })?;
        let date = match input.drill {
            Some(d) if d.len() == 8 && d.bytes().all(|b| b.is_ascii_digit()) => d,
            Some(d) => {
                return Err(DrillError::Input(format!(
                    "drill {d:?} is not a date YYYYMMDD"
                )))
            }
            None => inv.now.format("%Y%m%d").to_string(),
        };
        if self.dry_run {
            return self.preview(&date).await;
        }
        let loaded = versioned::load::<Drill, _>(&self.ledger, PK, &run_key(&date))
            .await
            .map_err(DrillError::Ledger)?;
        let cause = input.error.as_ref().map(Caught::said);
        let (mut drill, version) = match loaded {
            Some((d, v)) => (d, Some(v)),
            None if input.abort => return self.abort_unstarted(&date, cause, inv).await,
            None => (self.start(&date, inv.now).await?, None),
        };
        if input.abort && drill.phase != Phase::Done {
            drill.error.get_or_insert(format!(
                "a step failed and the drill was stopped: {}",
                cause.unwrap_or_else(|| "no cause given".into())
            ));
            drill.phase = Phase::Deleting;
        }
        let wait = if version.is_none() {
            // The restore was just asked for: the first look is a minute away.
            if drill.phase == Phase::Done {
                0
            } else {
                60
            }
        } else {
            self.step(&mut drill, inv.now).await?
        };
        // The verdict is recorded and announced before the drill is saved as announced: a fault
        // in between makes the retry announce again (at least once), never not at all.
        if drill.phase == Phase::Done && !drill.announced {
            self.finish(&drill, inv).await?;
            drill.announced = true;
        }
        let saved = versioned::save(&self.ledger, PK, &run_key(&date), &drill, version)
            .await
            .map_err(DrillError::Ledger)?;
        if !saved {
            return Err(DrillError::Contention(date));
        }
        Ok(output(&drill, wait))
    }

    /// The failed first step left no drill record; today's instance, if it got that far, goes.
    async fn abort_unstarted(
        &self,
        date: &str,
        cause: Option<String>,
        inv: &Invocation,
    ) -> Result<Value, DrillError> {
        let why = cause.unwrap_or_else(|| "the first step failed".into());
        let db = self.database()?;
        let id = super::plan::instance_id(db, date);
        match self
            .rds
            .instance(&id)
            .await
            .map_err(|e| DrillError::Failed(e.0))?
        {
            Some(i) if super::plan::is_drill(db, &i) => self
                .rds
                .delete_instance(&id)
                .await
                .map_err(|e| DrillError::Failed(e.message))?,
            Some(_) => {
                return Err(DrillError::Failed(format!(
                    "{id} is not tagged as a drill instance: left alone"
                )))
            }
            None => {}
        }
        let n = job_notice(
            Severity::Sev2,
            Action::Drill,
            Outcome::Failed,
            db,
            "restore drill FAILED before it started",
            &format!("{why}\nNo RTO was measured. Any drill instance {id} has been deleted."),
            json!({ "drill": date, "instance": id, "error": why }),
        );
        self.record(date, "failed", &json!({ "error": why }), inv)
            .await?;
        self.announce(&n).await?;
        Ok(
            json!({ "drill": date, "instance": id, "phase": "done", "done": true, "passed": false, "wait_seconds": 0 }),
        )
    }

    async fn finish(&self, d: &Drill, inv: &Invocation) -> Result<(), DrillError> {
        let passed = d.passed();
        let rto = d
            .rto_seconds
            .map(human)
            .unwrap_or_else(|| "not measured".into());
        let target = human(d.rto_target_seconds);
        let (severity, outcome, headline) = match (&d.error, passed) {
            (_, true) => (
                Severity::Sev3,
                Outcome::Done,
                format!("restore drill passed: RTO {rto} (target {target})"),
            ),
            (Some(e), _) => (
                Severity::Sev2,
                Outcome::Failed,
                format!("restore drill FAILED: {e}"),
            ),
            (None, _) if d.checks.iter().any(|c| !c.passed) => (
                Severity::Sev2,
                Outcome::Failed,
                "restore drill FAILED its checks".to_owned(),
            ),
            (None, _) => (
                Severity::Sev2,
                Outcome::Failed,
                format!("restore drill: RTO {rto} over the {target} target"),
            ),
        };
        let checks: Vec<String> = d
            .checks
            .iter()
            .map(|c| {
                format!(
                    "  {} {}: {}",
                    if c.passed { "ok  " } else { "FAIL" },
                    c.name,
                    c.detail
                )
            })
            .collect();
        let details = format!(
            "Snapshot {} restored as {}{}.\nMeasured RTO (restore requested → available): {rto}; target {target}.\n{}\nThe drill instance has been deleted.{}",
            d.snapshot,
            d.instance,
            d.region.as_ref().map(|r| format!(" in {r}")).unwrap_or_default(),
            checks.join("\n"),
            if d.leftovers_deleted.is_empty() {
                String::new()
            } else {
                format!("\nLeft behind by an earlier run, also deleted: {}.", d.leftovers_deleted.join(", "))
            }
        );
        let doc = serde_json::to_value(d).unwrap_or(Value::Null);
        self.record(&d.date, if passed { "passed" } else { "failed" }, &doc, inv)
            .await?;
        super::report::emit_metrics(d);
        self.announce(&job_notice(
            severity,
            Action::Drill,
            outcome,
            &d.database,
            &headline,
            &details,
            doc,
        ))
        .await
    }

    async fn record(
        &self,
        date: &str,
        outcome: &str,
        details: &Value,
        inv: &Invocation,
    ) -> Result<(), DrillError> {
        let item = json!({
            "at": inv.now.to_rfc3339(),
            "job": "drill",
            "drill": date,
            "outcome": outcome,
            "details": details,
            "request_id": inv.request_id,
        });
        let sk = format!(
            "decision#{}#{date}",
            chrono::Utc::now().format("%Y-%m-%dT%H:%M:%S%.6fZ")
        );
        self.ledger
            .record(PK, &sk, &item)
            .await
            .map_err(DrillError::Ledger)
    }

    /// The verdict is the drill's whole point: a notice that cannot be sent fails the step, so
    /// the state machine's retry sends it.
    async fn announce(&self, n: &crate::model::Notification) -> Result<(), DrillError> {
        self.notifier
            .publish(n)
            .await
            .map(|_| ())
            .map_err(|e| DrillError::Failed(format!("the drill's notice was not sent: {e}")))
    }

    /// The database the drill restores: the policy's first RDS instance.
    pub(super) fn database(&self) -> Result<&str, DrillError> {
        self.policy
            .databases
            .iter()
            .find(|d| d.kind == crate::model::DbKind::Instance)
            .map(|d| d.id.as_str())
            .ok_or_else(|| {
                DrillError::Failed(
                    "the policy lists no RDS instance to drill (Aurora clusters are not drilled)"
                        .into(),
                )
            })
    }
}

fn output(d: &Drill, wait: u64) -> Value {
    let done = d.phase == Phase::Done;
    json!({
        "drill": d.date,
        "instance": d.instance,
        "phase": d.phase.as_str(),
        "done": done,
        "passed": done && d.passed(),
        "rto_seconds": d.rto_seconds,
        "wait_seconds": wait,
    })
}
