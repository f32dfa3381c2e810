//! Composite alarms and their actions suppressor. The emulator does not implement composite
//! alarms (`PutCompositeAlarm`), so CloudWatch is the SDK's own mock here (`aws-smithy-mocks`);
//! ECS, the ledger and the topic are still the emulator.

use integration_tests::{event, first, inv_home as inv, Env, TestResult};
use serde_json::Value;

use aws_sdk_cloudwatch::operation::describe_alarms::DescribeAlarmsOutput;
use aws_sdk_cloudwatch::types::{ActionsSuppressedBy, CompositeAlarm, StateValue};
use aws_smithy_mocks::{mock, mock_client, RuleMode};
use axiom_ops::adapters::autoscaling::AppAutoScaling;
use axiom_ops::adapters::cloudwatch::CloudWatchAlarms;
use axiom_ops::adapters::dynamodb::DynamoLedger;
use axiom_ops::adapters::ecs::EcsServices;
use axiom_ops::adapters::logs::CloudWatchLogs;
use axiom_ops::adapters::rds::RdsSnapshots;
use axiom_ops::adapters::sdk::Budget;
use axiom_ops::adapters::sns::SnsNotifier;
use axiom_ops::adapters::ssm::SsmParameters;
use axiom_ops::model::AlarmState;
use axiom_ops::policy::Policy;
use axiom_ops::ports::Alarms;
use axiom_ops::remediate::{Aws, Remediator};

const MEMORY: &str = "axiomcore-api-memory-critical";
const SUPPRESSOR: &str = "axiomcore-api-deploying-warning";

fn composite(suppressed: Option<ActionsSuppressedBy>) -> aws_smithy_mocks::Rule {
    mock!(aws_sdk_cloudwatch::Client::describe_alarms).then_output(move || {
        DescribeAlarmsOutput::builder()
            .composite_alarms(
                CompositeAlarm::builder()
                    .alarm_name(MEMORY)
                    .state_value(StateValue::Alarm)
                    .set_actions_suppressed_by(suppressed.clone())
                    .actions_suppressor(SUPPRESSOR)
                    .build(),
            )
            .build()
    })
}

#[tokio::test]
async fn a_composite_is_read_with_its_suppression() -> TestResult {
    let rule = composite(Some(ActionsSuppressedBy::WaitPeriod));
    let client = mock_client!(aws_sdk_cloudwatch, RuleMode::MatchAny, [&rule]);
    let got = CloudWatchAlarms::new(&client, Budget::unbounded())
        .describe(&[MEMORY.to_owned()])
        .await?;
    assert_eq!(got.len(), 1);
    assert!(got[0].composite);
    assert_eq!(got[0].state, AlarmState::Alarm);
    assert_eq!(got[0].suppressed_by.as_deref(), Some("WaitPeriod"));
    assert_eq!(got[0].suppressor.as_deref(), Some(SUPPRESSOR));
    Ok(())
}

async fn handle_composite(
    env: &Env,
    rule: &aws_smithy_mocks::Rule,
) -> Result<Value, axiom_ops::remediate::RemediateError> {
    let cw = mock_client!(aws_sdk_cloudwatch, RuleMode::MatchAny, [rule]);
    let policy = Policy::built_in().expect("policy");
    let budget = Budget::unbounded();
    let r = Remediator::<Aws> {
        policy: &policy,
        services: EcsServices::new(&aws_sdk_ecs::Client::new(&env.sdk), budget),
        alarms: CloudWatchAlarms::new(&cw, budget),
        scaling: AppAutoScaling::new(
            &aws_sdk_applicationautoscaling::Client::new(&env.sdk),
            budget,
        ),
        parameters: SsmParameters::new(&aws_sdk_ssm::Client::new(&env.sdk), budget),
        ledger: DynamoLedger::new(
            &aws_sdk_dynamodb::Client::new(&env.sdk),
            &env.seeded.table,
            budget,
        ),
        notifier: SnsNotifier::new(
            &aws_sdk_sns::Client::new(&env.sdk),
            Some(&env.seeded.topic_arn),
            budget,
        ),
        databases: RdsSnapshots::new(&aws_sdk_rds::Client::new(&env.sdk), budget),
        logs: CloudWatchLogs::new(&aws_sdk_cloudwatchlogs::Client::new(&env.sdk), budget),
        reports: None,
        dry_run: false,
        preview: false,
    };
    r.handle(&event("eventbridge-composite-alarm.json"), &inv())
        .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_composite_whose_actions_cloudwatch_holds_changes_nothing() -> TestResult {
    let env = Env::start().await?;
    let d0 = env.primary_deployment("api").await;
    let r = handle_composite(&env, &composite(Some(ActionsSuppressedBy::Alarm))).await?;
    assert_eq!(first(&r)["outcome"], "suppressed", "{r}");
    assert_eq!(first(&r)["held_by"], "actions_suppressed", "{r}");
    assert_eq!(env.primary_deployment("api").await, d0, "no restart");
    let notices = env.inbox().await;
    assert_eq!(notices.len(), 1);
    assert_eq!(
        notices[0].attributes.get("outcome").map(String::as_str),
        Some("suppressed")
    );
    assert!(
        notices[0].message["reason"]
            .as_str()
            .is_some_and(|r| r.contains(SUPPRESSOR)),
        "{:?}",
        notices[0].message
    );
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_composite_in_alarm_and_not_suppressed_acts() -> TestResult {
    let env = Env::start().await?;
    let d0 = env.primary_deployment("api").await;
    let r = handle_composite(&env, &composite(None)).await?;
    assert_eq!(first(&r)["outcome"], "done", "{r}");
    assert_eq!(first(&r)["action"], "restart", "{r}");
    assert_ne!(env.primary_deployment("api").await, d0, "restarted");
    Ok(())
}
