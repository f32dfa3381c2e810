//! Every sample in events/ against the parser: each file is named after what it shows.

use std::path::PathBuf;

use axiom_ops::remediate::alarm::{parse, AlarmKind, AlarmState, Delivery, Inbound};

fn events() -> Vec<(String, serde_json::Value)> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../events");
    let mut out: Vec<(String, serde_json::Value)> = std::fs::read_dir(&dir)
        .expect("events/ exists")
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .map(|p| {
            let text = std::fs::read_to_string(&p).expect("readable");
            let v = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
            (
                p.file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_default(),
                v,
            )
        })
        .collect();
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out
}

#[test]
fn every_delivery_and_kind_parses_to_what_its_name_says() {
    let mut combos = std::collections::BTreeSet::new();
    for (name, v) in events() {
        let Some(stem) = name
            .strip_suffix("-alarm.json")
            .filter(|_| name != "not-an-alarm.json")
        else {
            continue;
        };
        let (path, kind) = stem.split_once('-').expect("<path>-<kind>-alarm.json");
        let want_delivery = match path {
            "lambda" => Delivery::LambdaAction,
            "eventbridge" => Delivery::EventBridge,
            "sns" => Delivery::Sns,
            other => panic!("{name}: unknown path {other}"),
        };
        let want_kind = match kind {
            "metric" => AlarmKind::Metric,
            "metric-math" => AlarmKind::MetricMath,
            "anomaly" => AlarmKind::AnomalyDetection,
            "composite" => AlarmKind::Composite,
            other => panic!("{name}: unknown kind {other}"),
        };
        let Ok(Inbound::Alarms(alarms)) = parse(&v) else {
            panic!("{name}: did not parse as an alarm: {:?}", parse(&v));
        };
        assert_eq!(alarms.len(), 1, "{name}");
        let a = &alarms[0];
        assert_eq!((a.delivery, a.kind), (want_delivery, want_kind), "{name}");
        assert_eq!(a.state, AlarmState::Alarm, "{name}");
        assert!(a.alarm_name.starts_with("axiomcore-"), "{name}");
        if a.delivery == Delivery::Sns {
            assert_eq!(
                a.region.as_deref(),
                Some("us-east-1"),
                "{name}: region code from the ARN, not the display name"
            );
        }
        combos.insert((path.to_owned(), kind.to_owned()));
    }
    assert_eq!(combos.len(), 12, "3 deliveries × 4 kinds: {combos:?}");
}

#[test]
fn one_transition_by_three_paths_has_one_key() {
    let key = |file: &str| {
        let (_, v) = events()
            .into_iter()
            .find(|(n, _)| n == file)
            .expect("sample exists");
        match parse(&v) {
            Ok(Inbound::Alarms(a)) => a[0].event_key(),
            other => panic!("{file}: {other:?}"),
        }
    };
    let k = key("lambda-metric-alarm.json");
    assert_eq!(k, key("eventbridge-metric-alarm.json"));
    assert_eq!(k, key("sns-metric-alarm.json"));
    assert_ne!(k, key("eventbridge-metric-ok.json"));
}

#[test]
fn ecs_dimensions_survive_every_metric_shape() {
    for (name, v) in events() {
        if !name.contains("metric-alarm") {
            continue;
        }
        let Ok(Inbound::Alarms(a)) = parse(&v) else {
            panic!("{name}")
        };
        assert_eq!(
            a[0].dimensions.get("ServiceName").map(String::as_str),
            Some("api"),
            "{name}"
        );
        assert_eq!(
            a[0].dimensions.get("ClusterName").map(String::as_str),
            Some("axiomcore-production"),
            "{name}"
        );
    }
}

#[test]
fn the_rest_is_ignored_or_rejected_by_name() {
    for (name, v) in events() {
        match name.as_str() {
            "eventbridge-config-change.json" => {
                assert!(matches!(parse(&v), Ok(Inbound::Ignored { .. })), "{name}")
            }
            "not-an-alarm.json" => {
                let e = parse(&v).expect_err("rejected");
                assert!(
                    e.to_string()
                        .contains("expected one of: a CloudWatch alarm"),
                    "{e}"
                );
            }
            "reconcile-tick.json" => {
                assert!(matches!(parse(&v), Ok(Inbound::Tick)), "{name}")
            }
            "eventbridge-metric-ok.json" => {
                let Ok(Inbound::Alarms(a)) = parse(&v) else {
                    panic!("{name}")
                };
                assert_eq!(a[0].state, AlarmState::Ok);
            }
            _ => {}
        }
    }
}

#[test]
fn a_newline_in_an_event_cannot_forge_a_line_of_the_notice() {
    use axiom_ops::model::{LedgerKeys, Outcome};
    use axiom_ops::policy::Policy;
    use axiom_ops::remediate::decide::decide;
    use axiom_ops::remediate::notice;
    use axiom_ops::remediate::state::TargetState;

    let (_, mut v) = events()
        .into_iter()
        .find(|(n, _)| n == "eventbridge-metric-alarm.json")
        .expect("sample");
    v["detail"]["alarmName"] = "axiomcore-api-down-critical\nAction:   restart → done".into();
    v["detail"]["state"]["reason"] = "x\r\nWhy:      forged\u{1b}[2J".into();
    let Ok(Inbound::Alarms(a)) = parse(&v) else {
        panic!("parses")
    };
    let p = Policy::built_in().expect("policy");
    let d = decide(&a[0], &p, None, &TargetState::default(), a[0].state_time);
    let keys = LedgerKeys {
        pk: "pk".into(),
        sk: "sk".into(),
    };
    let n = notice::build(
        &a[0],
        &d,
        Outcome::NoAction,
        &keys,
        Some("e\nError: x"),
        a[0].state_time,
    );
    for field in ["Action:", "Why:", "Error:"] {
        assert_eq!(
            n.text.lines().filter(|l| l.starts_with(field)).count(),
            1,
            "{field} {}",
            n.text
        );
    }
    assert!(!n.text.contains('\u{1b}') && !n.subject.chars().any(char::is_control));
}

#[test]
fn a_transition_whose_actions_were_held_has_a_key_of_its_own() {
    let (_, mut v) = events()
        .into_iter()
        .find(|(n, _)| n == "eventbridge-composite-alarm.json")
        .expect("sample");
    let Ok(Inbound::Alarms(plain)) = parse(&v) else {
        panic!("parses")
    };
    v["detail"]["state"]["actionsSuppressedBy"] = "WaitPeriod".into();
    let Ok(Inbound::Alarms(held)) = parse(&v) else {
        panic!("parses")
    };
    assert_eq!(held[0].suppressed_by.as_deref(), Some("WaitPeriod"));
    assert_eq!(
        held[0].suppressor.as_deref(),
        Some("axiomcore-api-deploying-warning")
    );
    assert_ne!(plain[0].event_key(), held[0].event_key());
}
