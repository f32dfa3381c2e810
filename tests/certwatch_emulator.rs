//! `certwatch` against moto and a TLS endpoint of the test's own: certificates made here with
//! chosen expiry dates (rcgen), imported into the emulator's ACM and served on 127.0.0.1. What it
//! tells, once, and what shadow runs and previews leave alone.

use axiom_ops::certwatch::CertwatchApp;
use axiom_ops::runtime::Job;
use integration_tests::certwatch::{app, certificate, inv, policy, run, schedule, seeded, to, DB};
use integration_tests::TestResult;
use serde_json::Value;
use testkit::pki::serve;

#[tokio::test]
async fn expiring_certificates_page_once_by_threshold_and_once_when_resolved() -> TestResult {
    let (env, pki) = seeded().await?;
    let five = certificate(&env, &pki, "five.axiomcore.test", 5, None).await;
    let twenty = certificate(&env, &pki, "twenty.axiomcore.test", 20, None).await;
    // ACM's certificate for the endpoint is healthy; the endpoint serves another, 3 days from
    // expiry.
    let healthy = certificate(&env, &pki, "localhost", 200, None).await;
    let port = serve(&pki, &pki.leaf(&["localhost"], 3)).await;
    let endpoint = format!("https://localhost:{port}");
    let app = app(
        &env,
        policy(
            &[&five, &twenty, &healthy],
            &[],
            std::slice::from_ref(&endpoint),
            &pki,
        ),
    );

    let answer = run(&app, schedule()).await;
    let inbox = env.inbox().await;
    let subjects: Vec<&str> = inbox.iter().map(|n| n.subject.as_str()).collect();
    assert_eq!(inbox.len(), 3, "{subjects:?}");

    let n = &to(&inbox, &five)[0];
    assert_eq!(n.attributes["severity"], "SEV1");
    assert!(
        n.subject
            .starts_with("[SEV1] certificate five.axiomcore.test expires in 5 days"),
        "{}",
        n.subject
    );
    let next = n.message["finding"]["conditions"][0]["next"]
        .as_str()
        .unwrap_or("");
    assert!(
        next.contains("import-certificate") && next.contains(&five),
        "{next}"
    );
    assert_eq!(n.attributes["action"], "notify");
    assert_eq!(n.attributes["outcome"], "no_action");

    let n = &to(&inbox, &twenty)[0];
    assert_eq!(n.attributes["severity"], "SEV2");
    assert!(n.subject.contains("expires in 20 days"), "{}", n.subject);

    assert!(
        to(&inbox, &healthy).is_empty(),
        "a healthy certificate is silent"
    );

    let n = &to(&inbox, &endpoint)[0];
    assert_eq!(n.attributes["severity"], "SEV1");
    assert!(n.subject.contains("expires in 3 days"), "{}", n.subject);
    let body = &n.message;
    let codes: Vec<&str> = body["finding"]["conditions"]
        .as_array()
        .map(|c| c.iter().filter_map(|c| c["code"].as_str()).collect())
        .unwrap_or_default();
    assert_eq!(codes, ["expires-under-7d", "not-acm-certificate"]);
    assert_eq!(
        body["finding"]["facts"]["expected"][0],
        healthy.as_str(),
        "names ACM's certificate"
    );
    // The chain verified against the policy's CA bundle: served, not untrusted.
    assert!(body["finding"]["facts"]["served"]["untrusted"].is_null());

    let rows = answer["checked"].as_array().cloned().unwrap_or_default();
    let days: Vec<(String, Value)> = rows
        .iter()
        .map(|r| {
            (
                r["target"].as_str().unwrap_or("").to_owned(),
                r["days"].clone(),
            )
        })
        .collect();
    assert!(days.contains(&(five.clone(), 5.into())), "{days:?}");
    assert!(days.contains(&(endpoint.clone(), 3.into())), "{days:?}");
    // The database is checked too (the emulator reports no certificate validity: nothing to say).
    assert!(days.iter().any(|(t, _)| t == DB));

    // Run again, and again: nothing new, nothing said.
    run(&app, schedule()).await;
    run(&app, schedule()).await;
    assert!(env.inbox().await.is_empty(), "repeated runs repeat nothing");

    // The 20-day certificate is renewed in place (re-imported under its ARN): told once.
    certificate(&env, &pki, "twenty.axiomcore.test", 300, Some(&twenty)).await;
    run(&app, schedule()).await;
    let inbox = env.inbox().await;
    assert_eq!(
        inbox.len(),
        1,
        "{:?}",
        inbox.iter().map(|n| &n.subject).collect::<Vec<_>>()
    );
    assert_eq!(inbox[0].attributes["target"], twenty);
    assert_eq!(
        inbox[0].attributes["severity"], "SEV2",
        "resolved at the severity told"
    );
    assert!(
        inbox[0].subject.contains("resolved: expires in 300 days"),
        "{}",
        inbox[0].subject
    );
    run(&app, schedule()).await;
    assert!(env.inbox().await.is_empty(), "a resolution is told once");

    // Each announcement is in the ledger.
    let history = env.history(&format!("certwatch#{twenty}")).await;
    let changes: Vec<&str> = history
        .iter()
        .filter_map(|h| h["change"].as_str())
        .collect();
    assert_eq!(changes, ["raised", "resolved"]);
    Ok(())
}

