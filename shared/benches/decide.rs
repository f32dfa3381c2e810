//! The handler's own cost, AWS round trips aside: parse → resolve → decide → notice → audit item.
//! `cargo bench -p axiom-ops --features audit --bench decide` (`make bench`)

use std::hint::black_box;
use std::path::PathBuf;

use axiom_ops::model::Outcome;
use axiom_ops::model::ServiceStatus;
use axiom_ops::policy::Policy;
use axiom_ops::remediate::alarm::{parse, Inbound};
use axiom_ops::remediate::decide::decide;
use axiom_ops::remediate::state::TargetState;
use chrono::Utc;
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use {axiom_ops::model::LedgerKeys, axiom_ops::remediate::notice as notify};

fn sample(name: &str) -> serde_json::Value {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../events")
        .join(name);
    serde_json::from_str(&std::fs::read_to_string(p).expect("sample")).expect("json")
}

fn bench(c: &mut Criterion) {
    // What a function reads at its cold start, as Lambda sets it (no call is made with them). Set
    // first, while this process has one thread.
    for (var, value) in [
        ("AWS_REGION", "us-east-1"),
        ("AWS_ACCESS_KEY_ID", "testing"),
        ("AWS_SECRET_ACCESS_KEY", "testing"),
    ] {
        std::env::set_var(var, value);
    }
    let policy = Policy::built_in().expect("policy");
    let observed = ServiceStatus {
        desired: 3,
        running: 3,
        primary_since: None,
        deployments: 1,
        scaling: None,
        task_definition: None,
    };
    let state = TargetState::default();
    let now = Utc::now();
    let samples: Vec<serde_json::Value> = [
        "eventbridge-metric-alarm.json",
        "sns-metric-alarm.json",
        "lambda-composite-alarm.json",
    ]
    .iter()
    .map(|n| sample(n))
    .collect();
    let keys = LedgerKeys {
        pk: "target#axiomcore-production/api".into(),
        sk: "decision#x".into(),
    };

    let Ok(Inbound::Alarms(alarms)) = parse(&samples[0]) else {
        panic!("sample parses")
    };
    let alarm = alarms[0].clone();

    let mut g = c.benchmark_group("remediate");
    g.throughput(Throughput::Elements(1));
    g.bench_function("decide", |b| {
        b.iter(|| {
            decide(
                black_box(&alarm),
                &policy,
                Some(&observed),
                black_box(&state),
                now,
            )
        })
    });
    for (i, s) in samples.iter().enumerate() {
        g.bench_function(format!("parse/{i}"), |b| b.iter(|| parse(black_box(s))));
    }
    g.bench_function("handler_overhead", |b| {
        b.iter(|| {
            let Ok(Inbound::Alarms(a)) = parse(black_box(&samples[1])) else {
                return;
            };
            let d = decide(&a[0], &policy, Some(&observed), &state, now);
            let n = notify::build(&a[0], &d, Outcome::Done, &keys, None, now);
            let state_json = serde_json::to_string(&d.state).unwrap_or_default();
            black_box((n, state_json));
        })
    });
    g.finish();

    // Retention over 10,000 snapshots: 27 years of dailies, or 14 months of hourlies.
    let base = Utc::now() - chrono::Duration::hours(10_000);
    let snaps: Vec<axiom_ops::retention::Snap> = (0..10_000)
        .map(|i| axiom_ops::retention::Snap {
            id: format!("axiomcore-production-auto-{i:08}"),
            created: base + chrono::Duration::hours(i),
        })
        .collect();
    let keep = policy.snapshots.keep;
    c.bench_function("retention/plan_10000", |b| {
        b.iter(|| axiom_ops::retention::plan(black_box(&snaps), &keep, now))
    });

    // Paid once per cold start.
    c.bench_function("cold/policy_load", |b| b.iter(Policy::built_in));
    // The configuration every function builds at its cold start (adapters::sdk::lambda_config),
    // and the three clients remediate builds at their first use.
    c.bench_function("cold/sdk_config_and_clients", |b| {
        b.iter(|| {
            let sdk = axiom_ops::adapters::sdk::lambda_config().expect("Lambda's environment");
            black_box((
                aws_sdk_ecs::Client::new(&sdk),
                aws_sdk_dynamodb::Client::new(&sdk),
                aws_sdk_sns::Client::new(&sdk),
            ))
        })
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
