//! What the team reads: the suite's notice shape (`[SEVn] …` subject; `severity`, `action`,
//! `outcome`, `target` attributes), the conditions with the next step for each, everything seen
//! in the JSON body.

use serde_json::json;

use super::announce::Told;
use super::assess::{Finding, Kind};
use crate::model::{subject_line, Action, Notification, Outcome, Severity};

fn noun(f: &Finding) -> String {
    match f.kind {
        Kind::Acm => format!("certificate {}", f.label),
        Kind::Endpoint => format!("endpoint {}", f.label),
        Kind::Database => f.label.clone(),
        Kind::LoadBalancer => format!("load balancer {}", f.label),
    }
}

/// New conditions hold: the worst new one is the headline, all of them are listed.
pub fn raised(f: &Finding, new: &[String], before: &Told) -> Notification {
    let worst_new = f
        .conditions
        .iter()
        .filter(|c| new.contains(&c.code))
        .min_by_key(|c| c.severity);
    let severity = f.severity().unwrap_or(Severity::Sev3);
    let headline = worst_new.map(|c| c.says.clone()).unwrap_or_default();
    let mut text = format!(
        "{} {headline}\n\nTarget:   {}\nSeverity: {severity}\nAction:   notify → no_action (certwatch reads and tells; it changes nothing)\n\nWhat holds now:\n",
        noun(f),
        f.target
    );
    for c in &f.conditions {
        let mark = if new.contains(&c.code) { " (new)" } else { "" };
        text.push_str(&format!(
            "- [{}] {}{mark}\n  Next: {}\n",
            c.severity, c.says, c.next
        ));
    }
    Notification {
        subject: subject_line(severity, &noun(f), &headline, ""),
        severity,
        action: Action::Notify,
        outcome: Outcome::NoAction.attribute().to_owned(),
        target: f.target.clone(),
        text,
        json: json!({
            "job": "certwatch",
            "change": "raised",
            "new": new,
            "previously": before.conditions,
            "finding": f,
        }),
    }
}

/// Everything told of is over.
pub fn resolved(f: &Finding, before: &Told) -> Notification {
    let severity = before.severity.unwrap_or(Severity::Sev3);
    let now = match f.days {
        Some(d) => format!("resolved: {}", super::assess::in_days(d)),
        None => "resolved".to_owned(),
    };
    let was: Vec<&str> = before.conditions.iter().map(String::as_str).collect();
    let text = format!(
        "{} {now}\n\nTarget:   {}\nSeverity: {severity} (as told before)\nAction:   notify → no_action\n\nNo longer holds: {}\nTold since: {}\n",
        noun(f),
        f.target,
        was.join(", "),
        before.since.map(|t| t.to_rfc3339()).unwrap_or_else(|| "unknown".into())
    );
    Notification {
        subject: subject_line(severity, &noun(f), &now, ""),
        severity,
        action: Action::Notify,
        outcome: Outcome::NoAction.attribute().to_owned(),
        target: f.target.clone(),
        text,
        json: json!({
            "job": "certwatch",
            "change": "resolved",
            "previously": before.conditions,
            "told_since": before.since,
            "finding": f,
        }),
    }
}
