//! The `maintenance` job: the guide's monthly window (1st Sunday, 02:00–06:00 UTC), run by a
//! Step Functions loop that invokes one step at a time and waits the seconds the step asks for.
//!
//! Whatever fails — a step, a timeout, the cutoff — the service ends where it started: recorded
//! counts back, scaling resumed, maintenance mode off, and the team told what failed and what was
//! restored.

pub mod window;

use std::sync::Arc;

use chrono::{DateTime, Datelike, Duration, TimeZone, Utc, Weekday};
use serde::Deserialize;
use serde_json::{json, Value};

use crate::adapters::alarms::CloudWatchAlarms;
use crate::adapters::ecs::EcsServices;
use crate::adapters::health::HttpHealth;
use crate::adapters::ledger::DynamoLedger;
use crate::adapters::rds::RdsSnapshots;
use crate::adapters::scaling::AppAutoScaling;
use crate::adapters::ssm::SsmParameters;
use crate::audit::Audit;
use crate::aws::{sdk_config, Budget};
use crate::config::{Config, ConfigError};
use crate::notify::job_notice;
use crate::policy::{MaintenancePolicy, MaintenanceTask, Policy, Severity};
use crate::ports::{
    Alarms, Created, Health, Ledger, Notifier, Parameters, PortError, Scaling, Services, Snapshots,
    Tasks,
};
use crate::remediate::Invocation;
use crate::state::Outcome;
use crate::target::Target;
use window::{advance, cutoff_reached, Limits, Phase, Recorded, Step, Window};

/// The ledger partition of maintenance windows.
pub const PK: &str = "maintenance";

#[derive(Debug, thiserror::Error)]
pub enum MaintenanceError {
    #[error("not a maintenance event: {0}")]
    Input(String),
    #[error("ledger: {0}")]
    Ledger(PortError),
    #[error("{0}: the window's progress kept changing under us; retry")]
    Contention(String),
}

/// What the state machine (or a schedule) sends. The loop passes the last output back, so extra
/// keys are expected and ignored.
#[derive(Debug, Default, Deserialize)]
struct Input {
    #[serde(default)]
    action: Option<String>,
    #[serde(default)]
    window: Option<String>,
    #[serde(default)]
    dry_run: bool,
    #[serde(default)]
    rollback: bool,
}

/// The ports the window needs, for one invocation.
pub struct MaintenanceJob<'a, E, R, S, P, A, H, L, N> {
    pub policy: &'a Policy,
    pub ecs: E,
    pub rds: R,
    pub scaling: S,
    pub parameters: P,
    pub alarms: A,
    pub health: H,
    pub ledger: L,
    pub notifier: N,
    pub dry_run: bool,
}

