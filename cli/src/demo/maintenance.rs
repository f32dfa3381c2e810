//! The demo's maintenance part: this month's window, now, on the emulator, with the health
//! endpoint served here and the guide's waits shortened to seconds.

use anyhow::anyhow;
use aws_sdk_applicationautoscaling::types::{ScalableDimension, ServiceNamespace};
use axiom_ops::runtime::Job;
use chrono::Utc;
use testkit::http::{read_request, write_response};
use testkit::CLUSTER;

use super::remediation::services;
use super::{print_fitted, section, Stage, Summary};

pub async fn window(stage: &Stage, summary: &mut Summary) -> anyhow::Result<()> {
    let now = Utc::now();
    section(&format!(
        "Maintenance window, now ({} UTC)",
        now.format("%H:%M")
    ));
    stage.clock(now)?;
    aws_sdk_applicationautoscaling::Client::new(&stage.sdk)
        .register_scalable_target()
        .service_namespace(ServiceNamespace::Ecs)
        .resource_id(format!("service/{CLUSTER}/api"))
        .scalable_dimension(ScalableDimension::EcsServiceDesiredCount)
        .min_capacity(2)
        .max_capacity(10)
        .send()
        .await?;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let health = format!("http://{}/health", listener.local_addr()?);
    tokio::spawn(async move {
        while let Ok((mut s, _)) = listener.accept().await {
            if let Ok(Some(_)) = read_request(&mut s).await {
                let _ = write_response(&mut s, 200, "OK", &[], b"{\"status\":\"ok\"}").await;
            }
        }
    });
    let text = axiom_ops::policy::BUILT_IN
        .replace("https://api.axiomcore.example.com/health", &health)
        .replace("health_interval = \"30s\"", "health_interval = \"1s\"")
        .replace("monitor = \"15m\"", "monitor = \"3s\"")
        .replace("poll_interval = \"30s\"", "poll_interval = \"1s\"");
    let mut config = stage.config.clone();
    config.policy = axiom_ops::policy::Policy::from_toml(&text, "demo")?;
    let app = axiom_ops::maintenance::MaintenanceApp::build(config, &stage.sdk)?;
    let counts = |s: Vec<(String, super::remediation::Service)>| {
        s.into_iter()
            .map(|(n, s)| format!("{n} {}", s.desired))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let before = counts(services(&stage.sdk).await?);
    println!("Before: {before} (api under auto scaling 2–10).");
    println!("Running the window as its state machine would:");
    let out = crate::maintenance::drive(&app, false).await?;
    let after = counts(services(&stage.sdk).await?);
    let mode = aws_sdk_ssm::Client::new(&stage.sdk)
        .get_parameter()
        .name("/axiomcore/production/maintenance-mode")
        .send()
        .await
        .ok()
        .and_then(|o| o.parameter().and_then(|p| p.value()).map(str::to_owned))
        .unwrap_or_default();
    let rolled_back = out["rolled_back"] == true;
    println!(
        "After: {after}; maintenance mode {mode}; {}.",
        if rolled_back {
            "rolled back"
        } else {
            "no rollback"
        }
    );
    println!("\n`axiom-ops maintenance status` shows:\n");
    print_fitted(
        &crate::maintenance::status_text(&app)
            .await
            .map_err(|e| anyhow!("{e:#}"))?,
    );
    summary.say(format!(
        "This month's maintenance window ran every step (snapshot, scale down, the tasks, the \
         health check, scale back) and {}: {after} again, maintenance mode {mode}.",
        if rolled_back {
            "was rolled back"
        } else {
            "finished"
        }
    ));
    Ok(())
}
