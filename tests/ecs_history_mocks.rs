//! The ECS adapter's reading of what the emulator does not keep (container exit codes and
//! reasons, stop codes and times, service events, deployment rollout states) and its memory
//! scale-up's request, with the SDK's own test tooling (`aws-smithy-mocks`).

use aws_sdk_ecs::operation::describe_services::DescribeServicesOutput;
use aws_sdk_ecs::operation::describe_task_definition::DescribeTaskDefinitionOutput;
use aws_sdk_ecs::operation::describe_tasks::DescribeTasksOutput;
use aws_sdk_ecs::operation::list_tasks::ListTasksOutput;
use aws_sdk_ecs::operation::register_task_definition::RegisterTaskDefinitionOutput;
use aws_sdk_ecs::primitives::DateTime as SdkTime;
use aws_sdk_ecs::types::{
    Container, ContainerDefinition, Deployment, DeploymentRolloutState, Service, ServiceEvent,
    Task, TaskDefinition, TaskStopCode,
};
use aws_smithy_mocks::{mock, mock_client, RuleMode};
use axiom_ops::adapters::ecs::EcsServices;
use axiom_ops::adapters::sdk::Budget;
use axiom_ops::model::Target;
use axiom_ops::ports::Services;
use axiom_ops::remediate::diagnose::{classify, Failure, Finding};
use chrono::{Duration, Utc};

type TestResult = Result<(), Box<dyn std::error::Error + Send + Sync>>;

const TD7: &str = "arn:aws:ecs:us-east-1:123456789012:task-definition/axiomcore-api:7";
const TD6: &str = "arn:aws:ecs:us-east-1:123456789012:task-definition/axiomcore-api:6";

fn at(ago_secs: i64) -> SdkTime {
    SdkTime::from_secs((Utc::now() - Duration::seconds(ago_secs)).timestamp())
}

fn task(id: &str, stopped_ago: i64, group: &str) -> Task {
    Task::builder()
        .task_arn(format!(
            "arn:aws:ecs:us-east-1:123456789012:task/axiomcore-production/{id}"
        ))
        .task_definition_arn(TD7)
        .group(group)
        .started_at(at(stopped_ago + 20))
        .stopped_at(at(stopped_ago))
        .stop_code(TaskStopCode::EssentialContainerExited)
        .stopped_reason("Essential container in task exited")
        .containers(
            Container::builder()
                .name("api")
                .exit_code(3)
                .reason("exited: missing DATABASE_URL")
                .build(),
        )
        .build()
}

