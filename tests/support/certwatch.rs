//! Shared set-up of the certwatch suites: a policy watching what a test says, the function as
//! Lambda builds it, and its runs.

use axiom_ops::certwatch::CertwatchApp;
use axiom_ops::policy::{Policy, BUILT_IN};
use axiom_ops::runtime::{Invocation, Job};
use serde_json::Value;
use testkit::pki::{import, Pki};
use testkit::Received;

use super::Env;

pub const DB: &str = "axiomcore-production";

/// The built-in policy, watching what the test says, trusting the test's CA.
pub fn policy(acm: &[&str], load_balancers: &[&str], endpoints: &[String], pki: &Pki) -> Policy {
    trusting(acm, load_balancers, endpoints, Some(pki.ca_file()))
}

/// The same, with `ca` as its extra CA bundle, or none.
pub fn trusting(
    acm: &[&str],
    load_balancers: &[&str],
    endpoints: &[String],
    ca: Option<&std::path::Path>,
) -> Policy {
    let list = |v: Vec<String>| {
        v.iter()
            .map(|s| format!("{s:?}"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let mut section = format!(
        "acm = [{}]\nload_balancers = [{}]\nendpoints = [{}]",
        list(acm.iter().map(|s| s.to_string()).collect()),
        list(load_balancers.iter().map(|s| s.to_string()).collect()),
        list(endpoints.to_vec()),
    );
    if let Some(ca) = ca {
        section.push_str(&format!("\nextra_ca_file = {:?}", ca.display().to_string()));
    }
    let text = BUILT_IN.replace(
        "endpoints = [\"https://api.axiomcore.example.com\"]",
        &section,
    );
    assert_ne!(text, BUILT_IN, "the built-in policy names its endpoint");
    Policy::from_toml(&text, "test").expect("policy")
}

pub fn app(env: &Env, policy: Policy) -> CertwatchApp {
    let mut c = env.config(false);
    c.policy = policy;
    CertwatchApp::build(c, &env.sdk).expect("certwatch app")
}

pub fn inv() -> Invocation {
    Invocation::local("certwatch-test", std::time::Duration::from_secs(60))
}

pub async fn run(app: &CertwatchApp, payload: Value) -> Value {
    app.handle(&payload, &inv(), false)
        .await
        .expect("certwatch run")
}

pub fn to(inbox: &[Received], target: &str) -> Vec<Received> {
    inbox
        .iter()
        .filter(|n| n.attributes.get("target").map(String::as_str) == Some(target))
        .cloned()
        .collect()
}

pub fn schedule() -> Value {
    super::event("certwatch-schedule.json")
}

/// The emulator seeded with AxiomCore and its database, and a CA of the test's own.
pub async fn seeded() -> Result<(Env, Pki), testkit::BoxError> {
    let env = Env::start().await?;
    testkit::seed_database(&env.sdk, DB).await?;
    Ok((env, Pki::new()))
}

/// A certificate for `name`, `days` from expiry, imported into ACM (into `arn` when given: a
/// renewal in place); its ARN.
pub async fn certificate(env: &Env, pki: &Pki, name: &str, days: i64, arn: Option<&str>) -> String {
    import(&env.sdk, pki, &pki.leaf(&[name], days), arn).await
}
