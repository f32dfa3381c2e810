//! A tiny proxy in front of the emulator that injects what the emulator cannot: throttling,
//! 5xx and an endpoint that accepts and never answers.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use tokio::io::AsyncWriteExt;
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;

use super::http::{read_request, write_response, Request};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// 400 ThrottlingException, which the SDK retries with backoff.
    Throttle,
    /// 503 Service Unavailable.
    Unavailable,
    /// Accept the request and never answer.
    Hang,
    /// Pass the request, but replace `.0` with `.1` in the answer (a task that exits 1).
    Rewrite(&'static str, &'static str),
    /// Pass the request (the emulator acts on it), then answer only after this many seconds:
    /// a call the client gives up on although it happened.
    Late(u64),
}

#[derive(Debug, Default)]
struct Plan {
    /// Requests whose `X-Amz-Target` (JSON protocols) or `Action=` (query protocols) contains
    /// this are faulted; others pass.
    operation: Option<String>,
    /// And whose body contains this, when set (one kind of write among an operation's many).
    body: Option<String>,
    fault: Option<Fault>,
    /// How many more matching requests to fault; `None` is every one.
    remaining: Option<usize>,
    faulted: usize,
    passed: usize,
}

pub struct FaultProxy {
    pub addr: SocketAddr,
    plan: Arc<Mutex<Plan>>,
    task: JoinHandle<()>,
}

impl FaultProxy {
    pub async fn start(upstream: SocketAddr) -> std::io::Result<FaultProxy> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let plan = Arc::new(Mutex::new(Plan::default()));
        let p = plan.clone();
        let task = tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                tokio::spawn(serve(stream, upstream, p.clone()));
            }
        });
        Ok(FaultProxy { addr, plan, task })
    }

    pub fn endpoint(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Faults the next `times` requests for `operation` (every one when `times` is `None`).
    pub fn inject(&self, operation: &str, fault: Fault, times: Option<usize>) {
        self.inject_when(operation, None, fault, times);
    }

    /// As `inject`, only for requests whose body contains `body`.
    pub fn inject_when(
        &self,
        operation: &str,
        body: Option<&str>,
        fault: Fault,
        times: Option<usize>,
    ) {
        if let Ok(mut p) = self.plan.lock() {
            p.operation = Some(operation.to_owned());
            p.body = body.map(str::to_owned);
            p.fault = Some(fault);
            p.remaining = times;
        }
    }

    pub fn clear(&self) {
        if let Ok(mut p) = self.plan.lock() {
            p.fault = None;
            p.operation = None;
            p.body = None;
        }
    }

    /// (requests faulted, requests passed through) so far.
    pub fn counts(&self) -> (usize, usize) {
        self.plan
            .lock()
            .map(|p| (p.faulted, p.passed))
            .unwrap_or((0, 0))
    }
}

impl Drop for FaultProxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}

fn operation_of(req: &Request) -> String {
    if let Some(t) = req.headers.get("x-amz-target") {
        return t.clone();
    }
    let body = String::from_utf8_lossy(&req.body);
    body.split('&')
        .find_map(|kv| kv.strip_prefix("Action="))
        .unwrap_or("")
        .to_owned()
}

async fn serve(mut client: TcpStream, upstream: SocketAddr, plan: Arc<Mutex<Plan>>) {
    let Ok(Some(req)) = read_request(&mut client).await else {
        return;
    };
    let op = operation_of(&req);
    let fault = plan.lock().ok().and_then(|mut p| {
        let hit = match (&p.fault, &p.operation) {
            (Some(_), Some(o)) => {
                op.contains(o.as_str())
                    && p.remaining != Some(0)
                    && p.body
                        .as_deref()
                        .is_none_or(|b| String::from_utf8_lossy(&req.body).contains(b))
            }
            _ => false,
        };
        if hit {
            p.faulted += 1;
            if let Some(r) = p.remaining.as_mut() {
                *r -= 1;
            }
            p.fault
        } else {
            p.passed += 1;
            None
        }
    });
    match fault {
        Some(Fault::Throttle) => {
            let body = br#"{"__type":"ThrottlingException","message":"Rate exceeded"}"#;
            let _ = write_response(
                &mut client,
                400,
                "Bad Request",
                &[
                    ("Content-Type", "application/x-amz-json-1.1"),
                    ("x-amzn-ErrorType", "ThrottlingException"),
                ],
                body,
            )
            .await;
        }
        Some(Fault::Unavailable) => {
            let body =
                br#"{"__type":"ServiceUnavailableException","message":"Service Unavailable"}"#;
            let _ = write_response(
                &mut client,
                503,
                "Service Unavailable",
                &[("Content-Type", "application/x-amz-json-1.1")],
                body,
            )
            .await;
        }
        Some(Fault::Hang) => {
            // Hold the connection open, unanswered, until the test ends.
            std::future::pending::<()>().await;
        }
        Some(Fault::Rewrite(from, to)) => rewrite(client, upstream, req, from, to).await,
        Some(Fault::Late(secs)) => late(client, upstream, req, secs).await,
        None => forward(client, upstream, req).await,
    }
}

fn with_connection_close(req: &Request) -> Vec<u8> {
    let head = String::from_utf8_lossy(&req.raw_head);
    let mut rewritten = String::with_capacity(head.len() + 20);
    for line in head.trim_end_matches("\r\n").split("\r\n") {
        if line.to_ascii_lowercase().starts_with("connection:") {
            continue;
        }
        rewritten.push_str(line);
        rewritten.push_str("\r\n");
    }
    rewritten.push_str("Connection: close\r\n\r\n");
    let mut out = rewritten.into_bytes();
    out.extend_from_slice(&req.body);
    out
}

/// The request passed upstream, and its whole answer.
async fn exchange(upstream: SocketAddr, req: &Request) -> Option<Vec<u8>> {
    use tokio::io::AsyncReadExt;
    let mut up = TcpStream::connect(upstream).await.ok()?;
    up.write_all(&with_connection_close(req)).await.ok()?;
    let mut answer = Vec::new();
    up.read_to_end(&mut answer).await.ok()?;
    Some(answer)
}

async fn rewrite(mut client: TcpStream, upstream: SocketAddr, req: Request, from: &str, to: &str) {
    let Some(answer) = exchange(upstream, &req).await else {
        return;
    };
    let text = String::from_utf8_lossy(&answer);
    let Some((head, body)) = text.split_once("\r\n\r\n") else {
        return;
    };
    let body = body.replace(from, to);
    let head: Vec<&str> = head
        .split("\r\n")
        .filter(|l| !l.to_ascii_lowercase().starts_with("content-length:"))
        .collect();
    let out = format!(
        "{}\r\nContent-Length: {}\r\n\r\n{body}",
        head.join("\r\n"),
        body.len()
    );
    let _ = client.write_all(out.as_bytes()).await;
    let _ = client.shutdown().await;
}

async fn late(mut client: TcpStream, upstream: SocketAddr, req: Request, secs: u64) {
    let Some(answer) = exchange(upstream, &req).await else {
        return;
    };
    tokio::time::sleep(std::time::Duration::from_secs(secs)).await;
    let _ = client.write_all(&answer).await;
    let _ = client.shutdown().await;
}

async fn forward(mut client: TcpStream, upstream: SocketAddr, req: Request) {
    let Ok(mut up) = TcpStream::connect(upstream).await else {
        return;
    };
    // One request per upstream connection, so every request passes through the fault plan.
    if up.write_all(&with_connection_close(&req)).await.is_err() {
        return;
    }
    let _ = tokio::io::copy_bidirectional(&mut client, &mut up).await;
}