impl<E, R, S, P, A, H, L, N> MaintenanceJob<'_, E, R, S, P, A, H, L, N>
where
    E: Services + Tasks,
    R: Snapshots,
    S: Scaling,
    P: Parameters,
    A: Alarms,
    H: Health,
    L: Ledger,
    N: Notifier,
{
    fn maintenance(&self) -> Result<&MaintenancePolicy, MaintenanceError> {
        self.policy.maintenance.as_ref().ok_or_else(|| {
            MaintenanceError::Input("the policy has no [maintenance] section".into())
        })
    }

    fn targets(&self) -> Vec<Target> {
        self.policy
            .services
            .iter()
            .map(|s| Target::new(self.policy.cluster.clone(), s.name.clone()))
            .collect()
    }

    pub async fn handle(
        &self,
        payload: &Value,
        inv: &Invocation,
    ) -> Result<Value, MaintenanceError> {
        if !payload.is_object() {
            return Err(MaintenanceError::Input(format!(
                "expected an object like {{}} or {{\"window\": \"2026-12-06\"}} or {{\"action\": \"notice\"}}; got {}",
                crate::alarm::keys_of(payload)
            )));
        }
        let input: Input = serde_json::from_value(payload.clone())
            .map_err(|e| MaintenanceError::Input(e.to_string()))?;
        let mp = self.maintenance()?;
        match input.action.as_deref() {
            None | Some("step") => {}
            Some("notice") => return Ok(self.notice(mp, inv.now).await),
            Some(other) => {
                return Err(MaintenanceError::Input(format!(
                    "action {other:?} is not notice or step"
                )))
            }
        }
        let dry_run = self.dry_run || input.dry_run;
        let id = input
            .window
            .unwrap_or_else(|| inv.now.format("%Y-%m-%d").to_string());
        let sk = format!("window#{id}{}", if dry_run { "#dry_run" } else { "" });
        let limits = Limits {
            step_timeout: dur(mp.step_timeout),
            health_attempts: mp.health_attempts,
        };
        for _ in 0..8 {
            let (mut w, version) = match self
                .ledger
                .get_doc(PK, &sk)
                .await
                .map_err(MaintenanceError::Ledger)?
            {
                Some((doc, v)) => (
                    serde_json::from_value::<Window>(doc).map_err(|e| {
                        MaintenanceError::Ledger(PortError(format!("window {id} unreadable: {e}")))
                    })?,
                    Some(v),
                ),
                None => (
                    Window::new(
                        id.clone(),
                        inv.now,
                        dur(mp.duration),
                        dur(mp.cutoff_before_end),
                        dry_run,
                    ),
                    None,
                ),
            };
            let wait = if input.rollback && !w.phase.is_rollback() && !w.phase.is_final() {
                w.fail(
                    "the state machine caught an error in a step: rolling back".into(),
                    inv.now,
                );
                0
            } else if let Some(why) = cutoff_reached(&w, inv.now) {
                w.fail(why, inv.now);
                0
            } else {
                let step = self.execute(&mut w, mp, inv.now).await;
                tracing::info!(window = %w.id, phase = %w.phase.name(), step = ?step, "maintenance step");
                advance(&mut w, step, inv.now, mp.tasks.len(), &limits)
            };
            let doc = serde_json::to_value(&w)
                .map_err(|e| MaintenanceError::Ledger(PortError(e.to_string())))?;
            if self
                .ledger
                .put_doc(PK, &sk, &doc, version)
                .await
                .map_err(MaintenanceError::Ledger)?
            {
                return Ok(json!({
                    "window": w.id,
                    "dry_run": dry_run,
                    "phase": w.phase.name(),
                    "done": w.phase.is_final(),
                    "rolled_back": w.phase == Phase::RolledBack,
                    "wait_seconds": wait,
                    "failure": w.failure,
                }));
            }
        }
        Err(MaintenanceError::Contention(id))
    }

    /// Runs the current phase's effect, idempotently, and says how it went.
    async fn execute(&self, w: &mut Window, mp: &MaintenancePolicy, now: DateTime<Utc>) -> Step {
        let dry = w.dry_run;
        let poll = mp.poll_interval.as_secs().max(1);
        let cluster = self.policy.cluster.clone();
        match w.phase {
            Phase::EnableMode => {
                w.mode_on = true;
                if dry {
                    return Step::Done(format!("would set {} = on", mp.parameter));
                }
                match self.parameters.put(&mp.parameter, "on").await {
                    Ok(()) => Step::Done(format!("{} = on", mp.parameter)),
                    Err(e) => Step::Failed(e.message),
                }
            }
            Phase::Snapshot => {
                let Some(db) = self.policy.database(&mp.database) else {
                    return Step::Failed(format!("database {} is not in the policy", mp.database));
                };
                let id = format!("{}-premaint-{}", db.id, w.started.format("%Y%m%d-%H%M"));
                if dry {
                    return Step::Done(format!("would snapshot {} as {id} and wait for it", db.id));
                }
                if w.snapshot.is_none() {
                    let tags = [("created-by".to_owned(), "axiom-ops-maintenance".to_owned())];
                    match self.rds.create(db, &id, &tags).await {
                        Ok(Created::New | Created::Existing) => w.snapshot = Some(id.clone()),
                        Err(e) => return Step::Failed(e.message),
                    }
                }
                match self.rds.status(db, &id).await {
                    Ok(Some(s)) if s == "available" => {
                        Step::Done(format!("snapshot {id} available"))
                    }
                    Ok(Some(s)) if s == "failed" || s == "error" => {
                        Step::Failed(format!("snapshot {id} is {s}"))
                    }
                    Ok(Some(s)) => Step::Wait(poll, format!("snapshot {id} is {s}")),
                    Ok(None) => Step::Failed(format!("snapshot {id} vanished")),
                    Err(e) => Step::Wait(poll, e.0),
                }
            }
            Phase::Record => {
                let mut said = Vec::new();
                for t in self.targets() {
                    if let Some(r) = w.recorded.get(&t.service) {
                        said.push(format!("{} {}", t.service, r.desired));
                        continue;
                    }
                    let status = match self.ecs.describe(&t).await {
                        Ok(Some(s)) => s,
                        Ok(None) => return Step::Failed(format!("{t} does not exist")),
                        Err(e) => return Step::Wait(poll, e.0),
                    };
                    let scaling = match self.scaling.bounds(&t).await {
                        Ok(b) => b,
                        Err(e) => return Step::Wait(poll, e.0),
                    };
                    w.recorded.insert(
                        t.service.clone(),
                        Recorded {
                            desired: status.desired,
                            scaling,
                        },
                    );
                    said.push(format!(
                        "{} {}{}",
                        t.service,
                        status.desired,
                        scaling
                            .map(|(lo, hi)| format!(" (scaling {lo}–{hi})"))
                            .unwrap_or_default()
                    ));
                }
                Step::Done(format!("recorded desired counts: {}", said.join(", ")))
            }
            Phase::ScaleDown => {
                w.scaled_down = true;
                if dry {
                    return Step::Done(format!(
                        "would suspend scaling and scale every service to {}",
                        mp.scale_to
                    ));
                }
                let mut unsteady = Vec::new();
                for t in self.targets() {
                    if w.recorded
                        .get(&t.service)
                        .is_some_and(|r| r.scaling.is_some())
                    {
                        if let Err(e) = self.scaling.suspend(&t).await {
                            return Step::Failed(e.message);
                        }
                    }
                    if let Err(e) = self.ecs.set_desired(&t, mp.scale_to).await {
                        return Step::Failed(e.message);
                    }
                    match self.ecs.describe(&t).await {
                        Ok(Some(s)) if s.steady() && s.desired == mp.scale_to => {}
                        Ok(Some(s)) => unsteady
                            .push(format!("{} running {}/{}", t.service, s.running, s.desired)),
                        Ok(None) => return Step::Failed(format!("{t} vanished")),
                        Err(e) => unsteady.push(e.0),
                    }
                }
                if unsteady.is_empty() {
                    Step::Done(format!(
                        "scaling suspended; every service at {} and steady",
                        mp.scale_to
                    ))
                } else {
                    Step::Wait(
                        poll,
                        format!("waiting for steady state: {}", unsteady.join(", ")),
                    )
                }
            }
            Phase::Task(i) => {
                let Some(task) = mp.tasks.get(i) else {
                    return Step::Done("no such task".into());
                };
                match task {
                    MaintenanceTask::Redeploy { service } => {
                        let t = Target::new(cluster, service.clone());
                        if dry {
                            return Step::Done(format!("would force a new deployment of {t}"));
                        }
                        if w.task.is_none() {
                            if let Err(e) = self.ecs.restart(&t).await {
                                return Step::Failed(e.message);
                            }
                            w.task = Some(format!("redeploy {t}"));
                        }
                        match self.ecs.describe(&t).await {
                            Ok(Some(s)) if s.steady() => {
                                Step::Done(format!("{t} redeployed and steady"))
                            }
                            Ok(Some(s)) => Step::Wait(
                                poll,
                                format!(
                                    "{t}: {} deployments, running {}/{}",
                                    s.deployments, s.running, s.desired
                                ),
                            ),
                            Ok(None) => Step::Failed(format!("{t} vanished")),
                            Err(e) => Step::Wait(poll, e.0),
                        }
                    }
                    MaintenanceTask::RunTask { name, spec } => {
                        if dry {
                            return Step::Done(format!(
                                "would run {name} ({}) and require exit 0",
                                spec.task_definition
                            ));
                        }
                        let arn = match &w.task {
                            Some(arn) => arn.clone(),
                            None => {
                                let started_by =
                                    format!("axiom-ops-{}-t{i}", w.started.format("%Y%m%d"));
                                match self.ecs.run(&cluster, spec, &started_by).await {
                                    Ok(arn) => {
                                        w.task = Some(arn.clone());
                                        arn
                                    }
                                    Err(e) => return Step::Failed(e.message),
                                }
                            }
                        };
                        match self.ecs.state(&cluster, &arn).await {
                            Ok(Some(st)) if st.finished() => {
                                let codes: Vec<i32> =
                                    st.exit_codes.iter().map(|c| c.unwrap_or(-1)).collect();
                                if codes.iter().all(|c| *c == 0) {
                                    Step::Done(format!("{name} exited 0"))
                                } else {
                                    Step::Failed(format!(
                                        "{name} exited {}{}",
                                        codes
                                            .iter()
                                            .map(i32::to_string)
                                            .collect::<Vec<_>>()
                                            .join(","),
                                        st.reason.map(|r| format!(" ({r})")).unwrap_or_default()
                                    ))
                                }
                            }
                            Ok(Some(st)) => {
                                Step::Wait(poll, format!("{name} is {}", st.last_status))
                            }
                            Ok(None) => Step::Failed(format!("{name}: task {arn} vanished")),
                            Err(e) => Step::Wait(poll, e.0),
                        }
                    }
                }
            }
            Phase::Health => match self.health.check(&mp.health_url).await {
                Ok(200) => Step::Done(format!("GET {} → 200", mp.health_url)),
                Ok(code) => Step::Wait(
                    mp.health_interval.as_secs().max(1),
                    format!("GET {} → {code}", mp.health_url),
                ),
                Err(e) => Step::Wait(mp.health_interval.as_secs().max(1), e),
            },
            Phase::ScaleBack => {
                if dry {
                    return Step::Done(
                        "would scale back to the recorded counts and resume scaling".into(),
                    );
                }
                match self.restore(w).await {
                    Ok(said) => {
                        w.scaled_down = false;
                        Step::Done(format!("scaled back to {said}; scaling resumed"))
                    }
                    Err(e) => Step::Failed(e),
                }
            }
            Phase::DisableMode => self.mode_off(w, mp).await,
            Phase::Monitor => {
                if dry {
                    return Step::Done(format!(
                        "would watch every {}*-critical alarm for {} min",
                        self.policy.alarm_prefix,
                        mp.monitor.as_secs() / 60
                    ));
                }
                let states = match self.alarms.states(&self.policy.alarm_prefix).await {
                    Ok(s) => s,
                    Err(e) => return Step::Wait(poll, e.0),
                };
                let firing: Vec<String> = states
                    .into_iter()
                    .filter(|(name, state)| name.ends_with("-critical") && state == "ALARM")
                    .map(|(name, _)| name)
                    .collect();
                if !firing.is_empty() {
                    let why = format!("critical alarms after maintenance: {}", firing.join(", "));
                    w.warnings.push(why.clone());
                    self.announce(
                        Severity::Sev2,
                        "monitor",
                        Outcome::Failed,
                        &format!("maintenance {}: critical alarms after the window", w.id),
                        &why,
                        json!({"window": w.id, "alarms": firing}),
                    )
                    .await;
                    return Step::Done(why);
                }
                let since = *w.monitor_since.get_or_insert(now);
                if now - since >= dur(mp.monitor) {
                    Step::Done(format!(
                        "every critical alarm OK for {} min",
                        mp.monitor.as_secs() / 60
                    ))
                } else {
                    Step::Wait(poll, "critical alarms OK so far".into())
                }
            }
            Phase::Report => {
                let (sev, headline) = if w.warnings.is_empty() {
                    (Severity::Sev3, format!("maintenance {} completed", w.id))
                } else {
                    (
                        Severity::Sev2,
                        format!("maintenance {} completed with warnings", w.id),
                    )
                };
                let outcome = if dry { Outcome::DryRun } else { Outcome::Done };
                self.announce(
                    sev,
                    "maintenance",
                    outcome,
                    &headline,
                    &report_text(w, now),
                    json!({"window": w}),
                )
                .await;
                Step::Done("report sent".into())
            }
            Phase::RestoreCounts => {
                if dry || w.recorded.is_empty() {
                    return Step::Done("nothing to restore".into());
                }
                match self.restore(w).await {
                    Ok(said) => Step::Done(format!("restored {said}; scaling resumed")),
                    Err(e) => Step::Failed(e),
                }
            }
            Phase::RestoreMode => self.mode_off(w, mp).await,
            Phase::AnnounceRollback => {
                // Capacity was cut: that is an outage risk (SEV1). Before that, SEV2.
                let reached_scale_down =
                    w.log.iter().any(|l| l.phase == Phase::ScaleDown.name()) || w.scaled_down;
                let sev = if reached_scale_down {
                    Severity::Sev1
                } else {
                    Severity::Sev2
                };
                let failure = w.failure.clone().unwrap_or_else(|| "unknown".into());
                let outcome = if dry {
                    Outcome::DryRun
                } else {
                    Outcome::Failed
                };
                self.announce(
                    sev,
                    "rollback",
                    outcome,
                    &format!("maintenance {} ROLLED BACK", w.id),
                    &format!("What failed: {failure}\n\n{}", report_text(w, now)),
                    json!({"window": w}),
                )
                .await;
                Step::Done("rollback announced".into())
            }
            Phase::Done | Phase::RolledBack => Step::Done("finished".into()),
        }
    }

    /// Maintenance mode off: the end of a window, and of every rollback.
    async fn mode_off(&self, w: &mut Window, mp: &MaintenancePolicy) -> Step {
        if w.dry_run {
            return Step::Done(format!("would set {} = off", mp.parameter));
        }
        match self.parameters.put(&mp.parameter, "off").await {
            Ok(()) => {
                w.mode_on = false;
                Step::Done(format!("{} = off", mp.parameter))
            }
            Err(e) => Step::Failed(e.message),
        }
    }

    /// Recorded counts back and scaling resumed, for every service recorded.
    async fn restore(&self, w: &Window) -> Result<String, String> {
        let mut said = Vec::new();
        for t in self.targets() {
            let Some(r) = w.recorded.get(&t.service) else {
                continue;
            };
            self.ecs
                .set_desired(&t, r.desired)
                .await
                .map_err(|e| e.message)?;
            if let Some((lo, hi)) = r.scaling {
                self.scaling
                    .resume(&t, lo, hi)
                    .await
                    .map_err(|e| e.message)?;
            }
            said.push(format!("{} {}", t.service, r.desired));
        }
        Ok(said.join(", "))
    }

    /// Seven days ahead: the window's date, duration and steps.
    async fn notice(&self, mp: &MaintenancePolicy, now: DateTime<Utc>) -> Value {
        let start = next_window(now);
        let steps = planned_steps(self.policy, mp);
        let headline = format!(
            "maintenance window {} {}–{} UTC",
            start.format("%a %Y-%m-%d"),
            start.format("%H:%M"),
            (start + dur(mp.duration)).format("%H:%M")
        );
        self.announce(
            Severity::Sev4,
            "notice",
            Outcome::NoAction,
            &headline,
            &format!("AxiomCore production maintenance, up to {} h.\n\nSteps:\n{}", mp.duration.as_secs() / 3600, steps.join("\n")),
            json!({"window_start": start.to_rfc3339(), "duration_seconds": mp.duration.as_secs(), "steps": steps}),
        )
        .await;
        json!({"notice": headline, "window_start": start.to_rfc3339()})
    }

    async fn announce(
        &self,
        sev: Severity,
        action: &str,
        outcome: Outcome,
        headline: &str,
        details: &str,
        facts: Value,
    ) {
        let n = job_notice(
            sev,
            action,
            outcome,
            &self.policy.cluster,
            headline,
            details,
            facts,
        );
        if let Err(e) = self.notifier.publish(&n).await {
            tracing::error!(error = %e, subject = %n.subject, "notification not sent");
        }
    }
}

