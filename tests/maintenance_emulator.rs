//! The maintenance window against moto, driven exactly as the state machine drives it: invoke,
//! wait the seconds the step asked for (on a virtual clock), invoke again; on an error, switch to
//! the rollback loop. A health endpoint is served by the test. Whatever fails, both services end
//! at their recorded counts with scaling resumed and maintenance mode off.

use axiom_ops::runtime::Job;
use std::sync::atomic::{AtomicU16, Ordering};
use std::sync::Arc;

use aws_sdk_applicationautoscaling::types::ServiceNamespace;
use axiom_ops::maintenance::MaintenanceApp;
use axiom_ops::policy::Policy;
use axiom_ops::runtime::Invocation;
use chrono::{DateTime, Duration, TimeZone, Utc};
use integration_tests::{Env, TestResult};
use serde_json::{json, Value};
use testkit::fault_proxy::{Fault, FaultProxy};
use testkit::http::{read_request, write_response};
use testkit::Moto;

const PARAM: &str = "/axiomcore/production/maintenance-mode";

fn start() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 12, 6, 2, 0, 0)
        .single()
        .expect("valid")
}

/// A health endpoint whose status the test sets.
async fn health_server(status: Arc<AtomicU16>) -> std::io::Result<String> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    tokio::spawn(async move {
        while let Ok((mut s, _)) = listener.accept().await {
            let code = status.load(Ordering::SeqCst);
            tokio::spawn(async move {
                if let Ok(Some(_)) = read_request(&mut s).await {
                    let _ = write_response(
                        &mut s,
                        code,
                        "Status",
                        &[("Content-Type", "application/json")],
                        b"{}",
                    )
                    .await;
                }
            });
        }
    });
    Ok(format!("http://{addr}/health"))
}

struct Window {
    env: Env,
    health: Arc<AtomicU16>,
    url: String,
}

async fn window() -> Result<Window, Box<dyn std::error::Error + Send + Sync>> {
    let env = Env::start().await?;
    testkit::seed_database(&env.sdk, "axiomcore-production").await?;
    // api is under Application Auto Scaling (2–10), as the guide configures it.
    env.register_scalable_target("api", 2, 10).await?;
    let health = Arc::new(AtomicU16::new(200));
    let url = health_server(health.clone()).await?;
    Ok(Window { env, health, url })
}

impl Window {
    fn policy(&self, edit: impl Fn(String) -> String) -> Policy {
        let text = axiom_ops::policy::BUILT_IN
            .replace("https://api.axiomcore.example.com/health", &self.url)
            .replace("health_attempts = 10", "health_attempts = 4");
        Policy::from_toml(&edit(text), "test").expect("policy")
    }

    fn app(&self, policy: Policy, sdk: &aws_config::SdkConfig) -> MaintenanceApp {
        let mut c = self.env.config(false);
        c.policy = policy;
        MaintenanceApp::build(c, sdk).expect("maintenance app")
    }

    /// The policy with a migration task (`run-task`), its task definition registered.
    async fn with_migrations(&self) -> Result<Policy, Box<dyn std::error::Error + Send + Sync>> {
        aws_sdk_ecs::Client::new(&self.env.sdk)
            .register_task_definition()
            .family("axiomcore-migrations")
            .container_definitions(
                aws_sdk_ecs::types::ContainerDefinition::builder()
                    .name("migrate")
                    .image("axiomcore/api:1.1")
                    .memory(512)
                    .build(),
            )
            .send()
            .await?;
        Ok(self.policy(|t| {
            t.replace(
                "[guards]",
                "[[maintenance.tasks]]\nkind = \"run-task\"\nname = \"migrations\"\ntask_definition = \"axiomcore-migrations\"\nsubnets = [\"subnet-0a1b\"]\n\n[guards]",
            )
        }))
    }

    async fn desired(&self) -> (i32, i32) {
        (
            self.env.desired("api").await,
            self.env.desired("frontend").await,
        )
    }

    async fn scaling(&self) -> (i32, i32, bool) {
        let out = aws_sdk_applicationautoscaling::Client::new(&self.env.sdk)
            .describe_scalable_targets()
            .service_namespace(ServiceNamespace::Ecs)
            .resource_ids("service/axiomcore-production/api")
            .send()
            .await
            .expect("describe scaling");
        let t = out.scalable_targets().first().cloned().expect("registered");
        let suspended = t.suspended_state().is_some_and(|s| {
            s.dynamic_scaling_in_suspended() == Some(true)
                || s.dynamic_scaling_out_suspended() == Some(true)
        });
        (t.min_capacity(), t.max_capacity(), suspended)
    }

