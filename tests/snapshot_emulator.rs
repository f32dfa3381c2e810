//! `snapshot` against moto: weeks of daily ticks under a moving clock, the keep-set restic's rules
//! give, both schedule shapes, and the loud failure on a missing database. Paging and quotas,
//! which the emulator cannot do, against the SDK's own test tooling.

use std::collections::BTreeSet;

use aws_sdk_rds::types::Tag;
use axiom_ops::adapters::dynamodb::DynamoLedger;
use axiom_ops::adapters::rds::RdsSnapshots;
use axiom_ops::adapters::sdk::Budget;
use axiom_ops::adapters::sns::SnsNotifier;
use axiom_ops::policy::Policy;
use axiom_ops::ports::Snapshots;
use axiom_ops::retention::{plan, Snap};
use axiom_ops::runtime::Invocation;
use axiom_ops::runtime::{Config, Job};
use axiom_ops::snapshot::{SnapshotApp, SnapshotJob};
use chrono::{DateTime, Duration, TimeZone, Utc};
use integration_tests::{event, Env, TestResult};
use serde_json::{json, Value};

const DB: &str = "axiomcore-production";

fn day0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 8, 1, 2, 0, 0)
        .single()
        .expect("valid")
}

fn app(env: &Env, policy: Option<Policy>) -> SnapshotApp {
    let mut c: Config = env.config(false);
    if let Some(p) = policy {
        c.policy = p;
    }
    SnapshotApp::build(c, &env.sdk).expect("snapshot app")
}

fn tick(shape: &str, t: DateTime<Utc>) -> Value {
    let mut v = event(shape);
    // Envelopes and our Input both carry the tick in `time`.
    v["time"] = Value::String(t.format("%Y-%m-%dT%H:%M:%SZ").to_string());
    v
}

fn inv() -> Invocation {
    Invocation::local("snapshot-test", std::time::Duration::from_secs(60))
}

/// Every snapshot of the instance: (id, created, managed tag?).
async fn all_snapshots(env: &Env) -> Vec<(String, DateTime<Utc>, bool)> {
    let rds = aws_sdk_rds::Client::new(&env.sdk);
    let out = rds
        .describe_db_snapshots()
        .db_instance_identifier(DB)
        .send()
        .await
        .expect("describe");
    out.db_snapshots()
        .iter()
        .map(|s| {
            let t = s.snapshot_create_time().expect("created");
            (
                s.db_snapshot_identifier().unwrap_or_default().to_owned(),
                DateTime::<Utc>::from_timestamp(t.secs(), 0).expect("time"),
                s.tag_list()
                    .iter()
                    .any(|t| t.key() == Some("managed-by") && t.value() == Some("axiom-ops")),
            )
        })
        .collect()
}

