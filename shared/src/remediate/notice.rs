//! The notice of one remediation decision: headline, the alarm's facts, the incident timeline.

use chrono::{DateTime, Utc};
use serde_json::{json, Value};

use super::alarm::AlarmTransition;
use super::decide::{Decision, Held, Verdict};
use super::diagnose::short_task_definition;
use super::postmortem::PostMortem;
use super::state::{Incident, TIMELINE_HEAD};
use crate::model::{printable, subject_line, Action, Effect, LedgerKeys, Notification, Outcome};

pub fn build(
    alarm: &AlarmTransition,
    d: &Decision,
    outcome: Outcome,
    keys: &LedgerKeys,
    error: Option<&str>,
    now: DateTime<Utc>,
) -> Notification {
    let target = d
        .target
        .as_ref()
        .map(|t| t.to_string())
        .unwrap_or_else(|| alarm.alarm_name.clone());
    let headline = headline(d, outcome);
    let label = alarm
        .description
        .as_deref()
        .filter(|s| s.len() <= 60)
        .unwrap_or(&alarm.alarm_name);
    let subject = subject_line(d.severity, &target, &headline, label);

    let mut text = format!(
        "{headline}\n\nTarget:   {target}\nAlarm:    {} is {} (since {})\nSeverity: {}\nAction:   {} → {}\nWhy:      {}\n",
        alarm.alarm_name,
        alarm.state,
        alarm.state_time.to_rfc3339(),
        d.severity,
        d.ask.as_str(),
        outcome.as_str(),
        d.reason
    );
    if let (Some(b), Some(a)) = (d.before, d.after) {
        text.push_str(&format!("Desired:  {b} → {a}\n"));
    }
    if let Some(e) = error {
        text.push_str(&format!("Error:    {}\n", printable(e)));
    }
    if let Some(dg) = &d.diagnosis {
        // At most three lines; the JSON body has all the evidence.
        for line in dg.summary() {
            text.push_str(&format!("{}\n", printable(&line)));
        }
    }
    if outcome == Outcome::Unknown {
        text.push_str("The call got no answer: it may or may not have happened. The invocation fails so Lambda retries it; the retry checks and finishes the job.\n");
    }
    if let Some(inc) = &d.closed {
        text.push_str(&format!("\n{}", timeline_text(inc, alarm.state_time)));
    }
    text.push_str(&format!(
        "\nIncident: {}\nLedger:   pk={} sk={}\n",
        d.incident_id.as_deref().unwrap_or("-"),
        keys.pk,
        keys.sk
    ));

    let json = json!({
        "version": 1,
        "at": now.to_rfc3339(),
        "severity": d.severity,
        "action": d.ask.as_str(),
        "outcome": outcome.as_str(),
        "target": target,
        "headline": headline,
        "reason": d.reason,
        "alarm": {
            "name": alarm.alarm_name,
            "state": alarm.state,
            "state_time": alarm.state_time.to_rfc3339(),
            "kind": alarm.kind,
            "delivery": alarm.delivery,
        },
        "desired": { "before": d.before, "after": d.after },
        "error": error,
        "incident_id": d.incident_id,
        "closed_incident": d.closed.as_ref().map(|i| timeline_json(i, alarm.state_time)),
        "diagnosis": d.diagnosis,
        "ledger": keys,
    });

    Notification {
        subject,
        severity: d.severity,
        action: d.ask,
        outcome: outcome.attribute().to_owned(),
        target,
        text,
        json,
    }
}

/// Says where the closed incident's post-mortem draft is (or why it is not stored).
pub fn link_postmortem(n: &mut Notification, p: &PostMortem) {
    match (&p.stored, &p.not_stored) {
        (Some(uri), _) => n.text.push_str(&format!("Post-mortem draft: {uri}\n")),
        (None, why) => n.text.push_str(&format!(
            "Post-mortem draft: not stored ({}); `axiom-ops postmortem {}` renders it from the ledger\n",
            why.as_deref().unwrap_or("unknown"),
            n.target
        )),
    }
    if let serde_json::Value::Object(m) = &mut n.json {
        m.insert("postmortem".into(), json!(p));
    }
}

