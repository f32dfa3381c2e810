//! What starts a run: the daily schedule (an EventBridge rule or Scheduler), ACM's own
//! "ACM Certificate Approaching Expiration" event for one certificate, or `{}` (a run by hand).
//! An ACM event is a hint, never the truth: the certificate it names is described afresh.

use chrono::{DateTime, Utc};
use serde_json::Value;

use crate::model::{keys_of, parse_time};
use crate::runtime::Home;

pub const ACM_DETAIL_TYPE: &str = "ACM Certificate Approaching Expiration";

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Trigger {
    /// Everything the policy names.
    Schedule { time: DateTime<Utc> },
    /// One certificate, named by ACM's event.
    Acm {
        certificate: String,
        time: DateTime<Utc>,
        /// What the event said; the run reads the certificate itself.
        days_said: Option<i64>,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("certwatch cannot handle this event: {0}")]
pub struct TriggerError(pub String);

const EXPECTED: &str = "expected an EventBridge \"Scheduled Event\" (source aws.events or \
aws.scheduler), ACM's \"ACM Certificate Approaching Expiration\" event (source aws.acm), or {} \
for a run by hand";

pub fn parse(payload: &Value, now: DateTime<Utc>, home: &Home) -> Result<Trigger, TriggerError> {
    let Value::Object(obj) = payload else {
        return Err(TriggerError(format!(
            "{EXPECTED}; got {}",
            keys_of(payload)
        )));
    };
    if obj.is_empty() {
        return Ok(Trigger::Schedule { time: now });
    }
    let field = |k: &str| obj.get(k).and_then(Value::as_str).unwrap_or("");
    let (source, detail_type) = (field("source"), field("detail-type"));
    let time = || {
        obj.get("time")
            .and_then(Value::as_str)
            .and_then(parse_time)
            .ok_or_else(|| TriggerError(format!("{detail_type:?} without a readable `time`")))
    };
    match (source, detail_type) {
        ("aws.events" | "aws.scheduler", "Scheduled Event") => {
            Ok(Trigger::Schedule { time: time()? })
        }
        ("aws.acm", ACM_DETAIL_TYPE) => {
            foreign(field("account"), field("region"), home)?;
            let resources: Vec<&str> = obj
                .get("resources")
                .and_then(Value::as_array)
                .map(|r| r.iter().filter_map(Value::as_str).collect())
                .unwrap_or_default();
            let [certificate] = resources.as_slice() else {
                return Err(TriggerError(format!(
                    "an ACM event names its certificate in `resources` (exactly one ARN); got {} entries",
                    resources.len()
                )));
            };
            let parts: Vec<&str> = certificate.splitn(6, ':').collect();
            if parts.len() != 6 || parts[2] != "acm" || !parts[5].starts_with("certificate/") {
                return Err(TriggerError(format!(
                    "{certificate:?} is not an ACM certificate ARN"
                )));
            }
            foreign(parts[4], parts[3], home)?;
            Ok(Trigger::Acm {
                certificate: (*certificate).to_owned(),
                time: time()?,
                days_said: obj
                    .get("detail")
                    .and_then(|d| d.get("DaysToExpiry"))
                    .and_then(Value::as_i64),
            })
        }
        _ => Err(TriggerError(format!(
            "{detail_type:?} from {source:?}; {EXPECTED}"
        ))),
    }
}

/// An event about another account's or region's certificate is not ours to judge.
fn foreign(account: &str, region: &str, home: &Home) -> Result<(), TriggerError> {
    let checks = [
        ("account", home.account.as_deref(), account),
        ("region", home.region.as_deref(), region),
    ];
    for (what, ours, theirs) in checks {
        if let Some(ours) = ours {
            if !theirs.is_empty() && theirs != ours {
                return Err(TriggerError(format!(
                    "the event is about {what} {theirs:?}; this function watches {ours:?}"
                )));
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn now() -> DateTime<Utc> {
        parse_time("2026-11-27T09:00:05Z").expect("t")
    }

    fn home() -> Home {
        Home::of_arn("arn:aws:lambda:us-east-1:123456789012:function:certwatch")
    }

    fn acm_event() -> Value {
        json!({"version": "0", "id": "9c95e8e4", "detail-type": ACM_DETAIL_TYPE, "source": "aws.acm",
            "account": "123456789012", "time": "2026-11-27T09:00:00Z", "region": "us-east-1",
            "resources": ["arn:aws:acm:us-east-1:123456789012:certificate/61f50cd4-45b9-4259-b049-d0a53682fa4b"],
            "detail": {"DaysToExpiry": 31, "CommonName": "api.axiomcore.example.com"}})
    }

    #[test]
    fn schedules_acm_events_and_runs_by_hand() {
        let rule = json!({"detail-type": "Scheduled Event", "source": "aws.events", "time": "2026-11-27T09:00:00Z", "detail": {}});
        assert_eq!(
            parse(&rule, now(), &home()),
            Ok(Trigger::Schedule {
                time: parse_time("2026-11-27T09:00:00Z").expect("t")
            })
        );
        let mut sched = rule.clone();
        sched["source"] = json!("aws.scheduler");
        assert!(matches!(
            parse(&sched, now(), &home()),
            Ok(Trigger::Schedule { .. })
        ));
        assert_eq!(
            parse(&json!({}), now(), &home()),
            Ok(Trigger::Schedule { time: now() })
        );
        match parse(&acm_event(), now(), &home()) {
            Ok(Trigger::Acm {
                certificate,
                days_said,
                ..
            }) => {
                assert!(certificate.ends_with("d0a53682fa4b"));
                assert_eq!(days_said, Some(31));
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn anything_else_is_named() {
        let alarm =
            json!({"source": "aws.cloudwatch", "detail-type": "CloudWatch Alarm State Change"});
        let e = parse(&alarm, now(), &home())
            .expect_err("alarm")
            .to_string();
        assert!(
            e.contains("CloudWatch Alarm State Change") && e.contains("aws.acm"),
            "{e}"
        );
        assert!(parse(&json!([1]), now(), &home()).is_err());
        let mut other = acm_event();
        other["account"] = json!("210987654321");
        assert!(parse(&other, now(), &home())
            .expect_err("foreign")
            .to_string()
            .contains("210987654321"));
        let mut none = acm_event();
        none["resources"] = json!([]);
        assert!(parse(&none, now(), &home())
            .expect_err("no arn")
            .to_string()
            .contains("resources"));
        let mut bad = acm_event();
        bad["resources"] = json!(["arn:aws:iam::123456789012:server-certificate/x"]);
        assert!(parse(&bad, now(), &home()).is_err());
    }
}