/// Policy durations are validated to at most ten years, so this never saturates in practice.
fn dur(d: std::time::Duration) -> Duration {
    Duration::from_std(d).unwrap_or(Duration::days(3650))
}

/// The first Sunday of a month, 02:00 UTC: this month's if still ahead, else next month's.
pub fn next_window(now: DateTime<Utc>) -> DateTime<Utc> {
    let first_sunday = |y: i32, m: u32| -> Option<DateTime<Utc>> {
        let first = Utc.with_ymd_and_hms(y, m, 1, 2, 0, 0).single()?;
        let ahead = (7 + Weekday::Sun.num_days_from_monday() as i64
            - first.weekday().num_days_from_monday() as i64)
            % 7;
        Some(first + Duration::days(ahead))
    };
    let (y, m) = (now.year(), now.month());
    match first_sunday(y, m) {
        Some(t) if t > now => t,
        _ => {
            let (ny, nm) = if m == 12 { (y + 1, 1) } else { (y, m + 1) };
            first_sunday(ny, nm).unwrap_or(now)
        }
    }
}

fn planned_steps(policy: &Policy, mp: &MaintenancePolicy) -> Vec<String> {
    let mut s = vec![
        format!("1. maintenance mode on ({})", mp.parameter),
        format!("2. snapshot {} and wait until available", mp.database),
        format!(
            "3. record counts, suspend scaling, scale {} to {}",
            policy
                .services
                .iter()
                .map(|s| s.name.as_str())
                .collect::<Vec<_>>()
                .join(" and "),
            mp.scale_to
        ),
    ];
    for (i, t) in mp.tasks.iter().enumerate() {
        s.push(match t {
            MaintenanceTask::Redeploy { service } => {
                format!("{}. redeploy {service} (patched images)", 4 + i)
            }
            MaintenanceTask::RunTask { name, .. } => {
                format!("{}. run {name}, which must exit 0", 4 + i)
            }
        });
    }
    let n = 4 + mp.tasks.len();
    s.push(format!("{n}. verify health: GET {}", mp.health_url));
    s.push(format!(
        "{}. scale back to the recorded counts, resume scaling, maintenance mode off",
        n + 1
    ));
    s.push(format!(
        "{}. watch critical alarms for {} min, then report",
        n + 2,
        mp.monitor.as_secs() / 60
    ));
    s
}

