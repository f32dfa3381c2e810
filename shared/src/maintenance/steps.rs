//! The window's steps, one method each: run the phase's effect idempotently (a retried step finds
//! its own earlier work) and say how it went. `window` decides what comes next.

use chrono::{DateTime, Utc};
use serde_json::json;

use super::job::MaintenanceJob;
use super::plan::report_text;
use super::window::{Recorded, Step, Window};
use crate::model::{job_notice, Action, Created, Outcome, Severity, Target};
use crate::policy::duration::chrono as dur;
use crate::policy::{MaintenancePolicy, MaintenanceTask};
use crate::ports::{
    Alarms, Certainty, Health, Ledger, Notifier, Parameters, Scaling, Services, Snapshots, Tasks,
};

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
    /// Maintenance mode on: remediation and people know a window is running.
    pub(super) async fn enable_mode(&self, w: &mut Window, mp: &MaintenancePolicy) -> Step {
        let dry = w.dry_run;
        w.mode_on = true;
        if dry {
            return Step::Done(format!("would set {} = on", mp.parameter));
        }
        match self.parameters.put(&mp.parameter, "on").await {
            Ok(()) => Step::Done(format!("{} = on", mp.parameter)),
            Err(e) => Step::Failed(e.message),
        }
    }

    /// The pre-maintenance snapshot, waited for until `available`.
    pub(super) async fn snapshot(&self, w: &mut Window, mp: &MaintenancePolicy) -> Step {
        let dry = w.dry_run;
        let poll = mp.poll_interval.as_secs().max(1);
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
            Ok(Some(s)) if s == "available" => Step::Done(format!("snapshot {id} available")),
            Ok(Some(s)) if s == "failed" || s == "error" => {
                Step::Failed(format!("snapshot {id} is {s}"))
            }
            Ok(Some(s)) => Step::Wait(poll, format!("snapshot {id} is {s}")),
            Ok(None) => Step::Failed(format!("snapshot {id} vanished")),
            Err(e) => Step::Wait(poll, e.0),
        }
    }

    /// Each service's desired count and scaling bounds, recorded once: a retry never records the scaled-down counts.
    pub(super) async fn record(&self, w: &mut Window, mp: &MaintenancePolicy) -> Step {
        let poll = mp.poll_interval.as_secs().max(1);
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

    /// Scaling suspended and every service at `scale_to`, waited for until steady.
    pub(super) async fn scale_down(&self, w: &mut Window, mp: &MaintenancePolicy) -> Step {
        let dry = w.dry_run;
        let poll = mp.poll_interval.as_secs().max(1);
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
                Ok(Some(s)) => {
                    unsteady.push(format!("{} running {}/{}", t.service, s.running, s.desired))
                }
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

    /// The `i`th task: a redeploy (waited for until steady) or a one-off task (found again by `startedBy`, must exit 0).
    pub(super) async fn task(&self, w: &mut Window, mp: &MaintenancePolicy, i: usize) -> Step {
        let dry = w.dry_run;
        let poll = mp.poll_interval.as_secs().max(1);
        let cluster = self.policy.cluster.clone();
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
                    Ok(Some(s)) if s.steady() => Step::Done(format!("{t} redeployed and steady")),
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
                        let started_by = format!("axiom-ops-{}-t{i}", w.started.format("%Y%m%d"));
                        match self.ecs.run(&cluster, spec, &started_by).await {
                            Ok(arn) => {
                                w.task = Some(arn.clone());
                                arn
                            }
                            // It may have started: the next step finds it by `started_by`.
                            Err(e) if e.certainty == Certainty::Unknown => {
                                return Step::Wait(
                                    poll,
                                    format!(
                                        "{name}: no answer from RunTask ({}); looking it up next",
                                        e.message
                                    ),
                                )
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
                    Ok(Some(st)) => Step::Wait(poll, format!("{name} is {}", st.last_status)),
                    Ok(None) => Step::Failed(format!("{name}: task {arn} vanished")),
                    Err(e) => Step::Wait(poll, e.0),
                }
            }
        }
    }

    /// The guide's `curl …/health`, until 200.
    pub(super) async fn health(&self, mp: &MaintenancePolicy) -> Step {
        match self.health.check(&mp.health_url).await {
            Ok(200) => Step::Done(format!("GET {} → 200", mp.health_url)),
            Ok(code) => Step::Wait(
                mp.health_interval.as_secs().max(1),
                format!("GET {} → {code}", mp.health_url),
            ),
            Err(e) => Step::Wait(mp.health_interval.as_secs().max(1), e),
        }
    }

    /// The recorded counts back and scaling resumed.
    pub(super) async fn scale_back(&self, w: &mut Window) -> Step {
        let dry = w.dry_run;
        if dry {
            return Step::Done("would scale back to the recorded counts and resume scaling".into());
        }
        match self.restore(w).await {
            Ok(said) => {
                w.scaled_down = false;
                Step::Done(format!("scaled back to {said}; scaling resumed"))
            }
            Err(e) => Step::Failed(e),
        }
    }

    /// Every critical alarm OK for `monitor` after the window; firing ones are a warning, not a rollback.
    pub(super) async fn monitor(
        &self,
        w: &mut Window,
        mp: &MaintenancePolicy,
        now: DateTime<Utc>,
    ) -> Step {
        let dry = w.dry_run;
        let poll = mp.poll_interval.as_secs().max(1);
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
                w.dry_run,
                job_notice(
                    Severity::Sev2,
                    Action::Monitor,
                    Outcome::Failed,
                    &self.policy.cluster,
                    &format!("maintenance {}: critical alarms after the window", w.id),
                    &why,
                    json!({"window": w.id, "alarms": firing}),
                ),
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

    /// Each step's time and outcome, announced.
    pub(super) async fn report(&self, w: &mut Window, now: DateTime<Utc>) -> Step {
        let dry = w.dry_run;
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
            dry,
            job_notice(
                sev,
                Action::Maintenance,
                outcome,
                &self.policy.cluster,
                &headline,
                &report_text(w, now),
                json!({"window": w}),
            ),
        )
        .await;
        Step::Done("report sent".into())
    }

    /// Maintenance mode off: the end of a window, and of every rollback.
    pub(super) async fn mode_off(&self, w: &mut Window, mp: &MaintenancePolicy) -> Step {
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
}
