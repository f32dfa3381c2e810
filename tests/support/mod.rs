//! Shared set-up for the emulator suites: a fresh moto per test, seeded with AxiomCore.

use std::path::PathBuf;

pub mod certwatch;

use aws_config::SdkConfig;
use axiom_ops::runtime::Config;
use serde_json::Value;
use testkit::{self as emulator, Moto, Received, Seeded, CLUSTER};
use {
    axiom_ops::remediate::App,
    axiom_ops::runtime::{Invocation, Job},
};

pub type TestResult = Result<(), Box<dyn std::error::Error + Send + Sync>>;

pub struct Env {
    pub moto: Moto,
    pub sdk: SdkConfig,
    pub seeded: Seeded,
}

impl Env {
    pub async fn start() -> Result<Env, emulator::BoxError> {
        Env::with(Moto::start()?).await
    }

    /// Under a movable clock starting at `start`, with the production database seeded too.
    pub async fn start_frozen(
        start: chrono::DateTime<chrono::Utc>,
    ) -> Result<Env, emulator::BoxError> {
        let env = Env::with(Moto::start_frozen(start)?).await?;
        emulator::seed_database(&env.sdk, "axiomcore-production").await?;
        Ok(env)
    }

    async fn with(moto: Moto) -> Result<Env, emulator::BoxError> {
        let sdk = moto.sdk_config().await;
        let seeded = emulator::seed(&sdk).await?;
        Ok(Env { moto, sdk, seeded })
    }

    pub fn config(&self, dry_run: bool) -> Config {
        let mut c = Config::from_lookup(|_| None).expect("built-in config");
        c.topic_arn = Some(self.seeded.topic_arn.clone());
        c.ledger_table = Some(self.seeded.table.clone());
        c.dry_run = dry_run;
        c
    }

    /// The function as Lambda would build it, talking to `sdk` (the emulator or a proxy).
    pub fn app_with(&self, sdk: &SdkConfig, dry_run: bool) -> App {
        App::build(self.config(dry_run), sdk).expect("app")
    }

    pub fn app(&self) -> App {
        self.app_with(&self.sdk, false)
    }

    pub async fn desired(&self, service: &str) -> i32 {
        self.service(service).await.desired_count()
    }

    pub async fn primary_deployment(&self, service: &str) -> String {
        let s = self.service(service).await;
        s.deployments()
            .iter()
            .find(|d| d.status() == Some("PRIMARY"))
            .and_then(|d| d.id())
            .unwrap_or_default()
            .to_owned()
    }

    async fn service(&self, service: &str) -> aws_sdk_ecs::types::Service {
        let ecs = aws_sdk_ecs::Client::new(&self.sdk);
        let out = ecs
            .describe_services()
            .cluster(CLUSTER)
            .services(service)
            .send()
            .await
            .expect("describe");
        out.services().first().cloned().expect("service exists")
    }

    /// `event`, after making CloudWatch agree with it (the alarm exists, in the state the event
    /// reports), as in an account where the event is real.
    pub async fn agree(&self, event: Value) -> Value {
        emulator::agree(&self.sdk, &event)
            .await
            .expect("alarm state set in the emulator")
    }

    /// Sets an alarm's state in the emulator (creating it if needed).
    pub async fn set_alarm(&self, name: &str, state: &str) {
        emulator::set_alarm(&self.sdk, name, state)
            .await
            .expect("alarm state set in the emulator")
    }

    /// `service` under Application Auto Scaling with these bounds, as the guide configures it.
    pub async fn register_scalable_target(
        &self,
        service: &str,
        min: i32,
        max: i32,
    ) -> Result<(), emulator::BoxError> {
        use aws_sdk_applicationautoscaling::types::{ScalableDimension, ServiceNamespace};
        aws_sdk_applicationautoscaling::Client::new(&self.sdk)
            .register_scalable_target()
            .service_namespace(ServiceNamespace::Ecs)
            .resource_id(format!("service/{CLUSTER}/{service}"))
            .scalable_dimension(ScalableDimension::EcsServiceDesiredCount)
            .min_capacity(min)
            .max_capacity(max)
            .send()
            .await?;
        Ok(())
    }

    pub async fn inbox(&self) -> Vec<Received> {
        emulator::drain_inbox(&self.sdk, &self.seeded.inbox_url)
            .await
            .expect("drain inbox")
    }

    pub async fn history(&self, target_pk: &str) -> Vec<Value> {
        use axiom_ops::ports::Ledger;
        self.app()
            .ledger()
            .history(target_pk)
            .await
            .expect("history")
    }
}

pub fn invocation() -> Invocation {
    Invocation::local("test-request", std::time::Duration::from_secs(30))
}

pub fn events_dir() -> PathBuf {
    emulator::events_dir()
}

pub fn event(name: &str) -> Value {
    emulator::sample(name).expect("a sample of events/")
}

/// The first decision report of a handler result.
pub fn first(report: &Value) -> &Value {
    &report["results"][0]
}

/// An EventBridge alarm state change for `alarm`, built like events/eventbridge-metric-alarm.json.
pub fn eventbridge(alarm: &str, state: &str, timestamp: &str) -> Value {
    let mut v = event("eventbridge-metric-alarm.json");
    v["detail"]["alarmName"] = Value::String(alarm.to_owned());
    v["detail"]["state"]["value"] = Value::String(state.to_owned());
    v["detail"]["state"]["timestamp"] = Value::String(timestamp.to_owned());
    v["resources"] = serde_json::json!([format!(
        "arn:aws:cloudwatch:us-east-1:123456789012:alarm:{alarm}"
    )]);
    if let Some(config) = v["detail"]["configuration"].as_object_mut() {
        // Name-based targeting: no ECS dimensions.
        config.remove("metrics");
    }
    v
}

/// An invocation of the function deployed in the emulator's account and region.
pub fn inv_home() -> Invocation {
    Invocation::local("verify", std::time::Duration::from_secs(30))
        .at_home(emulator::ACCOUNT, emulator::REGION)
}

/// The same, `ahead` later (a tick long after, or a retry after the lease ran out).
pub fn inv_home_later(ahead: chrono::Duration) -> Invocation {
    let mut i = inv_home();
    i.now = chrono::Utc::now() + ahead;
    i
}

/// The CPU sample, as if CloudWatch had just changed state (incidents it opens are young).
pub fn cpu_alarm_now() -> Value {
    let mut v = event("eventbridge-metric-alarm.json");
    v["detail"]["state"]["timestamp"] = serde_json::json!(chrono::Utc::now()
        .format("%Y-%m-%dT%H:%M:%S%.3f+0000")
        .to_string());
    v
}

pub fn api_pk() -> String {
    axiom_ops::remediate::state::target_pk(&axiom_ops::model::Target::new(CLUSTER, "api"))
}

/// A fault proxy in front of the test's emulator, and an SDK configuration through it.
pub async fn proxied(
    env: &Env,
) -> Result<(emulator::fault_proxy::FaultProxy, SdkConfig), emulator::BoxError> {
    let proxy = emulator::fault_proxy::FaultProxy::start(env.moto.addr).await?;
    let sdk = Moto::sdk_config_for(&proxy.endpoint()).await;
    Ok((proxy, sdk))
}