/// Each step's time and outcome, for the report and the rollback notice.
pub fn report_text(w: &Window, now: DateTime<Utc>) -> String {
    let mut s = format!(
        "Window {} ({}), started {}\n",
        w.id,
        if w.dry_run { "dry run" } else { "live" },
        w.started.format("%Y-%m-%d %H:%M:%SZ")
    );
    for l in &w.log {
        s.push_str(&format!(
            "  {}–{}  {:<14} {:<8} {}\n",
            l.started.format("%H:%M:%S"),
            l.ended.format("%H:%M:%S"),
            l.phase,
            l.outcome,
            l.detail
        ));
    }
    for warn in &w.warnings {
        s.push_str(&format!("  warning: {warn}\n"));
    }
    s.push_str(&format!("  took {} min\n", (now - w.started).num_minutes()));
    s
}

/// What a cold start of `maintenance` builds once.
#[derive(Clone)]
pub struct MaintenanceApp {
    pub config: Arc<Config>,
    pub ecs: aws_sdk_ecs::Client,
    pub rds: aws_sdk_rds::Client,
    pub scaling: aws_sdk_applicationautoscaling::Client,
    pub ssm: aws_sdk_ssm::Client,
    pub cloudwatch: aws_sdk_cloudwatch::Client,
    pub health: HttpHealth,
    audit: Audit,
}

