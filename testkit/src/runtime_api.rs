//! A Lambda Runtime API on loopback, so a real `bootstrap` binary can be run, fed events and
//! watched, as Lambda would run it.

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde_json::Value;
use tokio::io::AsyncReadExt;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Notify;
use tokio::task::JoinHandle;

use super::http::{read_request, write_response};

/// What the function answered for one event.
#[derive(Debug, Clone, PartialEq)]
pub enum Answer {
    Response(Value),
    Error(Value),
}

#[derive(Default)]
struct Shared {
    queue: VecDeque<(String, Value, Duration)>,
    answers: Vec<(String, Answer)>,
    init_error: Option<Value>,
    first_poll: Option<Instant>,
    next_id: u64,
}

pub struct RuntimeApi {
    pub addr: SocketAddr,
    shared: Arc<Mutex<Shared>>,
    queued: Arc<Notify>,
    answered: Arc<Notify>,
    task: JoinHandle<()>,
}

impl RuntimeApi {
    pub async fn start() -> std::io::Result<RuntimeApi> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let shared = Arc::new(Mutex::new(Shared::default()));
        let queued = Arc::new(Notify::new());
        let answered = Arc::new(Notify::new());
        let (s, q, a) = (shared.clone(), queued.clone(), answered.clone());
        let task = tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                tokio::spawn(serve(stream, s.clone(), q.clone(), a.clone()));
            }
        });
        Ok(RuntimeApi {
            addr,
            shared,
            queued,
            answered,
            task,
        })
    }

    /// The value for `AWS_LAMBDA_RUNTIME_API`.
    pub fn host(&self) -> String {
        self.addr.to_string()
    }

    /// Queues an event with the time the function gets for it; returns its request id.
    pub fn push(&self, event: Value, timeout: Duration) -> String {
        let id = match self.shared.lock() {
            Ok(mut s) => {
                s.next_id += 1;
                let id = format!("req-{:04}", s.next_id);
                s.queue.push_back((id.clone(), event, timeout));
                id
            }
            Err(_) => String::new(),
        };
        self.queued.notify_waiters();
        id
    }

    /// Waits for the answer to `id`.
    pub async fn answer(&self, id: &str, within: Duration) -> Option<Answer> {
        let deadline = Instant::now() + within;
        loop {
            let notified = self.answered.notified();
            if let Some(a) = self.shared.lock().ok().and_then(|s| {
                s.answers
                    .iter()
                    .find(|(i, _)| i == id)
                    .map(|(_, a)| a.clone())
            }) {
                return Some(a);
            }
            if let Some(e) = self.shared.lock().ok().and_then(|s| s.init_error.clone()) {
                return Some(Answer::Error(e));
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() || tokio::time::timeout(left, notified).await.is_err() {
                return None;
            }
        }
    }

    /// When the function first asked for an event: its cold start is over.
    pub fn first_poll(&self) -> Option<Instant> {
        self.shared.lock().ok().and_then(|s| s.first_poll)
    }

    pub fn init_error(&self) -> Option<Value> {
        self.shared.lock().ok().and_then(|s| s.init_error.clone())
    }
}

