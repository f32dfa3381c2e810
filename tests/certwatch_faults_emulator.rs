//! `certwatch` under faults the emulator cannot make (a proxy in front of it: throttling, an SNS
//! that does not answer) and over time: what was told is neither lost, nor told twice, nor left
//! open when nothing names it any more.

use axiom_ops::certwatch::CertwatchApp;
use axiom_ops::runtime::{Invocation, Job};
use integration_tests::certwatch::{app, certificate, inv, policy, run, schedule, seeded};
use integration_tests::{proxied, Env, TestResult};
use testkit::fault_proxy::{Fault, FaultProxy};
use testkit::pki::Pki;

type Setup<T> = Result<T, Box<dyn std::error::Error + Send + Sync>>;

/// The emulator, the database, a CA, and one certificate `days` from expiry imported into ACM.
async fn with_certificate(name: &str, days: i64) -> Setup<(Env, Pki, String)> {
    let (env, pki) = seeded().await?;
    let arn = certificate(&env, &pki, name, days, None).await;
    Ok((env, pki, arn))
}

/// certwatch watching `arn`, reaching AWS through a proxy that injects faults.
async fn through_proxy(env: &Env, pki: &Pki, arn: &str) -> Setup<(FaultProxy, CertwatchApp)> {
    let (proxy, sdk) = proxied(env).await?;
    let mut c = env.config(false);
    c.policy = policy(&[arn], &[], &[], pki);
    Ok((proxy, CertwatchApp::build(c, &sdk)?))
}

/// The next run tells one resolution, and nothing else.
async fn resolved_once(env: &Env, app: &CertwatchApp) {
    run(app, schedule()).await;
    let inbox = env.inbox().await;
    assert_eq!(inbox.len(), 1);
    assert!(
        inbox[0].subject.contains("resolved"),
        "{}",
        inbox[0].subject
    );
}

const DESCRIBE_CERTIFICATE: &str = "CertificateManager.DescribeCertificate";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_read_neither_ends_nor_retells_what_was_told() -> TestResult {
    let (env, pki, twenty) = with_certificate("twenty.axiomcore.test", 20).await?;
    let (proxy, app) = through_proxy(&env, &pki, &twenty).await?;

    run(&app, schedule()).await;
    let inbox = env.inbox().await;
    assert_eq!(inbox.len(), 1);
    assert_eq!(inbox[0].attributes["severity"], "SEV2");

    // ACM throttles every try: told (SEV3), and the run fails so Lambda retries it.
    proxy.inject(DESCRIBE_CERTIFICATE, Fault::Throttle, None);
    let e = app
        .handle(&schedule(), &inv(), false)
        .await
        .expect_err("unreadable");
    assert!(e.to_string().contains(&twenty), "{e}");
    let inbox = env.inbox().await;
    assert_eq!(inbox.len(), 1);
    assert_eq!(inbox[0].attributes["severity"], "SEV3");

    // Readable again, still 20 days out: the SEV2 was told already, nothing is said.
    proxy.clear();
    run(&app, schedule()).await;
    assert!(env.inbox().await.is_empty(), "the SEV2 is not told twice");
    // Renewed: resolved, once.
    certificate(&env, &pki, "twenty.axiomcore.test", 300, Some(&twenty)).await;
    resolved_once(&env, &app).await;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_notice_sns_did_not_take_is_sent_by_the_next_run_once() -> TestResult {
    let (env, pki, five) = with_certificate("five.axiomcore.test", 5).await?;
    let (proxy, app) = through_proxy(&env, &pki, &five).await?;

    proxy.inject("Publish", Fault::Unavailable, None);
    let e = app
        .handle(&schedule(), &inv(), false)
        .await
        .expect_err("the notice could not be sent");
    assert!(e.to_string().contains("notify"), "{e}");
    assert!(env.inbox().await.is_empty());

    // The retry (here: the next run, once the failed one's claim has lapsed) sends the kept
    // notice; it does not tell it again as new.
    proxy.clear();
    let later = Invocation {
        now: chrono::Utc::now() + chrono::TimeDelta::minutes(5),
        ..inv()
    };
    app.handle(&schedule(), &later, false).await?;
    let inbox = env.inbox().await;
    assert_eq!(
        inbox.len(),
        1,
        "{:?}",
        inbox.iter().map(|n| &n.subject).collect::<Vec<_>>()
    );
    assert_eq!(inbox[0].attributes["target"], five);
    assert_eq!(inbox[0].attributes["severity"], "SEV1");
    run(&app, schedule()).await;
    assert!(env.inbox().await.is_empty(), "sent once");
    Ok(())
}

#[tokio::test]
async fn what_nothing_names_any_more_is_resolved_once() -> TestResult {
    let (env, pki) = seeded().await?;
    let old = certificate(&env, &pki, "api.axiomcore.test", 5, None).await;
    let new = certificate(&env, &pki, "api.axiomcore.test", 300, None).await;
    run(&app(&env, policy(&[&old], &[], &[], &pki)), schedule()).await;
    assert_eq!(env.inbox().await.len(), 1);

    // The team swaps in a new certificate and the policy follows: the old one is no longer
    // watched, and its page ends.
    let swapped = app(&env, policy(&[&new], &[], &[], &pki));
    run(&swapped, schedule()).await;
    let inbox = env.inbox().await;
    assert_eq!(
        inbox.len(),
        1,
        "{:?}",
        inbox.iter().map(|n| &n.subject).collect::<Vec<_>>()
    );
    assert_eq!(inbox[0].attributes["target"], old);
    assert!(
        inbox[0].subject.contains("no longer watched"),
        "{}",
        inbox[0].subject
    );
    run(&swapped, schedule()).await;
    assert!(env.inbox().await.is_empty());
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_telling_sent_but_not_remembered_is_remembered_not_retold() -> TestResult {
    let (env, pki, five) = with_certificate("five.axiomcore.test", 5).await?;
    let (proxy, app) = through_proxy(&env, &pki, &five).await?;
    // Every write of what was told (the target's record and the registry) fails: the notice
    // has gone out by then.
    proxy.inject_when("PutItem", Some("\"told\""), Fault::Unavailable, None);
    let e = app
        .handle(&schedule(), &inv(), false)
        .await
        .expect_err("not remembered");
    assert!(e.to_string().contains("ledger"), "{e}");
    assert_eq!(env.inbox().await.len(), 1, "told");

    // The retry finds the same change, already told: it remembers it and says nothing more.
    proxy.clear();
    run(&app, schedule()).await;
    assert!(env.inbox().await.is_empty(), "not told twice");
    run(&app, schedule()).await;
    assert!(env.inbox().await.is_empty());
    // And it is remembered: a renewal resolves it.
    certificate(&env, &pki, "five.axiomcore.test", 300, Some(&five)).await;
    resolved_once(&env, &app).await;
    Ok(())
}
