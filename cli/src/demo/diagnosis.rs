//! The demo's "diagnose before acting" part: a service whose new image does not pull is not
//! restarted (a restart would not help), and a closed incident's post-mortem draft.

use anyhow::anyhow;
use axiom_ops::remediate::App;
use axiom_ops::runtime::{Invocation, Job};
use serde_json::{json, Value};
use testkit::{self as emulator, CLUSTER};

/// The reports bucket the demo's function writes its drafts to.
pub const BUCKET: &str = "axiomcore-ops-reports";

/// Creates the reports bucket in the emulator.
pub async fn bucket(sdk: &aws_config::SdkConfig) -> anyhow::Result<()> {
    axiom_ops::remediate::s3_client(sdk)
        .create_bucket()
        .bucket(BUCKET)
        .send()
        .await
        .map_err(|e| anyhow!("creating the reports bucket: {e}"))?;
    Ok(())
}

/// The post-mortem draft of the incident the story closed: where it is and its summary.
pub async fn postmortem(sdk: &aws_config::SdkConfig) -> anyhow::Result<()> {
    let s3 = axiom_ops::remediate::s3_client(sdk);
    let listed = s3
        .list_objects_v2()
        .bucket(BUCKET)
        .prefix(format!("postmortems/{CLUSTER}/api/"))
        .send()
        .await
        .map_err(|e| anyhow!("listing the drafts: {e}"))?;
    let Some(key) = listed.contents().iter().filter_map(|o| o.key()).next_back() else {
        println!("\nNo post-mortem draft was written.");
        return Ok(());
    };
    let object = s3
        .get_object()
        .bucket(BUCKET)
        .key(key)
        .send()
        .await
        .map_err(|e| anyhow!("reading the draft: {e}"))?;
    let bytes = object
        .body
        .collect()
        .await
        .map_err(|e| anyhow!("reading the draft: {e}"))?;
    let text = String::from_utf8_lossy(&bytes.into_bytes()).into_owned();
    println!("\nThe closed incident's post-mortem draft, s3://{BUCKET}/{key} (`axiom-ops postmortem {CLUSTER}/api`):");
    // Its summary; the times in it mix the samples' clock with the demo's, so they are left out.
    if let Some(summary) = text
        .split("## Summary")
        .nth(1)
        .and_then(|t| t.trim().lines().next())
    {
        println!("  {summary}");
    }
    Ok(())
}

/// Two frontend tasks fail to pull their new image; then frontend's down alarm fires.
pub async fn image_pull(
    sdk: &aws_config::SdkConfig,
    app: &App,
    sample: &Value,
    inbox_url: &str,
) -> anyhow::Result<()> {
    println!("\n── Diagnose before acting ──────────────────────────────────────────────────────");
    let reason = "CannotPullContainerError: pull image manifest has been retried 5 time(s)";
    emulator::stopped_tasks(sdk, "frontend", reason, 2)
        .await
        .map_err(|e| anyhow!("{e}"))?;
    println!("Two frontend tasks stopped: {reason}.");
    let name = "axiomcore-frontend-down-critical";
    let mut alarm = sample.clone();
    alarm["detail"]["alarmName"] = json!(name);
    alarm["detail"]["state"]["timestamp"] = json!(chrono::Utc::now()
        .format("%Y-%m-%dT%H:%M:%S%.3f+0000")
        .to_string());
    alarm["resources"] = json!([format!(
        "arn:aws:cloudwatch:us-east-1:123456789012:alarm:{name}"
    )]);
    if let Some(c) = alarm["detail"]["configuration"].as_object_mut() {
        c.remove("metrics");
    }
    let alarm = emulator::agree(sdk, &alarm)
        .await
        .map_err(|e| anyhow!("setting the alarm's state: {e}"))?;
    let inv = Invocation::local("demo-diagnose", std::time::Duration::from_secs(30));
    let report = app.handle(&alarm, &inv, false).await?;
    println!("{name} ALARM → {}", super::summarize(&report));
    let notices = emulator::drain_inbox(sdk, inbox_url)
        .await
        .map_err(|e| anyhow!("{e}"))?;
    for n in &notices {
        println!("  notice: {}", n.subject);
        if let Some(finding) = n.message["diagnosis"]["finding"].as_object() {
            println!(
                "  diagnosis (JSON body): {}",
                Value::Object(finding.clone())
            );
        }
    }
    Ok(())
}
