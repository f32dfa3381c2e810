//! The local AWS emulator harness: moto server started on a free loopback port and stopped by
//! its pid, the AxiomCore environment seeded in it, and the pieces tests put around it (a fault
//! proxy, a Lambda Runtime API). Used by the CLI's `demo`, the integration tests and benches.

pub mod alarms;
pub mod backup;
pub mod fault_proxy;
pub mod http;
pub mod pki;
pub mod runtime_api;

use std::collections::BTreeMap;
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use aws_config::{Region, SdkConfig};
use aws_sdk_dynamodb::config::Credentials;
use serde_json::Value;

pub use alarms::{agree, set_alarm};

pub const REGION: &str = "us-east-1";
pub const ACCOUNT: &str = "123456789012";
pub const CLUSTER: &str = "axiomcore-production";
pub const TABLE: &str = "axiomcore-ops-ledger";
pub const TOPIC: &str = "axiomcore-ops";
pub const INBOX: &str = "axiomcore-ops-inbox";

pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// The project's sample events (`events/`), for tests and benches.
pub fn events_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../events")
}

/// One sample event, parsed.
pub fn sample(name: &str) -> Result<Value, BoxError> {
    let path = events_dir().join(name);
    let text = std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
    Ok(serde_json::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))?)
}

/// A running moto server; stopped (by pid) when dropped.
pub struct Moto {
    child: Child,
    pub addr: SocketAddr,
    /// Where to move the clock, for a moto started under one (`start_frozen`).
    clock: Option<SocketAddr>,
    script: Option<PathBuf>,
}

/// The launcher that runs moto under a movable clock.
const FROZEN_LAUNCHER: &str = include_str!("../../emulator/moto_frozen.py");
/// The launcher that runs moto one request at a time (conditional writes atomic, as in AWS).
const SERIAL_LAUNCHER: &str = include_str!("../../emulator/moto_serial.py");

/// Runs one of the emulator's launchers (written out beside the temp files) with the venv's
/// python; the script's path is kept to be removed with the server.
fn launch(
    venv: &Path,
    kind: &str,
    launcher: &str,
    args: &[String],
) -> Result<(Child, PathBuf), BoxError> {
    let script = std::env::temp_dir().join(format!(
        "axiom-ops-moto-{kind}-{}-{}.py",
        std::process::id(),
        args.first().map_or("", String::as_str)
    ));
    std::fs::write(&script, launcher)?;
    let child = Command::new(venv.join("bin/python"))
        .arg(&script)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| format!("starting the {kind} emulator: {e}"))?;
    Ok((child, script))
}