impl Drop for RuntimeApi {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn serve(
    mut stream: TcpStream,
    shared: Arc<Mutex<Shared>>,
    queued: Arc<Notify>,
    answered: Arc<Notify>,
) {
    let Ok(Some(req)) = read_request(&mut stream).await else {
        return;
    };
    let path = req.path.trim_start_matches("/2018-06-01/runtime");
    if req.method == "GET" && path == "/invocation/next" {
        loop {
            let notified = queued.notified();
            let next = shared.lock().ok().and_then(|mut s| {
                s.first_poll.get_or_insert_with(Instant::now);
                s.queue.pop_front()
            });
            if let Some((id, event, timeout)) = next {
                let deadline = SystemTime::now()
                    .checked_add(timeout)
                    .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
                    .map(|d| d.as_millis().to_string())
                    .unwrap_or_default();
                let body = event.to_string();
                let _ = write_response(
                    &mut stream,
                    200,
                    "OK",
                    &[
                        ("Content-Type", "application/json"),
                        ("Lambda-Runtime-Aws-Request-Id", &id),
                        ("Lambda-Runtime-Deadline-Ms", &deadline),
                        (
                            "Lambda-Runtime-Invoked-Function-Arn",
                            "arn:aws:lambda:us-east-1:123456789012:function:remediate",
                        ),
                        (
                            "Lambda-Runtime-Trace-Id",
                            "Root=1-00000000-000000000000000000000000",
                        ),
                    ],
                    body.as_bytes(),
                )
                .await;
                return;
            }
            // A function killed while it waits must not take the next event with it.
            let mut probe = [0u8; 1];
            tokio::select! {
                _ = notified => {}
                gone = stream.read(&mut probe) => {
                    if matches!(gone, Ok(0) | Err(_)) {
                        return;
                    }
                }
            }
        }
    }
    let body: Value = serde_json::from_slice(&req.body).unwrap_or(Value::Null);
    let parts: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    match parts.as_slice() {
        ["invocation", id, "response"] => record(&shared, id, Answer::Response(body)),
        ["invocation", id, "error"] => record(&shared, id, Answer::Error(body)),
        ["init", "error"] => {
            if let Ok(mut s) = shared.lock() {
                s.init_error = Some(body);
            }
        }
        _ => {
            let _ = write_response(&mut stream, 404, "Not Found", &[], b"{}").await;
            return;
        }
    }
    answered.notify_waiters();
    let _ = write_response(
        &mut stream,
        202,
        "Accepted",
        &[("Content-Type", "application/json")],
        b"{\"status\":\"OK\"}",
    )
    .await;
}

fn record(shared: &Arc<Mutex<Shared>>, id: &str, a: Answer) {
    if let Ok(mut s) = shared.lock() {
        s.answers.push((id.to_owned(), a));
    }
}

/// A function's process under a `RuntimeApi`; killed when dropped.
pub struct FunctionProcess(Option<std::process::Child>);

impl FunctionProcess {
    /// Starts `binary` as Lambda would: the Runtime API, the function's identity, test credentials,
    /// and `AWS_ENDPOINT_URL` at `endpoint`; `env` adds or overrides variables. Nothing else of this
    /// process's environment leaks in. Its stderr is kept for `wait`.
    pub fn spawn(
        binary: &std::path::Path,
        api: &RuntimeApi,
        endpoint: &str,
        env: &[(&str, &str)],
    ) -> std::io::Result<FunctionProcess> {
        FunctionProcess::start(binary, api, endpoint, env, None)
    }

    /// The same, with everything it writes (stdout, where EMF goes, and stderr, the log) to `log`,
    /// as CloudWatch Logs would keep it.
    pub fn spawn_logged(
        binary: &std::path::Path,
        api: &RuntimeApi,
        endpoint: &str,
        env: &[(&str, &str)],
        log: &std::path::Path,
    ) -> std::io::Result<FunctionProcess> {
        FunctionProcess::start(binary, api, endpoint, env, Some(log))
    }

    fn start(
        binary: &std::path::Path,
        api: &RuntimeApi,
        endpoint: &str,
        env: &[(&str, &str)],
        log: Option<&std::path::Path>,
    ) -> std::io::Result<FunctionProcess> {
        let name = binary
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or("function");
        let mut cmd = std::process::Command::new(binary);
        cmd.env_clear()
            .env("AWS_LAMBDA_RUNTIME_API", api.host())
            .env("AWS_LAMBDA_FUNCTION_NAME", name)
            .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128")
            .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
            .env("AWS_LAMBDA_LOG_STREAM_NAME", "test")
            .env("AWS_LAMBDA_LOG_GROUP_NAME", format!("/aws/lambda/{name}"))
            .env("AWS_REGION", super::REGION)
            .env("AWS_ACCESS_KEY_ID", "testing")
            .env("AWS_SECRET_ACCESS_KEY", "testing")
            .env("AWS_ENDPOINT_URL", endpoint)
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::piped());
        for (k, v) in env {
            cmd.env(k, v);
        }
        if let Some(path) = log {
            let file = std::fs::File::create(path)?;
            cmd.stdout(file.try_clone()?).stderr(file);
        }
        Ok(FunctionProcess(Some(cmd.spawn()?)))
    }

    /// Waits for the process to end by itself (a failed cold start) and returns its output. One
    /// that took its configuration polls for ever: after `limit` it is killed, and that is an error.
    pub fn wait(mut self, limit: std::time::Duration) -> std::io::Result<std::process::Output> {
        let mut child = self
            .0
            .take()
            .ok_or_else(|| std::io::Error::other("already waited"))?;
        let deadline = std::time::Instant::now() + limit;
        while child.try_wait()?.is_none() {
            if std::time::Instant::now() >= deadline {
                let _ = child.kill();
                let _ = child.wait();
                return Err(std::io::Error::new(
                    std::io::ErrorKind::TimedOut,
                    format!("still running after {limit:?}: its cold start did not fail"),
                ));
            }
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        child.wait_with_output()
    }
}

impl Drop for FunctionProcess {
    fn drop(&mut self) {
        if let Some(c) = self.0.as_mut() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}