impl MaintenanceApp {
    pub async fn from_env() -> Result<MaintenanceApp, ConfigError> {
        MaintenanceApp::with_sdk(Config::from_env()?, &sdk_config().await)
    }

    pub fn with_sdk(
        config: Config,
        sdk: &aws_config::SdkConfig,
    ) -> Result<MaintenanceApp, ConfigError> {
        let audit = Audit::new(&config, sdk)?;
        if config.policy.maintenance.is_none() {
            return Err(ConfigError::Invalid {
                var: "OPS_POLICY_FILE",
                value: "no [maintenance]".into(),
                why: "the maintenance job needs a [maintenance] section",
            });
        }
        let health = HttpHealth::new().map_err(|_| ConfigError::Invalid {
            var: "OPS_POLICY_FILE",
            value: "maintenance.health_url".into(),
            why: "no HTTP client could be built for the health check",
        })?;
        Ok(MaintenanceApp {
            ecs: aws_sdk_ecs::Client::new(sdk),
            rds: aws_sdk_rds::Client::new(sdk),
            scaling: aws_sdk_applicationautoscaling::Client::new(sdk),
            ssm: aws_sdk_ssm::Client::new(sdk),
            cloudwatch: aws_sdk_cloudwatch::Client::new(sdk),
            health,
            audit,
            config: Arc::new(config),
        })
    }

