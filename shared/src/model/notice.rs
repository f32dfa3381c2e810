//! What the team is told: a subject readable on a phone, attributes for subscription filters,
//! and a body in text for people and JSON for machines. Every job's notices have this shape.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::{Action, Outcome, Severity};

/// SNS rejects longer subjects.
pub const SUBJECT_MAX: usize = 100;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Notification {
    pub subject: String,
    pub severity: Severity,
    pub action: Action,
    /// `done | dry_run | suppressed | failed | no_action`
    pub outcome: String,
    pub target: String,
    pub text: String,
    pub json: Value,
}

/// How a dry run's notice is marked, in its subject.
pub const DRY_RUN_MARK: &str = "(dry run)";

impl Notification {
    /// The same notice, as a dry run's: `(dry run)` in the subject, `outcome=dry_run` for
    /// subscription filters, `dry_run: true` in the JSON. Marking twice changes nothing.
    pub fn marked_dry_run(mut self) -> Notification {
        if !self.subject.contains(DRY_RUN_MARK) {
            let subject = match self.subject.split_once("] ") {
                Some((sev, rest)) => format!("{sev}] {DRY_RUN_MARK} {rest}"),
                None => format!("{DRY_RUN_MARK} {}", self.subject),
            };
            self.subject = subject_line_of(&subject);
        }
        self.outcome = "dry_run".into();
        if let serde_json::Value::Object(m) = &mut self.json {
            m.insert("dry_run".into(), serde_json::Value::Bool(true));
        }
        self
    }
}

/// Where the decision sits in the ledger, quoted in every notice so it can be looked up.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LedgerKeys {
    pub pk: String,
    pub sk: String,
}

/// A notice of a scheduled job (snapshots, maintenance): same subject rules and attributes as
/// the alarm notices, with the job's own facts in `json`.
pub fn job_notice(
    severity: Severity,
    action: Action,
    outcome: Outcome,
    target: &str,
    headline: &str,
    details: &str,
    json: Value,
) -> Notification {
    let subject = subject_line(severity, target, headline, "");
    let text = format!(
        "{headline}\n\nTarget:   {target}\nSeverity: {severity}\nAction:   {} → {}\n\n{details}\n",
        action.as_str(),
        outcome.as_str()
    );
    Notification {
        subject,
        severity,
        action,
        outcome: outcome.attribute().to_owned(),
        target: target.to_owned(),
        text,
        json,
    }
}

/// `[SEV2] axiomcore-production/api scaled out 3→5: CPU > 90%`, cut to SNS's limit on a char
/// boundary, with no control characters.
pub fn subject_line(sev: Severity, target: &str, headline: &str, label: &str) -> String {
    let raw = if label.is_empty() {
        format!("[{sev}] {target} {headline}")
    } else {
        format!("[{sev}] {target} {headline}: {label}")
    };
    subject_line_of(&raw)
}

/// `raw` as a subject: no control characters, cut to SNS's limit on a char boundary.
fn subject_line_of(raw: &str) -> String {
    let clean: String = raw
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    if clean.chars().count() <= SUBJECT_MAX {
        return clean;
    }
    let mut cut: String = clean.chars().take(SUBJECT_MAX - 1).collect();
    cut.push('…');
    cut
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_dry_run_is_marked_once_and_still_fits() {
        let n = job_notice(
            Severity::Sev2,
            Action::Snapshot,
            Outcome::Failed,
            &"x".repeat(120),
            "snapshot FAILED",
            "",
            serde_json::json!({}),
        );
        let m = n.marked_dry_run().marked_dry_run();
        assert!(m.subject.starts_with("[SEV2] (dry run) x"), "{}", m.subject);
        assert_eq!(m.subject.matches(DRY_RUN_MARK).count(), 1);
        assert!(m.subject.chars().count() <= SUBJECT_MAX);
        assert_eq!(m.outcome, "dry_run");
        assert_eq!(m.json["dry_run"], true);
    }

    #[test]
    fn subjects_fit_sns() {
        let long = "x".repeat(300);
        let s = subject_line(
            Severity::Sev2,
            "axiomcore-production/api",
            "scaled out 3→5",
            &long,
        );
        assert_eq!(s.chars().count(), SUBJECT_MAX);
        assert!(s.starts_with("[SEV2] axiomcore-production/api scaled out 3→5: x"));
        let s = subject_line(Severity::Sev1, "c/api", "restarted", "line\nbreak");
        assert!(!s.contains('\n'));
        assert_eq!(
            subject_line(
                Severity::Sev2,
                "axiomcore-production/api",
                "scaled out 3→5",
                "CPU > 90%"
            ),
            "[SEV2] axiomcore-production/api scaled out 3→5: CPU > 90%"
        );
    }
}
