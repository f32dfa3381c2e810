//! The incident procedure's last step, "Document: post-mortem", started for the human: on every
//! close a Markdown draft (summary, impact window, timeline, actions and outcomes, diagnoses, time
//! to detect / mitigate / resolve, and the headings a human fills in) goes to the reports bucket
//! and is linked from the close notice.
//!
//! What a draft says and where it goes (pure); `drafts` writes them. The draft is rendered from
//! the closed incident alone. The close keeps it owed in the target's
//! state until it is stored (the close's retry or the reconcile tick writes it otherwise), and
//! the closing decision's record keeps the incident: `axiom-ops postmortem` renders the same draft
//! from the ledger when the bucket has none.

use chrono::{DateTime, Duration, Utc};
use serde::Serialize;

use super::state::{Incident, TIMELINE_HEAD};
use crate::model::{Outcome, Target};

/// Where a post-mortem went.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PostMortem {
    pub key: String,
    /// Its `s3://` address once stored.
    pub stored: Option<String>,
    /// Why it is not in the bucket (no bucket, a dry run, the write failed).
    pub not_stored: Option<String>,
    /// It never will be (no bucket, a dry run): not owed any more.
    #[serde(skip)]
    pub never: bool,
}

/// The folder of a target's post-mortems in the reports bucket.
pub fn prefix(target: &Target) -> String {
    format!("postmortems/{}/{}/", target.cluster, target.service)
}

/// The key of an incident's post-mortem: its id's time (when it opened), so keys sort by it and
/// `--incident <id>` names one.
pub fn key(target: &Target, incident_id: &str) -> String {
    let stamp = incident_id.rsplit('@').next().unwrap_or(incident_id);
    format!("{}{stamp}.md", prefix(target))
}

fn span(d: Duration) -> String {
    let s = d.num_seconds().max(0);
    match s {
        0..60 => format!("{s}s"),
        60..3600 => format!("{}m{:02}s", s / 60, s % 60),
        _ => format!("{}h{:02}m", s / 3600, (s % 3600) / 60),
    }
}

fn at(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%d %H:%M:%SZ").to_string()
}

/// The draft, in Markdown. `closing` is the closing decision's reason and outcome.
pub fn render(inc: &Incident, target: &Target, resolved: DateTime<Utc>, closing: &str) -> String {
    let alarms: Vec<&str> = inc.fired.iter().map(String::as_str).collect();
    let actions: Vec<_> = inc
        .timeline
        .iter()
        .filter(|e| e.outcome != Outcome::NoAction)
        .collect();
    let mitigated = inc
        .timeline
        .iter()
        .find(|e| e.outcome == Outcome::Done)
        .map(|e| e.at);
    let mut md = format!(
        "# Post-mortem (draft): {target}, {} incident\n\n_Incident {}. Drafted by axiom-ops when it closed; everything below the line is for a human to complete._\n\n",
        inc.severity, inc.id
    );
    md.push_str("## Summary\n\n");
    md.push_str(&format!(
        "{target} was in a {} incident for {}: {} fired. axiom-ops took {} action(s); {} The incident closed when every alarm was OK again: {closing}.\n\n",
        inc.severity,
        span(resolved - inc.opened_at),
        alarms.join(", "),
        actions.iter().filter(|e| e.outcome == Outcome::Done).count(),
        match inc.diagnoses.last() {
            Some((_, f)) => format!("the evidence said: {f}."),
            None => "no evidence was read.".to_owned(),
        },
    ));
    md.push_str("## Impact window\n\n");
    md.push_str(&format!(
        "- Start (first alarm): {}\n- End (every alarm OK): {}\n- Duration: {}\n- Alarms: {}\n- Desired count before: {}\n\n",
        at(inc.opened_at),
        at(resolved),
        span(resolved - inc.opened_at),
        alarms.join(", "),
        inc.pre_incident_desired
    ));
    md.push_str("## Timeline (UTC)\n\n| time | what | outcome |\n|---|---|---|\n");
    md.push_str(&format!("| {} | incident opened | |\n", at(inc.opened_at)));
    for (i, e) in inc.timeline.iter().enumerate() {
        if i == TIMELINE_HEAD && inc.elided > 0 {
            md.push_str(&format!("| … | {} entries omitted | |\n", inc.elided));
        }
        md.push_str(&format!(
            "| {} | {} | {} |\n",
            at(e.at),
            cell(&e.what),
            e.outcome.as_str()
        ));
    }
    md.push_str(&format!("| {} | resolved | |\n\n", at(resolved)));
    md.push_str("## Actions and outcomes\n\n");
    if actions.is_empty() {
        md.push_str("- None: axiom-ops changed nothing.\n");
    }
    for e in &actions {
        md.push_str(&format!(
            "- {}: {} → **{}**\n",
            e.at.format("%H:%M:%SZ"),
            e.what,
            e.outcome.as_str()
        ));
    }
    md.push_str("\n## Diagnoses\n\n");
    if inc.diagnoses.is_empty() {
        md.push_str("- None: no evidence was read during this incident.\n");
    }
    for (t, f) in &inc.diagnoses {
        md.push_str(&format!("- {}: {f}\n", t.format("%H:%M:%SZ")));
    }
    md.push_str("\n## Time to detect, mitigate, resolve\n\n");
    md.push_str(&format!(
        "- Time to detect (alarm → axiom-ops): {}\n- Time to mitigate (alarm → first change done): {}\n- Time to resolve (alarm → every alarm OK): {}\n",
        inc.detected_at
            .map(|d| span(d - inc.opened_at))
            .unwrap_or_else(|| "unknown".into()),
        mitigated
            .map(|m| span(m - inc.opened_at))
            .unwrap_or_else(|| "no change by axiom-ops".into()),
        span(resolved - inc.opened_at)
    ));
    md.push_str("\n---\n\n## Root cause\n\n## Contributing factors\n\n## What went well\n\n## What went wrong\n\n## Follow-up actions\n\n| action | owner | due |\n|---|---|---|\n");
    md
}

/// Text in one table cell: no line breaks, no column separators.
fn cell(s: &str) -> String {
    s.replace(['\n', '\r'], " ").replace('|', "\\|")
}
