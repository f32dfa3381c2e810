//! The demo's "diagnose before acting" part: a service whose new image does not pull is not
//! restarted (a restart would not help), and a closed incident's post-mortem draft.

use anyhow::anyhow;
use axiom_ops::remediate::App;
use axiom_ops::runtime::{Invocation, Job};
use chrono::{DateTime, Duration, Utc};
use serde_json::{json, Value};
use testkit::{self as emulator, CLUSTER};

use super::{section, summarize, Stage, Summary};
use crate::events::{newest, shift};
use crate::text;

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
    let draft = String::from_utf8_lossy(&bytes.into_bytes()).into_owned();
    println!(
        "\n{}",
        text::wrap(
            &format!(
                "The closed incident's post-mortem draft, s3://{BUCKET}/{key} \
                 (`axiom-ops postmortem {CLUSTER}/api`), begins:"
            ),
            text::width(),
            ""
        )
    );
    if let Some(summary) = draft
        .split("## Summary")
        .nth(1)
        .and_then(|t| t.trim().lines().next())
    {
        println!("{}", text::wrap(summary, text::width(), "  "));
    }
    Ok(())
}

/// Two frontend tasks fail to pull their new image; then, at `at`, frontend's down alarm fires.
pub async fn image_pull(
    stage: &Stage,
    app: &App,
    at: DateTime<Utc>,
    summary: &mut Summary,
) -> anyhow::Result<()> {
    section(&format!(
        "Diagnose before acting, {} UTC",
        at.format("%H:%M")
    ));
    stage.clock(at - Duration::minutes(2))?;
    let reason = "CannotPullContainerError: pull image manifest has been retried 5 time(s)";
    emulator::stopped_tasks(&stage.sdk, "frontend", reason, 2)
        .await
        .map_err(|e| anyhow!("{e}"))?;
    println!(
        "{}",
        text::wrap(
            &format!("Two frontend tasks stopped: {reason}."),
            text::width(),
            ""
        )
    );
    let name = "axiomcore-frontend-down-critical";
    let mut alarm = stage.sample("eventbridge-metric-alarm.json")?;
    let was = newest(&alarm).ok_or_else(|| anyhow!("the sample has no time"))?;
    shift(&mut alarm, at - was);
    alarm["detail"]["alarmName"] = json!(name);
    alarm["resources"] = json!([format!(
        "arn:aws:cloudwatch:us-east-1:123456789012:alarm:{name}"
    )]);
    if let Some(c) = alarm["detail"]["configuration"].as_object_mut() {
        c.remove("metrics");
    }
    let handled = at + Duration::seconds(5);
    stage.clock(handled)?;
    let alarm = emulator::agree(&stage.sdk, &alarm)
        .await
        .map_err(|e| anyhow!("setting the alarm's state: {e}"))?;
    let mut inv = Invocation::local("demo-diagnose", std::time::Duration::from_secs(30));
    inv.now = handled;
    let report = app.handle(&alarm, &inv, false).await?;
    println!(
        "{}",
        text::wrap(
            &format!("{name} ALARM → {}", summarize(&report)),
            text::width(),
            ""
        )
    );
    let notices = emulator::drain_inbox(&stage.sdk, &stage.inbox_url)
        .await
        .map_err(|e| anyhow!("{e}"))?;
    for n in &notices {
        println!(
            "{}",
            text::cut(&format!("  notice: {}", n.subject), text::width())
        );
        if let Some(finding) = n.message["diagnosis"]["finding"].as_object() {
            println!("  the notice's diagnosis, as JSON:");
            let pretty = serde_json::to_string_pretty(&Value::Object(finding.clone()))?;
            for line in pretty.lines() {
                println!("{}", text::cut(&format!("    {line}"), text::width()));
            }
        }
    }
    summary.say(
        "A crash loop (the new image cannot be pulled) was diagnosed from the stopped tasks and \
         not restarted: a SEV1 asked for a human instead."
            .into(),
    );
    Ok(())
}
