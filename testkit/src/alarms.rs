//! CloudWatch alarms in the emulator, as a real account has them: the alarm an event reports on
//! exists and is in the state the event reports, because the event followed that change.

use aws_config::SdkConfig;
use aws_sdk_cloudwatch::types::{ComparisonOperator, Statistic};
use serde_json::Value;

use axiom_ops::remediate::alarm::{parse, Inbound};

use crate::BoxError;

/// Creates `name` (a metric alarm on a probe metric) if it does not exist, and sets its state.
pub async fn set_alarm(sdk: &SdkConfig, name: &str, state: &str) -> Result<(), BoxError> {
    let cw = aws_sdk_cloudwatch::Client::new(sdk);
    let exists = !cw
        .describe_alarms()
        .alarm_names(name)
        .send()
        .await?
        .metric_alarms()
        .is_empty();
    if !exists {
        cw.put_metric_alarm()
            .alarm_name(name)
            .namespace("AxiomCore")
            .metric_name("Probe")
            .statistic(Statistic::Average)
            .period(60)
            .evaluation_periods(1)
            .threshold(1.0)
            .comparison_operator(ComparisonOperator::GreaterThanThreshold)
            .send()
            .await?;
    }
    cw.set_alarm_state()
        .alarm_name(name)
        .state_value(state.into())
        .state_reason("set by the test harness")
        .send()
        .await?;
    Ok(())
}

/// Makes CloudWatch agree with every alarm transition in `event` (any accepted shape); other
/// payloads are left alone. Returns the event, to be sent.
pub async fn agree(sdk: &SdkConfig, event: &Value) -> Result<Value, BoxError> {
    if let Ok(Inbound::Alarms(alarms)) = parse(event) {
        for a in alarms {
            set_alarm(sdk, &a.alarm_name, a.state.as_str()).await?;
        }
    }
    Ok(event.clone())
}