#[tokio::test]
async fn history_reads_exit_codes_events_and_rollout_states() -> TestResult {
    let describe = mock!(aws_sdk_ecs::Client::describe_services).then_output(|| {
        let deployment = |status: &str, td: &str, rollout, ago| {
            Deployment::builder()
                .id(format!("ecs-svc/{ago}"))
                .status(status)
                .task_definition(td)
                .rollout_state(rollout)
                .created_at(at(ago))
                .failed_tasks(4)
                .desired_count(3)
                .running_count(1)
                .build()
        };
        DescribeServicesOutput::builder()
            .services(
                Service::builder()
                    .service_name("api")
                    .deployments(deployment(
                        "PRIMARY",
                        TD7,
                        DeploymentRolloutState::InProgress,
                        300,
                    ))
                    .deployments(deployment(
                        "ACTIVE",
                        TD6,
                        DeploymentRolloutState::Completed,
                        86_400,
                    ))
                    .events(
                        ServiceEvent::builder()
                            .created_at(at(30))
                            .message("(service api) has started 1 tasks: (task abc).")
                            .build(),
                    )
                    .build(),
            )
            .build()
    });
    let list = mock!(aws_sdk_ecs::Client::list_tasks).then_output(|| {
        ListTasksOutput::builder()
            .task_arns("t1")
            .task_arns("t2")
            .task_arns("t3")
            .task_arns("t4")
            .build()
    });
    let tasks = mock!(aws_sdk_ecs::Client::describe_tasks).then_output(|| {
        DescribeTasksOutput::builder()
            .tasks(task("t1", 60, "service:api"))
            .tasks(task("t2", 120, "service:api"))
            // Another service's task, and one stopped before the window: not this evidence.
            .tasks(task("t3", 60, "service:frontend"))
            .tasks(task("t4", 3_600, "service:api"))
            .build()
    });
    let td = mock!(aws_sdk_ecs::Client::describe_task_definition).then_output(|| {
        DescribeTaskDefinitionOutput::builder()
            .task_definition(
                TaskDefinition::builder()
                    .task_definition_arn(TD7)
                    .memory("1024")
                    .build(),
            )
            .build()
    });
    let client = mock_client!(
        aws_sdk_ecs,
        RuleMode::MatchAny,
        [&describe, &list, &tasks, &td]
    );
    let ecs = EcsServices::new(&client, Budget::unbounded());
    let target = Target::new("axiomcore-production", "api");
    let h = ecs
        .history(&target, Utc::now() - Duration::minutes(15))
        .await?;

    assert_eq!(h.deployments.len(), 2);
    assert_eq!(h.deployments[0].rollout.as_deref(), Some("IN_PROGRESS"));
    assert_eq!(h.deployments[0].failed_tasks, 4);
    assert_eq!(h.events.len(), 1);
    assert_eq!(h.task_memory, Some(1024));
    let ids: Vec<&str> = h.stopped.iter().map(|t| t.id.as_str()).collect();
    assert_eq!(
        ids,
        ["t1", "t2"],
        "newest first, only the service's, only recent"
    );
    assert_eq!(h.stopped[0].containers[0].exit_code, Some(3));
    assert_eq!(
        h.stopped[0].stop_code.as_deref(),
        Some("EssentialContainerExited")
    );

    // And what the classifier makes of it: a crash loop, with the completed deployment to go back to.
    let dg = classify(axiom_ops::model::Evidence {
        at: Utc::now(),
        service: axiom_ops::model::Sourced::Read(h),
        log_group: "/aws/ecs/axiomcore/api".into(),
        logs: axiom_ops::model::Sourced::Read(vec![]),
        databases: vec![],
    });
    match dg.finding {
        Finding::CrashLoop {
            failure,
            stops,
            rollback_to,
            ..
        } => {
            assert_eq!(
                (failure, stops, rollback_to.as_deref()),
                (Failure::Exit(3), 2, Some(TD6))
            );
        }
        other => panic!("expected a crash loop, got {other:?}"),
    }
    Ok(())
}

#[tokio::test]
async fn a_memory_scale_up_registers_the_same_definition_with_more_memory() -> TestResult {
    let td = mock!(aws_sdk_ecs::Client::describe_task_definition).then_output(|| {
        DescribeTaskDefinitionOutput::builder()
            .task_definition(
                TaskDefinition::builder()
                    .task_definition_arn(TD7)
                    .family("axiomcore-api")
                    .execution_role_arn("arn:aws:iam::123456789012:role/axiomcore-exec")
                    .cpu("512")
                    .memory("1024")
                    .container_definitions(
                        ContainerDefinition::builder()
                            .name("api")
                            .image("axiomcore/api:1.1")
                            .memory(1024)
                            .build(),
                    )
                    .build(),
            )
            .build()
    });
    let register = mock!(aws_sdk_ecs::Client::register_task_definition)
        .match_requests(|r| {
            r.family() == Some("axiomcore-api")
                && r.memory() == Some("1536")
                && r.cpu() == Some("512")
                && r.execution_role_arn() == Some("arn:aws:iam::123456789012:role/axiomcore-exec")
                && r.container_definitions().first().and_then(|c| c.memory) == Some(1536)
        })
        .then_output(|| {
            RegisterTaskDefinitionOutput::builder()
                .task_definition(
                    TaskDefinition::builder()
                        .task_definition_arn(
                            "arn:aws:ecs:us-east-1:123456789012:task-definition/axiomcore-api:8",
                        )
                        .build(),
                )
                .build()
        });
    let client = mock_client!(aws_sdk_ecs, RuleMode::MatchAny, [&td, &register]);
    let ecs = EcsServices::new(&client, Budget::unbounded());
    let arn = ecs.with_memory(TD7, 1536).await?;
    assert!(arn.ends_with("axiomcore-api:8"), "{arn}");
    assert_eq!(
        register.num_calls(),
        1,
        "the request matched: family, cpu, roles, memory grown"
    );
    Ok(())
}