fn free_port() -> std::io::Result<u16> {
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

/// The project's emulator venv: `OPS_EMULATOR_VENV`, else `.venv` in this folder or above it,
/// else beside the workspace this was built from.
pub fn venv_dir() -> Option<PathBuf> {
    if let Some(v) = std::env::var_os("OPS_EMULATOR_VENV") {
        return Some(PathBuf::from(v));
    }
    let has_moto = |d: &Path| d.join(".venv/bin/moto_server").is_file();
    let mut here = std::env::current_dir().ok();
    while let Some(d) = here {
        if has_moto(&d) {
            return Some(d.join(".venv"));
        }
        here = d.parent().map(Path::to_path_buf);
    }
    let workspace = Path::new(env!("CARGO_MANIFEST_DIR")).parent()?;
    has_moto(workspace).then(|| workspace.join(".venv"))
}

impl Moto {
    pub fn start() -> Result<Moto, BoxError> {
        let venv = venv_dir().ok_or(
            "the local AWS emulator is not installed: run `make venv` (creates .venv with moto from requirements-emulator.txt)",
        )?;
        let port = free_port()?;
        let (child, script) = launch(&venv, "serial", SERIAL_LAUNCHER, &[port.to_string()])?;
        Moto::wait_ready(Moto {
            child,
            addr: ([127, 0, 0, 1], port).into(),
            clock: None,
            script: Some(script),
        })
    }

    /// moto in-process under a frozen clock that starts at `start` and ticks from there;
    /// `set_clock` moves it (days of snapshot history in a test that runs for seconds).
    pub fn start_frozen(start: chrono::DateTime<chrono::Utc>) -> Result<Moto, BoxError> {
        let venv = venv_dir().ok_or("the local AWS emulator is not installed: run `make venv`")?;
        let (port, clock_port) = (free_port()?, free_port()?);
        let (child, script) = launch(
            &venv,
            "frozen",
            FROZEN_LAUNCHER,
            &[port.to_string(), clock_port.to_string(), start.to_rfc3339()],
        )?;
        let moto = Moto::wait_ready(Moto {
            child,
            addr: ([127, 0, 0, 1], port).into(),
            clock: Some(([127, 0, 0, 1], clock_port).into()),
            script: Some(script),
        })?;
        let deadline = Instant::now() + Duration::from_secs(30);
        while TcpStream::connect_timeout(
            &([127, 0, 0, 1], clock_port).into(),
            Duration::from_millis(200),
        )
        .is_err()
        {
            if Instant::now() > deadline {
                return Err("the emulator's clock did not listen within 30 s".into());
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        Ok(moto)
    }

    /// Moves a frozen emulator's clock to `t` (it keeps ticking from there).
    pub fn set_clock(&self, t: chrono::DateTime<chrono::Utc>) -> Result<(), BoxError> {
        use std::io::{Read, Write};
        let addr = self
            .clock
            .ok_or("this emulator was not started with a movable clock")?;
        let body = t.to_rfc3339();
        let mut s = TcpStream::connect_timeout(&addr, Duration::from_secs(5))?;
        s.set_read_timeout(Some(Duration::from_secs(10)))?;
        write!(
            s,
            "POST /clock HTTP/1.0\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        )?;
        let mut answer = String::new();
        s.read_to_string(&mut answer)?;
        if !answer.starts_with("HTTP/1.0 204") && !answer.starts_with("HTTP/1.1 204") {
            return Err(
                format!("moving the clock: {}", answer.lines().next().unwrap_or("")).into(),
            );
        }
        Ok(())
    }

    fn wait_ready(mut moto: Moto) -> Result<Moto, BoxError> {
        let addr = moto.addr;
        let deadline = Instant::now() + Duration::from_secs(60);
        while TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_err() {
            if let Some(status) = moto.child.try_wait()? {
                return Err(format!("moto server exited at start: {status}").into());
            }
            if Instant::now() > deadline {
                return Err("moto server did not listen within 60 s".into());
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        Ok(moto)
    }

    pub fn endpoint(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// SDK config for this emulator (or a proxy in front of it), with the project's retries and
    /// timeouts.
    pub async fn sdk_config_for(endpoint: &str) -> SdkConfig {
        axiom_ops::adapters::sdk::loader()
            .endpoint_url(endpoint)
            .region(Region::new(REGION))
            .credentials_provider(Credentials::new(
                "testing", "testing", None, None, "emulator",
            ))
            .load()
            .await
    }

    pub async fn sdk_config(&self) -> SdkConfig {
        Moto::sdk_config_for(&self.endpoint()).await
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        if let Some(s) = &self.script {
            let _ = std::fs::remove_file(s);
        }
    }
}

/// What `seed` created.
#[derive(Debug, Clone)]
pub struct Seeded {
    pub topic_arn: String,
    pub table: String,
    pub inbox_url: String,
}

/// The AxiomCore production environment: cluster, api (3 tasks) and frontend (2), the ops topic
/// with an SQS inbox subscribed to read notices back, and the ledger table with TTL.
pub async fn seed(sdk: &SdkConfig) -> Result<Seeded, BoxError> {
    let ecs = aws_sdk_ecs::Client::new(sdk);
    ecs.create_cluster().cluster_name(CLUSTER).send().await?;
    for (svc, desired) in [("api", 3), ("frontend", 2)] {
        let family = format!("axiomcore-{svc}");
        ecs.register_task_definition()
            .family(&family)
            .container_definitions(
                aws_sdk_ecs::types::ContainerDefinition::builder()
                    .name(svc)
                    .image(format!("axiomcore/{svc}:1.0"))
                    .memory(512)
                    .build(),
            )
            .send()
            .await?;
        ecs.create_service()
            .cluster(CLUSTER)
            .service_name(svc)
            .task_definition(&family)
            .desired_count(desired)
            .send()
            .await?;
    }

    let ddb = aws_sdk_dynamodb::Client::new(sdk);
    create_ledger_table(&ddb, TABLE).await?;

    let sns = aws_sdk_sns::Client::new(sdk);
    let topic_arn = sns
        .create_topic()
        .name(TOPIC)
        .send()
        .await?
        .topic_arn()
        .ok_or("create_topic returned no ARN")?
        .to_owned();
    let sqs = aws_sdk_sqs::Client::new(sdk);
    let inbox_url = sqs
        .create_queue()
        .queue_name(INBOX)
        .send()
        .await?
        .queue_url()
        .ok_or("create_queue returned no URL")?
        .to_owned();
    let inbox_arn = format!("arn:aws:sqs:{REGION}:{ACCOUNT}:{INBOX}");
    sns.subscribe()
        .topic_arn(&topic_arn)
        .protocol("sqs")
        .endpoint(inbox_arn)
        .send()
        .await?;
    Ok(Seeded {
        topic_arn,
        table: TABLE.to_owned(),
        inbox_url,
    })
}

/// The production database of the guide: RDS instance `axiomcore-production`.
pub async fn seed_database(sdk: &SdkConfig, id: &str) -> Result<(), BoxError> {
    aws_sdk_rds::Client::new(sdk)
        .create_db_instance()
        .db_instance_identifier(id)
        .engine("postgres")
        .db_instance_class("db.t3.micro")
        .allocated_storage(20)
        .master_username("axiomcore")
        .master_user_password("not-a-real-secret-1")
        .send()
        .await?;
    Ok(())
}

/// `n` Fargate tasks of `service`'s family, each started as the service would and stopped with
/// `reason`, as ECS leaves them when they fail (the emulator keeps the reason, no exit code).
pub async fn stopped_tasks(
    sdk: &SdkConfig,
    service: &str,
    reason: &str,
    n: usize,
) -> Result<(), BoxError> {
    let ecs = aws_sdk_ecs::Client::new(sdk);
    for _ in 0..n {
        let out = ecs
            .run_task()
            .cluster(CLUSTER)
            .task_definition(format!("axiomcore-{service}"))
            .launch_type(aws_sdk_ecs::types::LaunchType::Fargate)
            .group(format!("service:{service}"))
            .send()
            .await?;
        let arn = out
            .tasks()
            .first()
            .and_then(|t| t.task_arn())
            .ok_or("no task started")?
            .to_owned();
        ecs.stop_task()
            .cluster(CLUSTER)
            .task(arn)
            .reason(reason)
            .send()
            .await?;
    }
    Ok(())
}

/// The ledger table as template.yaml defines it.
pub async fn create_ledger_table(
    ddb: &aws_sdk_dynamodb::Client,
    table: &str,
) -> Result<(), BoxError> {
    use aws_sdk_dynamodb::types::{
        AttributeDefinition, BillingMode, GlobalSecondaryIndex, KeySchemaElement, KeyType,
        Projection, ProjectionType, ScalarAttributeType, TimeToLiveSpecification,
    };
    let attr = |name: &str, t: ScalarAttributeType| {
        AttributeDefinition::builder()
            .attribute_name(name)
            .attribute_type(t)
            .build()
    };
    let key = |name: &str, t: KeyType| {
        KeySchemaElement::builder()
            .attribute_name(name)
            .key_type(t)
            .build()
    };
    ddb.create_table()
        .table_name(table)
        .billing_mode(BillingMode::PayPerRequest)
        .attribute_definitions(
            AttributeDefinition::builder()
                .attribute_name("pk")
                .attribute_type(ScalarAttributeType::S)
                .build()?,
        )
        .attribute_definitions(
            AttributeDefinition::builder()
                .attribute_name("sk")
                .attribute_type(ScalarAttributeType::S)
                .build()?,
        )
        .key_schema(
            KeySchemaElement::builder()
                .attribute_name("pk")
                .key_type(KeyType::Hash)
                .build()?,
        )
        .key_schema(
            KeySchemaElement::builder()
                .attribute_name("sk")
                .key_type(KeyType::Range)
                .build()?,
        )
        // The outbox of kept, unsent notices, as template.yaml defines it.
        .attribute_definitions(attr("outbox", ScalarAttributeType::S)?)
        .attribute_definitions(attr("lease_until", ScalarAttributeType::N)?)
        .global_secondary_indexes(
            GlobalSecondaryIndex::builder()
                .index_name("outbox")
                .key_schema(key("outbox", KeyType::Hash)?)
                .key_schema(key("lease_until", KeyType::Range)?)
                .projection(
                    Projection::builder()
                        .projection_type(ProjectionType::KeysOnly)
                        .build(),
                )
                .build()?,
        )
        .send()
        .await?;
    ddb.update_time_to_live()
        .table_name(table)
        .time_to_live_specification(
            TimeToLiveSpecification::builder()
                .attribute_name("expires_at")
                .enabled(true)
                .build()?,
        )
        .send()
        .await?;
    Ok(())
}

/// A notification as an SQS subscriber of the ops topic receives it.
#[derive(Debug, Clone)]
pub struct Received {
    pub subject: String,
    pub attributes: BTreeMap<String, String>,
    /// The JSON body SNS chose for the `sqs` protocol.
    pub message: Value,
}

/// Everything waiting in the inbox, oldest first as far as SQS keeps order.
pub async fn drain_inbox(sdk: &SdkConfig, inbox_url: &str) -> Result<Vec<Received>, BoxError> {
    let sqs = aws_sdk_sqs::Client::new(sdk);
    let mut out = Vec::new();
    loop {
        let msgs = sqs
            .receive_message()
            .queue_url(inbox_url)
            .max_number_of_messages(10)
            .wait_time_seconds(0)
            .send()
            .await?;
        let batch = msgs.messages();
        if batch.is_empty() {
            break;
        }
        for m in batch {
            let envelope: Value = serde_json::from_str(m.body().unwrap_or("{}"))?;
            let attributes = envelope
                .get("MessageAttributes")
                .and_then(Value::as_object)
                .map(|o| {
                    o.iter()
                        .map(|(k, v)| {
                            (
                                k.clone(),
                                v.get("Value")
                                    .and_then(Value::as_str)
                                    .unwrap_or("")
                                    .to_owned(),
                            )
                        })
                        .collect()
                })
                .unwrap_or_default();
            let message = envelope
                .get("Message")
                .and_then(Value::as_str)
                .map(|s| serde_json::from_str(s).unwrap_or_else(|_| Value::String(s.to_owned())))
                .unwrap_or(Value::Null);
            out.push(Received {
                subject: envelope
                    .get("Subject")
                    .and_then(Value::as_str)
                    .unwrap_or("")
                    .to_owned(),
                attributes,
                message,
            });
            if let Some(h) = m.receipt_handle() {
                sqs.delete_message()
                    .queue_url(inbox_url)
                    .receipt_handle(h)
                    .send()
                    .await?;
            }
        }
    }
    Ok(out)
}

/// The operator CLI at `bin` as an operator runs it against the emulator: nothing of this
/// process's environment but `PATH`, test credentials, the endpoint, the ledger and the topic.
/// Stdin is closed, so a question the CLI asks is answered "no".
pub fn cli_command(bin: &str, moto: &Moto, seeded: &Seeded) -> Command {
    let mut c = Command::new(bin);
    c.env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("AWS_REGION", REGION)
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .env("AWS_ENDPOINT_URL", moto.endpoint())
        .env("OPS_LEDGER_TABLE", &seeded.table)
        .env("OPS_TOPIC_ARN", &seeded.topic_arn)
        .stdin(Stdio::null());
    c
}