    pub fn ledger(&self) -> DynamoLedger {
        self.audit.ledger(Budget::unbounded())
    }

    pub async fn handle(
        &self,
        payload: &Value,
        inv: &Invocation,
        dry_run: bool,
    ) -> Result<Value, MaintenanceError> {
        let budget = Budget::until(inv.deadline);
        let job = MaintenanceJob {
            policy: &self.config.policy,
            ecs: EcsServices::new(&self.ecs, budget),
            rds: RdsSnapshots::new(&self.rds, budget),
            scaling: AppAutoScaling::new(&self.scaling, budget),
            parameters: SsmParameters::new(&self.ssm, budget),
            alarms: CloudWatchAlarms::new(&self.cloudwatch, budget),
            health: self.health.clone(),
            ledger: self.audit.ledger(budget),
            notifier: self.audit.notifier(budget),
            dry_run: dry_run || self.config.dry_run,
        };
        job.handle(payload, inv).await
    }
}

impl crate::lambda::Job for MaintenanceApp {
    const NAME: &'static str = "maintenance";
    type Error = MaintenanceError;

    async fn from_env() -> Result<MaintenanceApp, ConfigError> {
        MaintenanceApp::from_env().await
    }

    async fn handle(
        &self,
        payload: &Value,
        inv: &Invocation,
        dry_run: bool,
    ) -> Result<Value, MaintenanceError> {
        MaintenanceApp::handle(self, payload, inv, dry_run).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_window_is_the_first_sunday_of_the_month() {
        let t = |s: &str| {
            DateTime::parse_from_rfc3339(s)
                .map(|d| d.with_timezone(&Utc))
                .expect("time")
        };
        // 2026-12-06 is the first Sunday of December; the notice goes out on 2026-11-29.
        assert_eq!(
            next_window(t("2026-11-29T02:00:00Z")),
            t("2026-12-06T02:00:00Z")
        );
        assert_eq!(
            next_window(t("2026-12-01T00:00:00Z")),
            t("2026-12-06T02:00:00Z")
        );
        assert_eq!(
            next_window(t("2026-12-06T03:00:00Z")),
            t("2027-01-03T02:00:00Z")
        );
        assert_eq!(
            next_window(t("2027-01-31T02:00:00Z")),
            t("2027-02-07T02:00:00Z")
        );
    }
}