/// The decision in a few words: "scaled out 3→5", "would restart (dry run)", "resolved in 12m".
pub fn headline(d: &Decision, outcome: Outcome) -> String {
    let change = match (&d.effect, d.verdict, d.before, d.after) {
        (Some(Effect::SetDesired { from, to }), ..) => format!(" {from}→{to}"),
        (Some(Effect::Rollback { to, .. }), ..) => format!(" to {}", short_task_definition(to)),
        (Some(Effect::ScaleUp { from, to, .. }), ..) => format!(" {from}→{to} MiB"),
        // Confirmed done on a retry: the change it made.
        (None, Verdict::AlreadyDone, Some(from), Some(to)) if from != to => format!(" {from}→{to}"),
        _ => String::new(),
    };
    let resolved = d.closed.as_ref().map(|inc| {
        let took = inc
            .timeline
            .last()
            .map(|e| e.at - inc.opened_at)
            .unwrap_or_default();
        format!("resolved in {}", short_duration(took))
    });
    let verb = match d.ask {
        Action::Restart => ("restarted", "restart"),
        Action::ScaleOut => ("scaled out", "scale-out"),
        Action::Restore => ("restored", "restore"),
        Action::Rollback => ("rolled back", "rollback"),
        Action::ScaleUp => ("scaled up", "scale-up"),
        _ => ("", ""),
    };
    let act = match (d.verdict, outcome) {
        (Verdict::AlreadyDone, _) => format!("{}{change} (confirmed on retry)", verb.0),
        (_, Outcome::Done) => format!("{}{change}", verb.0),
        (_, Outcome::DryRun) => format!("would {}{change} (dry run)", verb.1),
        (_, Outcome::Failed) => format!("{}{change} FAILED", verb.1),
        (_, Outcome::Unknown) => format!("{}{change} outcome unknown, retrying", verb.1),
        (_, Outcome::Suppressed) if d.held == Some(Held::CircuitOpen) => {
            "remediation exhausted, a human is needed".to_owned()
        }
        (_, Outcome::Suppressed) if d.held == Some(Held::Paused) => {
            format!("{} held: paused", verb.1)
        }
        (_, Outcome::Suppressed) if d.held == Some(Held::Window) => {
            format!("{} held: maintenance window", verb.1)
        }
        (_, Outcome::Suppressed) if d.held == Some(Held::ActionsSuppressed) => {
            format!("{} held: actions suppressed in CloudWatch", verb.1)
        }
        (_, Outcome::Suppressed) => format!("{} suppressed (cooldown)", verb.1),
        (_, Outcome::NoAction) => match (d.held, d.ask) {
            (Some(Held::NotAllowlisted), _) => "not allowlisted, no action".to_owned(),
            (Some(Held::Diagnosed), _) => format!("no {}, a human is needed", verb.1),
            (Some(Held::NoSuchService), _) => "service not found, no action".to_owned(),
            (Some(Held::AtMax), _) => "at max, no scale-out".to_owned(),
            (Some(Held::ChangedOutside), _) => "count changed by hand, left alone".to_owned(),
            (Some(Held::Foreign), _) => "alarm of another account or region, no action".to_owned(),
            (Some(Held::Future), _) => "timestamp in the future, not believed".to_owned(),
            (Some(Held::Superseded), _) => "superseded by a newer change, no action".to_owned(),
            (Some(Held::UnknownAlarm), _) => "no such alarm in CloudWatch, no action".to_owned(),
            (Some(Held::Stale), _) => "stale, CloudWatch disagrees, no action".to_owned(),
            (Some(Held::Lagging), _) => "CloudWatch not caught up, retrying".to_owned(),
            (_, Action::None | Action::Restore) => String::new(),
            _ => "in ALARM".to_owned(),
        },
    };
    match (resolved, act.is_empty()) {
        (Some(r), true) => r,
        (Some(r), false) => format!("{r}, {act}"),
        (None, _) => act,
    }
}

fn short_duration(d: chrono::Duration) -> String {
    let m = d.num_minutes();
    if m >= 60 {
        format!("{}h{:02}m", m / 60, m % 60)
    } else if m >= 1 {
        format!("{m}m")
    } else {
        format!("{}s", d.num_seconds().max(0))
    }
}

/// The incident's story: detected, every action and suppression, resolved, time to resolve.
pub fn timeline_text(inc: &Incident, resolved_at: DateTime<Utc>) -> String {
    let mut s = format!(
        "Incident {} ({})\n  detected  {}\n",
        inc.id,
        inc.severity,
        inc.opened_at.format("%Y-%m-%d %H:%M:%SZ")
    );
    for (i, e) in inc.timeline.iter().enumerate() {
        if i == TIMELINE_HEAD && inc.elided > 0 {
            s.push_str(&format!("  … {} entries omitted …\n", inc.elided));
        }
        s.push_str(&format!(
            "  {}  {} [{}]\n",
            e.at.format("%H:%M:%SZ"),
            e.what,
            e.outcome.as_str()
        ));
    }
    s.push_str(&format!(
        "  resolved  {}\n  time to resolve: {}\n",
        resolved_at.format("%Y-%m-%d %H:%M:%SZ"),
        short_duration(resolved_at - inc.opened_at)
    ));
    s
}

fn timeline_json(inc: &Incident, resolved_at: DateTime<Utc>) -> Value {
    json!({
        "id": inc.id,
        "severity": inc.severity,
        "detected": inc.opened_at.to_rfc3339(),
        "resolved": resolved_at.to_rfc3339(),
        "seconds_to_resolve": (resolved_at - inc.opened_at).num_seconds(),
        "alarms": inc.fired,
        "pre_incident_desired": inc.pre_incident_desired,
        "timeline": inc.timeline,
    })
}
