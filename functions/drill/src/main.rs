//! The `drill` Lambda: everything is in the core; this only names the job.

// One event at a time per process: one thread is all it needs, and starts faster.
#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_runtime::Error> {
    axiom_ops::runtime::serve::<axiom_ops::drill::DrillApp>().await
}
