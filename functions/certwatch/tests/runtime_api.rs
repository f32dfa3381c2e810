//! The `certwatch` binary itself under a Lambda Runtime API, against moto and a TLS endpoint of
//! the test's own: ACM's expiry event and the daily schedule page once, and an event it does not
//! take fails the invocation with an error naming what it expects.

use std::path::Path;
use std::time::Duration;

use serde_json::{json, Value};
use testkit::pki::{import, serve, Pki};
use testkit::runtime_api::{Answer, FunctionProcess, RuntimeApi};
use testkit::{self as emulator, Moto};

type TestResult = Result<(), Box<dyn std::error::Error + Send + Sync>>;

fn event(name: &str) -> Value {
    emulator::sample(name).expect("a sample of events/")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_binary_watches_acm_and_a_served_endpoint() -> TestResult {
    let moto = Moto::start()?;
    let sdk = moto.sdk_config().await;
    let seeded = emulator::seed(&sdk).await?;
    emulator::seed_database(&sdk, "axiomcore-production").await?;
    let pki = Pki::new();
    let soon = import(&sdk, &pki, &pki.leaf(&["api.axiomcore.test"], 5), None).await;
    let port = serve(&pki, &pki.leaf(&["localhost"], 3)).await;

    let dir = std::env::temp_dir().join(format!("certwatch-policy-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let policy = dir.join("policy.toml");
    std::fs::write(
        &policy,
        axiom_ops::policy::BUILT_IN.replace(
            "endpoints = [\"https://api.axiomcore.example.com\"]",
            &format!(
                "acm = [{soon:?}]\nendpoints = [\"https://localhost:{port}\"]\nextra_ca_file = {:?}",
                pki.ca_file().display().to_string()
            ),
        ),
    )?;
    let api = RuntimeApi::start().await?;
    let _f = FunctionProcess::spawn(
        Path::new(env!("CARGO_BIN_EXE_certwatch")),
        &api,
        &moto.endpoint(),
        &[
            ("OPS_TOPIC_ARN", seeded.topic_arn.as_str()),
            ("OPS_LEDGER_TABLE", seeded.table.as_str()),
            ("OPS_POLICY_FILE", policy.to_str().ok_or("path")?),
        ],
    )?;
    let wait = Duration::from_secs(60);

    let mut acm = event("certwatch-acm-expiring.json");
    acm["resources"] = json!([soon]);
    let id = api.push(acm, wait);
    let Some(Answer::Response(r)) = api.answer(&id, wait).await else {
        panic!("the ACM event: no response")
    };
    assert_eq!(r["checked"][0]["target"], soon.as_str(), "{r}");
    assert_eq!(r["checked"][0]["severity"], "SEV1", "{r}");

    let id = api.push(event("certwatch-schedule.json"), wait);
    let Some(Answer::Response(r)) = api.answer(&id, wait).await else {
        panic!("the schedule: no response")
    };
    let changes: Vec<(String, String)> = r["checked"]
        .as_array()
        .map(|rows| {
            rows.iter()
                .map(|row| {
                    (
                        row["target"].as_str().unwrap_or("").to_owned(),
                        row["change"].as_str().unwrap_or("").to_owned(),
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    let endpoint = format!("https://localhost:{port}");
    assert!(
        changes.contains(&(endpoint.clone(), "raised".into())),
        "{changes:?}"
    );
    let inbox = emulator::drain_inbox(&sdk, &seeded.inbox_url).await?;
    let told: Vec<(&str, &str)> = inbox
        .iter()
        .map(|n| {
            (
                n.attributes["target"].as_str(),
                n.attributes["severity"].as_str(),
            )
        })
        .collect();
    // The certificate was told of once (by the ACM event), the endpoint once (by the schedule).
    assert_eq!(told, [(soon.as_str(), "SEV1"), (endpoint.as_str(), "SEV1")]);

    let id = api.push(event("not-an-alarm.json"), wait);
    let Some(Answer::Error(e)) = api.answer(&id, wait).await else {
        panic!("expected the invocation to fail")
    };
    assert_eq!(e["errorType"], "ParseError", "{e}");
    assert!(
        e["errorMessage"]
            .as_str()
            .is_some_and(|m| m.contains("Scheduled Event") && m.contains("aws.acm")),
        "{e}"
    );
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}