    async fn mode(&self) -> Option<String> {
        aws_sdk_ssm::Client::new(&self.env.sdk)
            .get_parameter()
            .name(PARAM)
            .send()
            .await
            .ok()
            .and_then(|o| o.parameter().and_then(|p| p.value()).map(str::to_owned))
    }

    /// Both services where they started, scaling resumed, maintenance mode off.
    async fn assert_restored(&self) {
        assert_eq!(
            self.desired().await,
            (3, 2),
            "recorded counts, not a hard-coded 3"
        );
        assert_eq!(
            self.scaling().await,
            (2, 10, false),
            "scaling resumed with its bounds"
        );
        assert_eq!(
            self.mode().await.as_deref(),
            Some("off"),
            "maintenance mode off"
        );
    }
}

/// Runs the loop as the state machine does; returns every output.
async fn drive(app: &MaintenanceApp, dry_run: bool) -> Vec<Value> {
    let mut now = start();
    let mut payload = json!({ "dry_run": dry_run });
    let mut outputs = Vec::new();
    for _ in 0..300 {
        let inv = Invocation {
            request_id: "sfn".into(),
            deadline: Some(std::time::Instant::now() + std::time::Duration::from_secs(60)),
            started: std::time::Instant::now(),
            now,
            home: Default::default(),
        };
        match app.handle(&payload, &inv, false).await {
            Ok(out) => {
                outputs.push(out.clone());
                if out["done"] == true {
                    return outputs;
                }
                now += Duration::seconds(out["wait_seconds"].as_i64().unwrap_or(0).max(1));
                payload = out;
            }
            // The state machine's Catch: the rollback loop, with the window if it is known.
            Err(e) => {
                outputs.push(json!({ "error": e.to_string() }));
                payload = json!({ "rollback": true, "window": payload.get("window").cloned().unwrap_or(Value::Null), "dry_run": dry_run });
                now += Duration::seconds(5);
            }
        }
    }
    panic!("the window never finished: {outputs:?}");
}

