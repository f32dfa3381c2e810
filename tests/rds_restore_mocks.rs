//! The RDS restore adapter's request, for what the emulator does not keep: moto 5.2.5 drops
//! `PubliclyAccessible` from a restored instance, so that the restore asks for a private
//! instance (with the class, network and tags given) is checked with the SDK's own test tooling.

use aws_sdk_rds::operation::restore_db_instance_from_db_snapshot::RestoreDbInstanceFromDbSnapshotOutput;
use aws_smithy_mocks::{mock, mock_client, RuleMode};
use axiom_ops::adapters::rds::RdsSnapshots;
use axiom_ops::adapters::sdk::Budget;
use axiom_ops::model::RestoreSpec;
use axiom_ops::ports::Restores;

type TestResult = Result<(), Box<dyn std::error::Error + Send + Sync>>;

#[tokio::test]
async fn a_restore_asks_for_a_private_instance_of_the_class_with_the_tags() -> TestResult {
    let restore = mock!(aws_sdk_rds::Client::restore_db_instance_from_db_snapshot)
        .match_requests(|r| {
            r.publicly_accessible() == Some(false)
                && r.db_instance_class() == Some("db.t3.micro")
                && r.db_subnet_group_name() == Some("axiomcore-private")
                && r.vpc_security_group_ids() == ["sg-0123456789abcdef0"]
                && r.db_snapshot_identifier() == Some("axiomcore-production-auto-20261127-020000")
                && r.db_instance_identifier() == Some("axiomcore-production-drill-20261127")
                && r.tags()
                    .iter()
                    .any(|t| t.key() == Some("axiom-ops:drill") && t.value() == Some("true"))
        })
        .then_output(|| RestoreDbInstanceFromDbSnapshotOutput::builder().build());
    let client = mock_client!(aws_sdk_rds, RuleMode::Sequential, [&restore]);
    let rds = RdsSnapshots::new(&client, Budget::unbounded());
    let spec = RestoreSpec {
        class: Some("db.t3.micro".into()),
        subnet_group: Some("axiomcore-private".into()),
        security_groups: vec!["sg-0123456789abcdef0".into()],
        tags: vec![("axiom-ops:drill".to_owned(), "true".to_owned())],
    };
    rds.restore(
        "axiomcore-production-auto-20261127-020000",
        "axiomcore-production-drill-20261127",
        &spec,
    )
    .await?;
    assert_eq!(restore.num_calls(), 1);
    Ok(())
}