#[tokio::test]
async fn an_acm_event_is_checked_against_acm_itself() -> TestResult {
    let (env, pki) = seeded().await?;
    let five = certificate(&env, &pki, "five.axiomcore.test", 5, None).await;
    let unused = certificate(&env, &pki, "old.axiomcore.test", 5, None).await;
    let app = app(&env, policy(&[&five], &[], &[], &pki));
    // A certificate nothing names and nothing uses: ACM's event about it tells nothing.
    let mut event = integration_tests::event("certwatch-acm-expiring.json");
    event["resources"] = serde_json::json!([unused]);
    run(&app, event).await;
    assert!(env.inbox().await.is_empty());
    let mut event = integration_tests::event("certwatch-acm-expiring.json");
    // The event says 31 days; ACM says 5.
    event["resources"] = serde_json::json!([five]);
    event["account"] = "123456789012".into();
    let answer = run(&app, event).await;
    assert_eq!(
        answer["checked"].as_array().map(Vec::len),
        Some(1),
        "{answer}"
    );
    let inbox = env.inbox().await;
    assert_eq!(inbox.len(), 1);
    assert_eq!(inbox[0].attributes["severity"], "SEV1");
    assert_eq!(inbox[0].attributes["target"], five);

    let e = app
        .handle(
            &integration_tests::event("not-an-alarm.json"),
            &inv(),
            false,
        )
        .await
        .expect_err("not ours");
    assert!(
        e.to_string()
            .contains("ACM Certificate Approaching Expiration"),
        "{e}"
    );
    Ok(())
}

#[tokio::test]
async fn shadow_runs_and_previews_keep_out_of_the_live_record() -> TestResult {
    let (env, pki) = seeded().await?;
    let five = certificate(&env, &pki, "five.axiomcore.test", 5, None).await;
    let policy = policy(&[&five], &[], &[], &pki);

    // A shadow deployment (OPS_DRY_RUN): told, marked as a dry run, remembered on its own.
    let mut c = env.config(true);
    c.policy = policy.clone();
    let shadow = CertwatchApp::build(c, &env.sdk)?;
    run(&shadow, schedule()).await;
    let inbox = env.inbox().await;
    assert_eq!(inbox.len(), 1);
    assert!(
        inbox[0]
            .subject
            .starts_with("[SEV1] (dry run) certificate five"),
        "{}",
        inbox[0].subject
    );
    assert_eq!(inbox[0].attributes["outcome"], "dry_run");
    run(&shadow, schedule()).await;
    assert!(
        env.inbox().await.is_empty(),
        "a shadow run does not repeat itself either"
    );

    // The live function still tells: the shadow's record is not the live one.
    let live = app(&env, policy.clone());
    run(&live, schedule()).await;
    let inbox = env.inbox().await;
    assert_eq!(inbox.len(), 1);
    assert_eq!(inbox[0].attributes["outcome"], "no_action");

    // A preview (`axiom-ops invoke certwatch --dry-run --no-notify`) compares with the live
    // record, publishes nothing and writes nothing.
    let mut c = env.config(false);
    c.policy = policy;
    c.preview = true;
    c.print_notices = true;
    let preview = CertwatchApp::build(c, &env.sdk)?;
    let answer = run(&preview, schedule()).await;
    assert_eq!(answer["checked"][0]["change"], "quiet", "{answer}");
    assert!(env.inbox().await.is_empty());
    let before = env.history(&format!("certwatch#{five}")).await.len();
    certificate(&env, &pki, "five.axiomcore.test", 300, Some(&five)).await;
    let answer = run(&preview, schedule()).await;
    assert_eq!(answer["checked"][0]["change"], "resolved", "{answer}");
    assert!(env.inbox().await.is_empty(), "a preview prints its notices");
    assert_eq!(
        env.history(&format!("certwatch#{five}")).await.len(),
        before,
        "and writes nothing"
    );
    run(&live, schedule()).await;
    assert_eq!(
        env.inbox().await.len(),
        1,
        "so the live run still tells the resolution"
    );
    Ok(())
}