fn subjects(n: &[testkit::Received]) -> Vec<String> {
    n.iter().map(|x| x.subject.clone()).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_window_from_notice_to_report_restores_everything() -> TestResult {
    let w = window().await?;
    let app = w.app(w.policy(|t| t), &w.env.sdk);
    let before = w.env.primary_deployment("api").await;

    let notice = app
        .handle(
            &json!({"action": "notice"}),
            &Invocation::local("notice", std::time::Duration::from_secs(30)),
            false,
        )
        .await?;
    assert!(
        notice["notice"]
            .as_str()
            .is_some_and(|s| s.contains("maintenance window")),
        "{notice}"
    );

    let out = drive(&app, false).await;
    let last = out.last().expect("outputs");
    assert_eq!(last["rolled_back"], false, "{out:?}");
    assert_eq!(last["phase"], "done");
    w.assert_restored().await;
    assert_ne!(
        w.env.primary_deployment("api").await,
        before,
        "api redeployed with patched images"
    );
    // The pre-maintenance snapshot was taken.
    let snaps = aws_sdk_rds::Client::new(&w.env.sdk)
        .describe_db_snapshots()
        .db_instance_identifier("axiomcore-production")
        .send()
        .await?;
    assert!(snaps.db_snapshots().iter().any(|s| s
        .db_snapshot_identifier()
        .is_some_and(|i| i.contains("-premaint-"))));
    // Waiting on the virtual clock: the monitor phase asked to wait until 15 min had passed.
    assert!(out
        .iter()
        .any(|o| o["phase"] == "monitor" && o["wait_seconds"].as_u64().is_some_and(|s| s > 0)));

    let subjects = subjects(&w.env.inbox().await);
    assert_eq!(subjects.len(), 2, "{subjects:?}");
    assert!(
        subjects[0].starts_with("[SEV4] axiomcore-production maintenance window Sun "),
        "{subjects:?}"
    );
    assert!(
        subjects[1].starts_with("[SEV3] axiomcore-production maintenance 2026-12-06 completed"),
        "{subjects:?}"
    );

    // A retried last step (the same input again) changes nothing.
    let again = app
        .handle(
            last,
            &Invocation {
                request_id: "retry".into(),
                deadline: None,
                started: std::time::Instant::now(),
                now: start() + Duration::hours(1),
                home: Default::default(),
            },
            false,
        )
        .await?;
    assert_eq!(again["done"], true);
    w.assert_restored().await;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn health_that_never_turns_200_rolls_back() -> TestResult {
    let w = window().await?;
    w.health.store(503, Ordering::SeqCst);
    let app = w.app(w.policy(|t| t), &w.env.sdk);
    let out = drive(&app, false).await;
    let last = out.last().expect("outputs");
    assert_eq!(last["rolled_back"], true, "{out:?}");
    assert!(
        last["failure"]
            .as_str()
            .is_some_and(|f| f.contains("health never turned 200")),
        "{last}"
    );
    // During the window it really was scaled down.
    assert!(out.iter().any(|o| o["phase"] == "health"));
    w.assert_restored().await;
    let subjects = subjects(&w.env.inbox().await);
    assert!(
        subjects.iter().any(
            |s| s.starts_with("[SEV1] axiomcore-production maintenance 2026-12-06 ROLLED BACK")
        ),
        "{subjects:?}"
    );
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_snapshot_rolls_back_before_anything_is_scaled() -> TestResult {
    let w = window().await?;
    // The policy names a database the account does not have: the snapshot cannot be taken.
    let policy = w.policy(|t| {
        t.replace("database = \"axiomcore-production\"", "database = \"axiomcore-gone\"")
            .replace("[[databases]]\nid = \"axiomcore-production\"", "[[databases]]\nid = \"axiomcore-gone\"\n\n[[databases]]\nid = \"axiomcore-production\"")
    });
    let app = w.app(policy, &w.env.sdk);
    let out = drive(&app, false).await;
    let last = out.last().expect("outputs");
    assert_eq!(last["rolled_back"], true, "{out:?}");
    assert!(
        last["failure"]
            .as_str()
            .is_some_and(|f| f.contains("axiomcore-gone")),
        "{last}"
    );
    assert_eq!(w.desired().await, (3, 2));
    assert_eq!(w.mode().await.as_deref(), Some("off"));
    let subjects = subjects(&w.env.inbox().await);
    assert!(
        subjects.iter().any(
            |s| s.starts_with("[SEV2] axiomcore-production maintenance 2026-12-06 ROLLED BACK")
        ),
        "{subjects:?}"
    );
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_task_that_exits_1_rolls_back() -> TestResult {
    let w = window().await?;
    let policy = w.with_migrations().await?;
    // moto's tasks exit 0; the proxy makes this one exit 1.
    let proxy = FaultProxy::start(w.env.moto.addr).await?;
    proxy.inject(
        "DescribeTasks",
        Fault::Rewrite("\"exitCode\": 0", "\"exitCode\": 1"),
        None,
    );
    let sdk = Moto::sdk_config_for(&proxy.endpoint()).await;
    let app = w.app(policy, &sdk);
    let out = drive(&app, false).await;
    let last = out.last().expect("outputs");
    assert_eq!(last["rolled_back"], true, "{out:?}");
    assert!(
        last["failure"]
            .as_str()
            .is_some_and(|f| f.contains("migrations exited 1")),
        "{last}"
    );
    w.assert_restored().await;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reaching_the_cutoff_rolls_back() -> TestResult {
    let w = window().await?;
    w.health.store(503, Ordering::SeqCst);
    // A 40-minute window: the cutoff (end − 30 min) comes while health is still being retried.
    let policy = w.policy(|t| {
        t.replace("duration = \"4h\"", "duration = \"40m\"")
            .replace("health_attempts = 4", "health_attempts = 100")
    });
    let app = w.app(policy, &w.env.sdk);
    let out = drive(&app, false).await;
    let last = out.last().expect("outputs");
    assert_eq!(last["rolled_back"], true, "{out:?}");
    assert!(
        last["failure"]
            .as_str()
            .is_some_and(|f| f.contains("cutoff")),
        "{last}"
    );
    w.assert_restored().await;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dry_run_walks_every_step_and_changes_nothing() -> TestResult {
    let w = window().await?;
    let app = w.app(w.policy(|t| t), &w.env.sdk);
    let before = w.env.primary_deployment("api").await;
    let out = drive(&app, true).await;
    let last = out.last().expect("outputs");
    assert_eq!(
        (last["rolled_back"].clone(), last["dry_run"].clone()),
        (json!(false), json!(true)),
        "{out:?}"
    );
    assert_eq!(w.desired().await, (3, 2));
    assert_eq!(w.scaling().await, (2, 10, false));
    assert_eq!(w.mode().await, None, "the parameter was never written");
    assert_eq!(w.env.primary_deployment("api").await, before);
    let notices = w.env.inbox().await;
    assert_eq!(notices.len(), 1);
    assert_eq!(
        notices[0].attributes.get("outcome").map(String::as_str),
        Some("dry_run")
    );
    let report = notices[0].message.to_string();
    assert!(
        report.contains("would snapshot") && report.contains("would force a new deployment"),
        "{report}"
    );
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn any_other_input_is_refused_and_changes_nothing() -> TestResult {
    use axiom_ops::runtime::Failure;
    let w = window().await?;
    let app = w.app(w.policy(|t| t), &w.env.sdk);
    let inv = Invocation::local("wrong-file", std::time::Duration::from_secs(30));
    for payload in [
        integration_tests::event("lambda-metric-alarm.json"),
        integration_tests::event("reconcile-tick.json"),
        json!({ "windw": "2026-12-06" }),
        json!([]),
    ] {
        let e = app
            .handle(&payload, &inv, false)
            .await
            .expect_err("refused");
        assert_eq!(e.kind(), "ParseError", "{e}");
        assert!(
            e.to_string()
                .contains("expected one of the maintenance function's inputs"),
            "{e}"
        );
    }
    assert_eq!(w.mode().await, None, "maintenance mode never touched");
    assert_eq!(w.desired().await, (3, 2));
    assert!(w.env.inbox().await.is_empty());
    // Every documented input is accepted.
    for name in ["maintenance-notice.json", "maintenance-dry-run.json"] {
        app.handle(&integration_tests::event(name), &inv, false)
            .await
            .map_err(|e| format!("{name}: {e}"))?;
    }
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_caught_errors_cause_is_in_the_rollback_notice() -> TestResult {
    let w = window().await?;
    let app = w.app(w.policy(|t| t), &w.env.sdk);
    let at = |now| Invocation {
        request_id: "sfn".into(),
        deadline: None,
        started: std::time::Instant::now(),
        now,
        home: Default::default(),
    };
    // The first step runs; then the state machine catches an error and starts the rollback loop
    // with what it caught (events/maintenance-rollback.json).
    let out = app.handle(&json!({}), &at(start()), false).await?;
    let mut payload = integration_tests::event("maintenance-rollback.json");
    payload["window"] = out["window"].clone();
    let mut now = start();
    for _ in 0..50 {
        now += Duration::seconds(5);
        let out = app.handle(&payload, &at(now), false).await?;
        if out["done"] == true {
            break;
        }
        payload = out;
    }
    let notices = w.env.inbox().await;
    let rollback = notices
        .iter()
        .find(|n| n.subject.contains("ROLLED BACK"))
        .expect("a rollback notice");
    let failure = rollback.message["window"]["failure"].as_str().unwrap_or("");
    assert!(
        failure.contains("States.Timeout") && failure.contains("did not answer within 180 s"),
        "{failure}"
    );
    w.assert_restored().await;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_run_task_answered_late_runs_the_task_once() -> TestResult {
    let w = window().await?;
    let policy = w.with_migrations().await?;
    // RunTask reaches ECS (the task starts) but its answer comes after the SDK's 3 s attempt
    // timeout, every time.
    let proxy = FaultProxy::start(w.env.moto.addr).await?;
    proxy.inject("RunTask", Fault::Late(5), None);
    let sdk = Moto::sdk_config_for(&proxy.endpoint()).await;
    let app = w.app(policy, &sdk);
    let out = drive(&app, false).await;
    assert_eq!(
        out.last().map(|o| o["done"].clone()),
        Some(json!(true)),
        "{out:?}"
    );
    let ecs = aws_sdk_ecs::Client::new(&w.env.sdk);
    let mut started = 0;
    for status in [
        aws_sdk_ecs::types::DesiredStatus::Running,
        aws_sdk_ecs::types::DesiredStatus::Stopped,
    ] {
        started += ecs
            .list_tasks()
            .cluster("axiomcore-production")
            .family("axiomcore-migrations")
            .desired_status(status)
            .send()
            .await?
            .task_arns()
            .len();
    }
    assert_eq!(started, 1, "the migration ran once: {out:?}");
    Ok(())
}
