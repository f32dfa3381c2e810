//! The CLI's AWS-CLI habits, as a newcomer meets them: a policy checked and shown, fresh sample
//! events piped into `invoke -`, suggestions for typos, completions, no escape codes when piped,
//! and `emulator up` printing exports that `invoke` then works against.

use std::io::Write;
use std::process::{Command, Output, Stdio};

type TestResult = Result<(), Box<dyn std::error::Error + Send + Sync>>;

const BIN: &str = env!("CARGO_BIN_EXE_axiom-ops");

fn cli(args: &[&str], env: &[(&str, &str)], stdin: Option<&str>) -> std::io::Result<Output> {
    let mut c = Command::new(BIN);
    c.args(args)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .envs(env.iter().copied())
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = c.spawn()?;
    if let (Some(text), Some(mut input)) = (stdin, child.stdin.take()) {
        input.write_all(text.as_bytes())?;
    }
    child.wait_with_output()
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

#[test]
fn policy_validate_names_a_bad_field_and_show_prints_the_rules() -> TestResult {
    let o = cli(&["policy", "validate"], &[], None)?;
    assert!(
        o.status.success() && text(&o).contains("(built-in): valid"),
        "{}",
        text(&o)
    );
    let bad = std::env::temp_dir().join(format!("bad-policy-{}.toml", std::process::id()));
    std::fs::write(
        &bad,
        "[ecs]\ncluster = \"c\"\n[[ecs.services]]\nname = \"api\"\nmin = 3\nmax = 1\n",
    )?;
    let o = cli(
        &["policy", "validate", bad.to_str().ok_or("path")?],
        &[],
        None,
    )?;
    std::fs::remove_file(&bad)?;
    assert!(!o.status.success(), "{}", text(&o));
    assert!(
        text(&o).contains("ecs.services") && text(&o).contains("max 1 is below min 3"),
        "{}",
        text(&o)
    );
    let o = cli(&["policy", "show"], &[], None)?;
    assert!(o.status.success(), "{}", text(&o));
    assert!(
        text(&o).contains("*-down-critical") && text(&o).contains("restart"),
        "{}",
        text(&o)
    );
    let o = cli(&["policy", "show", "--json"], &[], None)?;
    let v: serde_json::Value = serde_json::from_slice(&o.stdout)?;
    assert_eq!(v["services"][0]["name"], "api", "{v}");
    Ok(())
}

/// `--output json|table` on any command: JSON a program parses, text a person reads; where
/// it has no meaning (a shell script, the demo's story), a clear error.
#[test]
fn output_json_or_table_on_every_command() -> TestResult {
    let json =
        |args: &[&str]| -> Result<serde_json::Value, Box<dyn std::error::Error + Send + Sync>> {
            let mut all = args.to_vec();
            all.extend(["--output", "json"]);
            let o = cli(&all, &[], None)?;
            assert!(o.status.success(), "{args:?}: {}", text(&o));
            Ok(serde_json::from_slice(&o.stdout)?)
        };
    assert_eq!(json(&["policy", "validate"])?["valid"], true);
    assert_eq!(
        json(&["policy", "show"])?["cluster"],
        "axiomcore-production"
    );
    let names = json(&["events"])?;
    assert!(names.as_array().is_some_and(|n| n.len() > 20), "{names}");
    let sample = json(&["events", "lambda-metric-alarm"])?;
    assert_eq!(sample["alarmData"]["state"]["value"], "ALARM");

    // The same sample for a person: its fields under their keys, every line within 100 columns.
    let o = cli(
        &["events", "lambda-metric-alarm", "--output", "table"],
        &[],
        None,
    )?;
    let t = String::from_utf8_lossy(&o.stdout);
    assert!(
        o.status.success() && t.contains("alarmData:") && t.contains("ALARM"),
        "{t}"
    );
    assert!(t.lines().all(|l| l.chars().count() <= 100), "{t}");
    let o = cli(&["policy", "validate", "--output", "table"], &[], None)?;
    assert!(text(&o).contains("(built-in): valid"), "{}", text(&o));

    for args in [&["completions", "bash"][..], &["demo"][..]] {
        let mut all = args.to_vec();
        all.extend(["--output", "json"]);
        let o = cli(&all, &[], None)?;
        assert!(
            !o.status.success() && text(&o).contains("--output has no meaning here"),
            "{args:?}: {}",
            text(&o)
        );
    }
    // The stack's names, from its environment, in place of the policy's; a bad one is named.
    let staging = [
        ("OPS_CLUSTER", "axiomcore-staging"),
        ("OPS_API_URL", "https://api.staging.axiomcore.com"),
    ];
    let o = cli(&["policy", "show", "--output", "json"], &staging, None)?;
    let v: serde_json::Value = serde_json::from_slice(&o.stdout)?;
    assert_eq!(v["cluster"], "axiomcore-staging", "{v}");
    assert!(
        v.to_string()
            .contains("https://api.staging.axiomcore.com/health"),
        "{v}"
    );
    let o = cli(
        &["policy", "validate"],
        &[("OPS_API_URL", "http://api")],
        None,
    )?;
    assert!(
        !o.status.success() && text(&o).contains("OPS_API_URL") && text(&o).contains("https://"),
        "{}",
        text(&o)
    );
    let o = cli(&["policy", "show", "--output", "yaml"], &[], None)?;
    assert!(
        !o.status.success() && text(&o).contains("possible values: json, table"),
        "{}",
        text(&o)
    );
    Ok(())
}

#[test]
fn typos_get_suggestions_and_nothing_is_colored_when_piped() -> TestResult {
    let o = cli(&["ledgr"], &[], None)?;
    assert!(!o.status.success());
    assert!(text(&o).contains("ledger"), "{}", text(&o));
    let o = cli(&["invoke", "remediate", "x.json", "--dryrun"], &[], None)?;
    assert!(text(&o).contains("--dry-run"), "{}", text(&o));
    let o = cli(&["completions", "bash"], &[], None)?;
    assert!(
        o.status.success() && text(&o).contains("axiom-ops"),
        "{}",
        text(&o)
    );
    // Without credentials or a region: one line saying so, no escape codes, no SDK warnings.
    let o = cli(
        &["ledger", "axiomcore-production/api"],
        &[
            ("OPS_LEDGER_TABLE", "t"),
            ("AWS_EC2_METADATA_DISABLED", "true"),
        ],
        None,
    )?;
    assert!(!o.status.success());
    assert!(!text(&o).contains('\u{1b}'), "{}", text(&o));
    assert!(text(&o).lines().count() <= 3, "{}", text(&o));
    Ok(())
}

#[test]
fn events_now_are_fresh_and_every_sample_is_listed() -> TestResult {
    let o = cli(&["events"], &[], None)?;
    let listed = String::from_utf8_lossy(&o.stdout).lines().count();
    let on_disk = std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/../events"))?
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().ends_with(".json"))
        .count();
    assert_eq!(listed, on_disk);
    let o = cli(&["events", "eventbridge-metric-alarm", "--now"], &[], None)?;
    let v: serde_json::Value = serde_json::from_slice(&o.stdout)?;
    let t = v["detail"]["state"]["timestamp"]
        .as_str()
        .ok_or("timestamp")?;
    assert!(
        t.starts_with(&chrono::Utc::now().format("%Y-%m-%d").to_string()),
        "{t}"
    );
    let o = cli(&["events", "eventbridge-metric-alrm"], &[], None)?;
    assert!(
        !o.status.success() && text(&o).contains("did you mean"),
        "{}",
        text(&o)
    );
    Ok(())
}

