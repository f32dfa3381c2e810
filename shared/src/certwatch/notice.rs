//! What the team reads: the suite's notice shape (`[SEVn] …` subject; `severity`, `action`,
//! `outcome`, `target` attributes), the conditions with the next step for each, everything seen
//! in the JSON body.

use serde_json::json;

use super::announce::Told;
use super::assess::{Finding, Kind};
use crate::model::{subject_line, Action, Notification, Outcome, Severity};

fn noun(f: &Finding) -> String {
    noun_of(f, &f.label)
}

fn noun_of(f: &Finding, label: &str) -> String {
    match f.kind {
        Kind::Acm => format!("certificate {label}"),
        Kind::Endpoint => format!("endpoint {label}"),
        Kind::Database => label.to_owned(),
        Kind::LoadBalancer => format!("load balancer {label}"),
    }
}

/// New conditions hold: the worst new one is the headline, all of them are listed.
pub fn raised(f: &Finding, new: &[String], before: &Told) -> Notification {
    let worst_new = f
        .conditions
        .iter()
        .filter(|c| new.contains(&c.code))
        .min_by_key(|c| c.severity);
    // As urgent as what is new: what was told before was paged for already.
    let severity = worst_new
        .map(|c| c.severity)
        .or(f.severity())
        .unwrap_or(Severity::Sev3);
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
    notice(
        severity,
        &noun(f),
        &headline,
        f,
        text,
        json!({
            "job": "certwatch",
            "change": "raised",
            "new": new,
            "previously": before.conditions,
            "finding": f,
        }),
    )
}

/// Everything told of is over.
pub fn resolved(f: &Finding, before: &Told) -> Notification {
    let severity = before.severity.unwrap_or(Severity::Sev3);
    let now = match f.days {
        _ if f.facts["no_longer_watched"] == true => {
            "resolved: no longer watched (nothing names it, or it no longer exists)".to_owned()
        }
        Some(d) => format!("resolved: {}", super::assess::in_days(d)),
        None => "resolved".to_owned(),
    };
    let was: Vec<&str> = before.conditions.iter().map(String::as_str).collect();
    let noun = noun_of(f, before.label.as_deref().unwrap_or(&f.label));
    let text = format!(
        "{} {now}\n\nTarget:   {}\nSeverity: {severity} (as told before)\nAction:   notify → no_action\n\nNo longer holds: {}\nTold since: {}\n",
        noun,
        f.target,
        was.join(", "),
        before.since.map(|t| t.to_rfc3339()).unwrap_or_else(|| "unknown".into())
    );
    notice(
        severity,
        &noun,
        &now,
        f,
        text,
        json!({
            "job": "certwatch",
            "change": "resolved",
            "previously": before.conditions,
            "told_since": before.since,
            "finding": f,
        }),
    )
}

/// certwatch only reads and tells: every notice is `notify → no_action`.
fn notice(
    severity: Severity,
    noun: &str,
    headline: &str,
    f: &Finding,
    text: String,
    json: serde_json::Value,
) -> Notification {
    Notification {
        subject: subject_line(severity, noun, headline, ""),
        severity,
        action: Action::Notify,
        outcome: Outcome::NoAction.attribute().to_owned(),
        target: f.target.clone(),
        text,
        json,
    }
}