async fn unmanaged_snapshot(env: &Env, id: &str, tags: Vec<Tag>) {
    aws_sdk_rds::Client::new(&env.sdk)
        .create_db_snapshot()
        .db_instance_identifier(DB)
        .db_snapshot_identifier(id)
        .set_tags(Some(tags))
        .send()
        .await
        .expect("create unmanaged snapshot");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn weeks_of_ticks_leave_exactly_restics_keep_set_and_every_unmanaged_snapshot() -> TestResult
{
    let env = Env::start_frozen(day0()).await?;
    let app = app(&env, None);
    // Snapshots that are not ours: a hand-made one (the guide's manual name), and one named like
    // ours but without the tag. Neither may ever be deleted.
    unmanaged_snapshot(&env, "axiomcore-manual-20260801-120000", vec![]).await;
    unmanaged_snapshot(
        &env,
        "axiomcore-production-auto-20260101-000000",
        vec![Tag::builder().key("team").value("sre").build()],
    )
    .await;

    let keep = app.config.policy.snapshots.keep;
    let mut expected: Vec<Snap> = Vec::new();
    let mut created = 0;
    let days = 75;
    for d in 0..days {
        let t = day0() + Duration::days(d);
        env.moto.set_clock(t)?;
        let shape = if d % 2 == 0 {
            "schedule-rule.json"
        } else {
            "schedule-scheduler.json"
        };
        let r = app.handle(&tick(shape, t), &inv(), false).await?;
        let db = &r["databases"][0];
        if db["created"] == true {
            created += 1;
        }
        // The same tick again (a retry, or both schedulers): nothing more.
        if d % 7 == 0 {
            let again = app
                .handle(&tick("schedule-rule.json", t), &inv(), false)
                .await?;
            assert_eq!(again["databases"][0]["duplicate"], true, "{again}");
        }
        // What restic's rules keep, applied the same way day by day.
        expected.push(Snap {
            id: format!("{DB}-auto-{}", t.format("%Y%m%d-%H%M%S")),
            created: t,
        });
        expected = plan(&expected, &keep, Utc::now())
            .into_iter()
            .filter(|v| v.keep())
            .map(|v| Snap {
                id: v.id,
                created: v.created,
            })
            .collect();
    }
    assert_eq!(created, days, "exactly one snapshot per tick");

    let all = all_snapshots(&env).await;
    let managed: BTreeSet<String> = all.iter().filter(|s| s.2).map(|s| s.0.clone()).collect();
    let want: BTreeSet<String> = expected.iter().map(|s| s.id.clone()).collect();
    assert_eq!(
        managed, want,
        "the managed snapshots left are restic's keep-set"
    );
    // 7 daily + 4 weekly + monthly over 75 days (some coincide): far fewer than 75.
    assert!(
        managed.len() < 20 && managed.len() >= 7,
        "{}",
        managed.len()
    );
    let ids: BTreeSet<&str> = all.iter().map(|s| s.0.as_str()).collect();
    assert!(ids.contains("axiomcore-manual-20260801-120000"));
    assert!(ids.contains("axiomcore-production-auto-20260101-000000"));
    // Success is not announced.
    assert!(env.inbox().await.is_empty());
    // Every run is in the ledger.
    assert!(env.history(&format!("snapshot#{DB}")).await.len() >= days as usize);
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn copies_go_to_the_dr_region_tagged_and_are_retained_there() -> TestResult {
    let env = Env::start_frozen(day0()).await?;
    let text = axiom_ops::policy::BUILT_IN.replace(
        "# copy_to_region = \"us-west-2\"",
        "copy_to_region = \"us-west-2\"",
    );
    let app = app(&env, Some(Policy::from_toml(&text, "test")?));
    let days = 30;
    for d in 0..days {
        let t = day0() + Duration::days(d);
        env.moto.set_clock(t)?;
        let r = app
            .handle(&tick("schedule-rule.json", t), &inv(), false)
            .await?;
        assert!(
            r["databases"][0]["dr_copy"]
                .as_str()
                .is_some_and(|c| c.starts_with("us-west-2:")),
            "{r}"
        );
    }
    let here: BTreeSet<String> = all_snapshots(&env)
        .await
        .into_iter()
        .filter(|s| s.2)
        .map(|s| s.0)
        .collect();
    let dr_conf = aws_sdk_rds::config::Builder::from(&env.sdk)
        .region(aws_sdk_rds::config::Region::new("us-west-2"))
        .build();
    let dr = aws_sdk_rds::Client::from_conf(dr_conf);
    let out = dr
        .describe_db_snapshots()
        .snapshot_type("manual")
        .send()
        .await?;
    let copies: BTreeSet<String> = out
        .db_snapshots()
        .iter()
        .filter(|s| {
            s.tag_list()
                .iter()
                .any(|t| t.key() == Some("managed-by") && t.value() == Some("axiom-ops"))
        })
        .filter_map(|s| s.db_snapshot_identifier().map(str::to_owned))
        .collect();
    assert_eq!(
        copies, here,
        "the DR region keeps the same set, tags carried"
    );
    assert!(copies.len() < days as usize, "retention ran there too");
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn aurora_clusters_are_snapshotted_and_retained_too() -> TestResult {
    let env = Env::start_frozen(day0()).await?;
    let rds = aws_sdk_rds::Client::new(&env.sdk);
    rds.create_db_cluster()
        .db_cluster_identifier("axiomcore-aurora")
        .engine("aurora-postgresql")
        .master_username("axiomcore")
        .master_user_password("not-a-real-secret-1")
        .send()
        .await?;
    let text = axiom_ops::policy::BUILT_IN.replace(
        "[[databases]]\nid = \"axiomcore-production\"\nkind = \"instance\"",
        "[[databases]]\nid = \"axiomcore-production\"\nkind = \"instance\"\n\n[[databases]]\nid = \"axiomcore-aurora\"\nkind = \"cluster\"",
    );
    let app = app(&env, Some(Policy::from_toml(&text, "test")?));
    for d in 0..20 {
        let t = day0() + Duration::days(d);
        env.moto.set_clock(t)?;
        let r = app
            .handle(&tick("schedule-rule.json", t), &inv(), false)
            .await?;
        assert_eq!(r["databases"].as_array().map(Vec::len), Some(2), "{r}");
    }
    let out = rds
        .describe_db_cluster_snapshots()
        .db_cluster_identifier("axiomcore-aurora")
        .snapshot_type("manual")
        .send()
        .await?;
    let managed: Vec<&str> = out
        .db_cluster_snapshots()
        .iter()
        .filter(|s| s.tag_list().iter().any(|t| t.key() == Some("managed-by")))
        .filter_map(|s| s.db_cluster_snapshot_identifier())
        .collect();
    assert!(
        managed
            .iter()
            .all(|id| id.starts_with("axiomcore-aurora-auto-")),
        "{managed:?}"
    );
    assert!(
        managed.len() >= 7 && managed.len() < 20,
        "created daily, retained: {}",
        managed.len()
    );
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_missing_database_fails_loudly_and_deletes_nothing() -> TestResult {
    let env = Env::start_frozen(day0()).await?;
    let normal = app(&env, None);
    for d in 0..20 {
        let t = day0() + Duration::days(d);
        env.moto.set_clock(t)?;
        normal
            .handle(&tick("schedule-rule.json", t), &inv(), false)
            .await?;
    }
    let before: BTreeSet<String> = all_snapshots(&env).await.into_iter().map(|s| s.0).collect();

    // The policy now also lists a database that does not exist.
    let text = axiom_ops::policy::BUILT_IN.replace(
        "[[databases]]\nid = \"axiomcore-production\"",
        "[[databases]]\nid = \"axiomcore-analytics\"\n\n[[databases]]\nid = \"axiomcore-production\"",
    );
    let broken = app(&env, Some(Policy::from_toml(&text, "test")?));
    let t = day0() + Duration::days(40);
    env.moto.set_clock(t)?;
    let err = broken
        .handle(&tick("schedule-rule.json", t), &inv(), false)
        .await
        .expect_err("fails loudly");
    assert!(
        err.to_string().contains("axiomcore-analytics")
            && err.to_string().contains("no retention ran"),
        "{err}"
    );

    let after: BTreeSet<String> = all_snapshots(&env).await.into_iter().map(|s| s.0).collect();
    assert!(
        after.is_superset(&before),
        "nothing deleted: {:?}",
        before.difference(&after).collect::<Vec<_>>()
    );
    assert_eq!(
        after.len(),
        before.len() + 1,
        "production still got today's snapshot"
    );

    let notices = env.inbox().await;
    assert_eq!(notices.len(), 1, "{notices:?}");
    assert!(
        notices[0]
            .subject
            .starts_with("[SEV2] axiomcore-analytics snapshot FAILED"),
        "{}",
        notices[0].subject
    );
    assert_eq!(
        notices[0].attributes.get("outcome").map(String::as_str),
        Some("failed")
    );
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn inputs_outside_the_policy_and_bad_events_change_nothing() -> TestResult {
    let env = Env::start_frozen(day0()).await?;
    let app = app(&env, None);
    let before = all_snapshots(&env).await.len();
    let err = app
        .handle(&json!({"databases": ["customers-prod"]}), &inv(), false)
        .await
        .expect_err("not allowed");
    assert!(err.to_string().contains("customers-prod"), "{err}");
    let err = app
        .handle(&event("eventbridge-metric-alarm.json"), &inv(), false)
        .await
        .expect_err("not a schedule");
    assert!(err.to_string().contains("Scheduled Event"), "{err}");
    assert_eq!(all_snapshots(&env).await.len(), before);

    // An Input naming the database, with its own time: the tick is that time.
    let r = app
        .handle(&event("schedule-input.json"), &inv(), false)
        .await?;
    assert_eq!(
        r["databases"][0]["snapshot"], "axiomcore-production-auto-20261128-020000",
        "{r}"
    );
    assert_eq!(r["tick_from"], "input");

    // A dry run decides, creates and deletes nothing.
    let r = app
        .handle(
            &tick("schedule-rule.json", day0() + Duration::days(3)),
            &inv(),
            true,
        )
        .await?;
    assert_eq!(r["databases"][0]["dry_run"], true);
    assert_eq!(all_snapshots(&env).await.len(), before + 1);
    Ok(())
}

// ---- where the emulator cannot go: paging and quotas, on the SDK's own test tooling ----------

mod mocked {
    use super::*;
    use aws_sdk_rds::operation::create_db_snapshot::CreateDbSnapshotOutput;
    use aws_sdk_rds::operation::delete_db_snapshot::DeleteDbSnapshotOutput;
    use aws_sdk_rds::operation::describe_account_attributes::DescribeAccountAttributesOutput;
    use aws_sdk_rds::operation::describe_db_instances::DescribeDbInstancesOutput;
    use aws_sdk_rds::operation::describe_db_snapshots::DescribeDbSnapshotsOutput;
    use aws_sdk_rds::types::{AccountQuota, DbInstance, DbSnapshot};
    use aws_smithy_mocks::{mock, mock_client, RuleMode};

    fn snap(i: usize, managed: bool) -> DbSnapshot {
        let created = day0() + Duration::hours(i as i64 * 6);
        let mut b = DbSnapshot::builder()
            .db_snapshot_identifier(format!("{DB}-auto-{}", created.format("%Y%m%d-%H%M%S")))
            .db_snapshot_arn(format!(
                "arn:aws:rds:us-east-1:123456789012:snapshot:{DB}-{i}"
            ))
            .status("available")
            .snapshot_create_time(aws_sdk_rds::primitives::DateTime::from_secs(
                created.timestamp(),
            ));
        if managed {
            b = b.tag_list(Tag::builder().key("managed-by").value("axiom-ops").build());
        }
        b.build()
    }

    /// 250 snapshots over three pages (100, 100, 50), every fifth one not ours.
    fn pages() -> Vec<aws_smithy_mocks::Rule> {
        let page = |from: usize, to: usize, marker: Option<&str>| {
            let snaps: Vec<DbSnapshot> = (from..to).map(|i| snap(i, i % 5 != 0)).collect();
            DescribeDbSnapshotsOutput::builder()
                .set_db_snapshots(Some(snaps))
                .set_marker(marker.map(str::to_owned))
                .build()
        };
        vec![
            mock!(aws_sdk_rds::Client::describe_db_snapshots)
                .match_requests(|r| r.marker().is_none())
                .then_output(move || page(0, 100, Some("p2"))),
            mock!(aws_sdk_rds::Client::describe_db_snapshots)
                .match_requests(|r| r.marker() == Some("p2"))
                .then_output(move || page(100, 200, Some("p3"))),
            mock!(aws_sdk_rds::Client::describe_db_snapshots)
                .match_requests(|r| r.marker() == Some("p3"))
                .then_output(move || page(200, 250, None)),
        ]
    }

    #[tokio::test]
    async fn listing_pages_through_every_snapshot_and_keeps_only_ours() -> TestResult {
        let rules = pages();
        let client = mock_client!(aws_sdk_rds, RuleMode::MatchAny, &rules);
        let rds = RdsSnapshots::new(&client, Budget::unbounded());
        let db = axiom_ops::model::Database {
            id: DB.into(),
            kind: axiom_ops::model::DbKind::Instance,
        };
        let got = rds.list_managed(&db).await?;
        assert_eq!(got.len(), 200, "250 listed, 50 not tagged as ours");
        assert!(
            rules.iter().all(|r| r.num_calls() == 1),
            "each page read once"
        );
        Ok(())
    }

    #[tokio::test]
    async fn quota_is_read_from_the_account_attributes() -> TestResult {
        let ok = mock!(aws_sdk_rds::Client::describe_account_attributes).then_output(|| {
            DescribeAccountAttributesOutput::builder()
                .account_quotas(
                    AccountQuota::builder()
                        .account_quota_name("ManualSnapshots")
                        .used(85)
                        .max(100)
                        .build(),
                )
                .build()
        });
        let client = mock_client!(aws_sdk_rds, [&ok]);
        assert_eq!(
            RdsSnapshots::new(&client, Budget::unbounded())
                .quota()
                .await?,
            Some((85, 100))
        );
        Ok(())
    }

    /// The whole job on a mocked RDS (paged history, 85 % quota) with the ledger and SNS on moto:
    /// retention over every page, capped deletions deferred and announced, the quota warning.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn job_over_paged_history_defers_beyond_the_cap_and_warns_on_quota() -> TestResult {
        let env = Env::start().await?;
        let mut rules = pages();
        rules.push(
            mock!(aws_sdk_rds::Client::describe_db_instances).then_output(|| {
                DescribeDbInstancesOutput::builder()
                    .db_instances(
                        DbInstance::builder()
                            .db_instance_identifier(DB)
                            .db_instance_status("available")
                            .build(),
                    )
                    .build()
            }),
        );
        rules.push(
            mock!(aws_sdk_rds::Client::create_db_snapshot)
                .then_output(|| CreateDbSnapshotOutput::builder().build()),
        );
        rules.push(
            mock!(aws_sdk_rds::Client::delete_db_snapshot)
                .then_output(|| DeleteDbSnapshotOutput::builder().build()),
        );
        rules.push(
            mock!(aws_sdk_rds::Client::describe_account_attributes).then_output(|| {
                DescribeAccountAttributesOutput::builder()
                    .account_quotas(
                        AccountQuota::builder()
                            .account_quota_name("ManualSnapshots")
                            .used(85)
                            .max(100)
                            .build(),
                    )
                    .build()
            }),
        );
        let client = mock_client!(aws_sdk_rds, RuleMode::MatchAny, &rules);
        let policy = Policy::built_in()?;
        let job = SnapshotJob {
            policy: &policy,
            rds: RdsSnapshots::new(&client, Budget::unbounded()),
            dr: None,
            ledger: DynamoLedger::new(
                &aws_sdk_dynamodb::Client::new(&env.sdk),
                &env.seeded.table,
                Budget::unbounded(),
            ),
            notifier: SnsNotifier::new(
                &aws_sdk_sns::Client::new(&env.sdk),
                Some(&env.seeded.topic_arn),
                Budget::unbounded(),
            ),
            dry_run: false,
        };
        let t = day0() + Duration::days(70);
        let r = job.handle(&tick("schedule-rule.json", t), &inv()).await?;
        let db = &r["databases"][0];
        assert_eq!(db["deleted"].as_array().map(Vec::len), Some(50), "{r}");
        assert!(db["deferred"].as_u64().is_some_and(|d| d > 0), "{r}");
        assert_eq!(rules[5].num_calls(), 50, "50 deletions this run");
        let subjects: Vec<String> = env.inbox().await.into_iter().map(|n| n.subject).collect();
        assert!(
            subjects
                .iter()
                .any(|s| s.starts_with("[SEV3] axiomcore-production manual snapshots at 85%")),
            "{subjects:?}"
        );
        assert!(
            subjects.iter().any(|s| s.contains("deferred")),
            "{subjects:?}"
        );
        Ok(())
    }
}