/// `emulator up`, then what it printed, used as an operator would: `eval` the exports, invoke.
#[cfg(feature = "demo")]
#[test]
fn emulator_up_prints_exports_that_invoke_works_against() -> TestResult {
    use std::io::{BufRead, BufReader};
    let mut up = Command::new(BIN)
        .args(["emulator", "up"])
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .current_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/.."))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()?;
    let mut exports: Vec<(String, String)> = Vec::new();
    let stdout = up.stdout.take().ok_or("stdout")?;
    for line in BufReader::new(stdout).lines() {
        let line = line?;
        for pair in line.trim_start_matches("export ").split(' ') {
            if let Some((k, v)) = pair.split_once('=') {
                exports.push((k.to_owned(), v.to_owned()));
            }
        }
        if line.contains("OPS_BACKUP_BUCKET") {
            break;
        }
    }
    let env: Vec<(&str, &str)> = exports
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let tick = cli(&["events", "schedule-rule", "--now"], &[], None)?;
    let o = cli(
        &["invoke", "backup", "-"],
        &env,
        Some(&String::from_utf8_lossy(&tick.stdout)),
    )?;
    let incidents = cli(&["incidents", "--json"], &env, None)?;
    let _ = Command::new("kill")
        .args(["-INT", &up.id().to_string()])
        .status();
    let stopped = up.wait()?;
    assert!(o.status.success(), "{}", text(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout)?;
    assert_eq!(v["sources"][0]["outcome"], "stored", "{v}");
    assert!(incidents.status.success(), "{}", text(&incidents));
    assert!(stopped.success(), "Ctrl-C stops it cleanly");
    Ok(())
}

/// `make demo | cat`, as a person reads it: every line fits 100 columns, no escape codes, a
/// repeated warning said once, one clock for the story, and a closing summary.
#[cfg(feature = "demo")]
#[test]
fn the_demo_reads_on_a_100_column_pipe() -> TestResult {
    // The story's day: the one it began on, or the next when it ran over midnight.
    let days = [
        chrono::Utc::now(),
        chrono::Utc::now() + chrono::Duration::minutes(5),
    ]
    .map(|t| t.format("%Y-%m-%d ").to_string());
    let o = Command::new(BIN)
        .arg("demo")
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .current_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/.."))
        .stdin(Stdio::null())
        .output()?;
    let (out, err) = (
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr),
    );
    assert!(o.status.success(), "{out}{err}");
    for line in out.lines().chain(err.lines()) {
        assert!(line.chars().count() <= 100, "over 100 columns: {line:?}");
        assert!(!line.contains('\u{1b}'), "an escape code: {line:?}");
    }
    let mut said = std::collections::HashSet::new();
    for line in err.lines().filter(|l| l.starts_with("axiom-ops: warning")) {
        assert!(said.insert(line), "said twice: {line}");
    }
    // One clock: the samples' own day (2026-11-20) never shows; the story's times are today's.
    assert!(
        !out.contains("2026-11-20T") && !out.contains("20/11/26"),
        "{out}"
    );
    assert!(days.iter().any(|d| out.contains(d.as_str())), "{out}");
    assert!(
        out.contains("restart suppressed") && out.contains("(cooldown 10m)"),
        "{out}"
    );
    let summary = out
        .split("What happened")
        .nth(1)
        .ok_or("no closing summary")?;
    assert!(summary.contains("each handled once"), "{summary}");
    assert!(
        summary.contains("api 3→5→3 tasks and restarted once"),
        "{summary}"
    );
    Ok(())
}
