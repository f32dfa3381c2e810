//! `--output json|table`, the AWS CLI's habit, on every command: JSON for a program (the same
//! document whatever the terminal), text for a person (long lines wrapped to the terminal's
//! width under their own indentation: nothing a person may need to copy is cut).
//! A command with a text of its own gives it; any other JSON is drawn by `table`: scalars as
//! `key  value` lines, a list of objects as one table, nested objects under their key.

use clap::ValueEnum;
use serde_json::Value;

use crate::text::{self, Table};

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Output {
    Json,
    Table,
}

impl Output {
    /// What was asked (`--output`, else a command's own `--json`), else the command's default.
    pub fn pick(asked: Option<Output>, json_flag: bool, default: Output) -> Output {
        match (asked, json_flag) {
            (Some(o), _) => o,
            (None, true) => Output::Json,
            (None, false) => default,
        }
    }

    /// Prints `doc` as JSON, or `text` (a command's own wording of it) fitted to the width.
    pub fn print(self, doc: &Value, text: impl FnOnce() -> String) -> anyhow::Result<()> {
        match self {
            Output::Json => println!("{}", serde_json::to_string_pretty(doc)?),
            Output::Table => print!("{}", text::reflow(&text(), text::width())),
        }
        Ok(())
    }

    /// Prints `doc` as JSON or as `table` draws it.
    pub fn print_doc(self, doc: &Value) -> anyhow::Result<()> {
        self.print(doc, || table(doc))
    }
}

/// Any JSON for a person: an object's scalars as aligned `key  value` lines, then each nested
/// object or list under its key, indented; a list of objects as one table whose columns are
/// their scalar fields.
pub fn table(doc: &Value) -> String {
    let mut out = String::new();
    draw(doc, "", &mut out);
    out
}

fn draw(v: &Value, indent: &str, out: &mut String) {
    match v {
        Value::Object(o) => {
            let scalars: Vec<(&String, &Value)> = o.iter().filter(|(_, v)| is_scalar(v)).collect();
            let width = scalars
                .iter()
                .map(|(k, _)| text::columns(k))
                .max()
                .unwrap_or(0);
            for (k, v) in &scalars {
                let pad = " ".repeat(width - text::columns(k));
                out.push_str(&format!("{indent}{k}{pad}  {}\n", scalar(v)));
            }
            for (k, v) in o.iter().filter(|(_, v)| !is_scalar(v)) {
                out.push_str(&format!("{indent}{k}:\n"));
                draw(v, &format!("{indent}  "), out);
            }
        }
        Value::Array(items) if items.iter().all(Value::is_object) && !items.is_empty() => {
            let mut columns: Vec<&str> = Vec::new();
            for item in items.iter().filter_map(Value::as_object) {
                for (k, v) in item {
                    if is_scalar(v) && !columns.contains(&k.as_str()) {
                        columns.push(k);
                    }
                }
            }
            let mut t = Table::new(&columns);
            for item in items {
                t.row(columns.iter().map(|c| scalar(&item[*c])).collect());
            }
            for line in t.render(usize::MAX).lines() {
                out.push_str(&format!("{indent}{line}\n"));
            }
        }
        Value::Array(items) => {
            for item in items {
                if is_scalar(item) {
                    out.push_str(&format!("{indent}{}\n", scalar(item)));
                } else {
                    out.push_str(&format!("{indent}-\n"));
                    draw(item, &format!("{indent}  "), out);
                }
            }
        }
        other => out.push_str(&format!("{indent}{}\n", scalar(other))),
    }
}

fn is_scalar(v: &Value) -> bool {
    !(v.is_object() || v.is_array()) || v.as_array().is_some_and(|a| a.iter().all(is_scalar))
}

/// A scalar as a person reads it: text unquoted, null as `-`, a list of scalars joined.
fn scalar(v: &Value) -> String {
    match v {
        Value::Null => "-".into(),
        Value::String(s) => s.clone(),
        Value::Array(a) => a.iter().map(scalar).collect::<Vec<_>>().join(", "),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn any_json_is_drawn_for_a_person() {
        // Keys in alphabetical order: serde_json keeps them in that order with or without its
        // `preserve_order` feature (which the workspace's test build turns on).
        let doc = json!({
            "dry_run": false,
            "firing": ["a", "b"],
            "function": "remediate",
            "pause": { "by": "alice", "until": "2026-11-27T12:00:00Z" },
            "results": [
                { "action": "restart", "outcome": "done", "target": "c/api" },
                { "action": "none", "note": null, "target": "c/web" }
            ]
        });
        let text = table(&doc);
        assert_eq!(
            text,
            "dry_run   false\n\
             firing    a, b\n\
             function  remediate\n\
             pause:\n  \
               by     alice\n  \
               until  2026-11-27T12:00:00Z\n\
             results:\n  \
               action   outcome  target  note\n  \
               restart  done     c/api   -\n  \
               none     -        c/web   -\n"
        );
    }

    #[test]
    fn what_was_asked_wins_over_a_commands_default() {
        assert_eq!(Output::pick(None, false, Output::Table), Output::Table);
        assert_eq!(Output::pick(None, true, Output::Table), Output::Json);
        assert_eq!(
            Output::pick(Some(Output::Table), true, Output::Json),
            Output::Table
        );
        assert_eq!(
            Output::pick(Some(Output::Json), false, Output::Table),
            Output::Json
        );
    }
}
