//! SDK set-up: one config per cold start, retries with backoff for throttling and 5xx, timeouts
//! that never outlive the invocation, the trust roots compiled in, and one-line errors.
//! (`SdkError` is one type across every SDK crate.)

use std::sync::{Arc, LazyLock, OnceLock};
use std::time::{Duration, Instant};

use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, SdkConfig};
use aws_smithy_http_client::proxy::ProxyConfig;
use aws_smithy_http_client::tls::{self, rustls_provider::CryptoMode, TlsContext, TrustStore};
use aws_smithy_http_client::{Builder, Connector};
use aws_smithy_runtime_api::client::http::SharedHttpClient;
use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;
use base64::{engine::general_purpose::STANDARD, Engine as _};

use crate::ports::{Certainty, EffectError, PortError};

/// Longest a single call may take, all retries included, when the invocation has time to spare.
pub const OPERATION_TIMEOUT: Duration = Duration::from_secs(10);
/// Longest one attempt may take: an endpoint that accepts and never answers is cut off here.
pub const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(3);
/// Kept back from the invocation deadline, when acting, to record and announce what happened.
pub const RESERVE: Duration = Duration::from_millis(1500);
/// Kept back by the recording calls themselves, to return the invocation's answer in time.
pub const FINAL_MARGIN: Duration = Duration::from_millis(100);

pub async fn config() -> SdkConfig {
    loader().load().await
}

/// In Lambda the credentials and region are the environment's (Lambda sets them): no provider
/// chain, so nothing is built or read for profiles, SSO or web identity before the first poll.
/// Elsewhere (the CLI, the tests) the SDK's default chains.
fn lambda_env(loader: aws_config::ConfigLoader) -> aws_config::ConfigLoader {
    let in_lambda = std::env::var_os("AWS_LAMBDA_FUNCTION_NAME").is_some()
        && std::env::var_os("AWS_ACCESS_KEY_ID").is_some();
    let region = std::env::var("AWS_REGION").ok().filter(|r| !r.is_empty());
    match (in_lambda, region) {
        (true, Some(region)) => loader
            .region(aws_config::Region::new(region))
            .credentials_provider(
                aws_config::environment::EnvironmentVariableCredentialsProvider::new(),
            ),
        _ => loader,
    }
}

/// An SDK client built at its first use: an event that never calls a service never pays for its
/// client (each SDK crate parses its endpoint partitions when its first client is built).
pub struct Lazy<C> {
    inner: Arc<LazyInner<C>>,
}

type Make<C> = Box<dyn Fn(&SdkConfig) -> C + Send + Sync>;

struct LazyInner<C> {
    client: OnceLock<C>,
    make: Option<(SdkConfig, Make<C>)>,
}

impl<C> Clone for Lazy<C> {
    fn clone(&self) -> Self {
        Lazy {
            inner: Arc::clone(&self.inner),
        }
    }
}

impl<C> std::fmt::Debug for Lazy<C> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(if self.inner.client.get().is_some() {
            "Lazy(built)"
        } else {
            "Lazy(not yet built)"
        })
    }
}

impl<C> Lazy<C> {
    pub fn new(sdk: &SdkConfig, make: impl Fn(&SdkConfig) -> C + Send + Sync + 'static) -> Self {
        Lazy {
            inner: Arc::new(LazyInner {
                client: OnceLock::new(),
                make: Some((sdk.clone(), Box::new(make))),
            }),
        }
    }

    /// A client that is already built (the CLI's, a test's).
    pub fn ready(client: C) -> Self {
        let cell = OnceLock::new();
        let _ = cell.set(client);
        Lazy {
            inner: Arc::new(LazyInner {
                client: cell,
                make: None,
            }),
        }
    }

    pub fn get(&self) -> &C {
        self.inner.client.get_or_init(|| match &self.inner.make {
            Some((sdk, make)) => make(sdk),
            // `ready` filled the cell, so this is never reached.
            None => unreachable!("a ready client is always set"),
        })
    }
}

/// The loader with this project's HTTP client, retries and timeouts; the emulator adds its
/// endpoint to it.
pub fn loader() -> aws_config::ConfigLoader {
    lambda_env(aws_config::defaults(BehaviorVersion::latest()))
        .http_client(http_client())
        .retry_config(
            RetryConfig::standard()
                .with_max_attempts(4)
                .with_initial_backoff(Duration::from_millis(100))
                .with_max_backoff(Duration::from_secs(2)),
        )
        .timeout_config(
            TimeoutConfig::builder()
                .connect_timeout(Duration::from_secs(2))
                .operation_attempt_timeout(ATTEMPT_TIMEOUT)
                .operation_timeout(OPERATION_TIMEOUT)
                .build(),
        )
}

/// The Mozilla roots compiled into the binary (`webpki-root-certs`), as the PEM bundle the SDK's
/// trust store takes. Built at the first TLS connection, never at cold start: the host's
/// certificate files and directories are never read, so a cold start costs the same on any host.
static MOZILLA_ROOTS: LazyLock<TlsContext> = LazyLock::new(|| {
    let mut pem = Vec::with_capacity(256 * 1024);
    for der in webpki_root_certs::TLS_SERVER_ROOT_CERTS {
        pem.extend_from_slice(b"-----BEGIN CERTIFICATE-----\n");
        pem.extend_from_slice(STANDARD.encode(der).as_bytes());
        pem.extend_from_slice(b"\n-----END CERTIFICATE-----\n");
    }
    TlsContext::builder()
        .with_trust_store(TrustStore::empty().with_pem_certificate(pem))
        .build()
        .unwrap_or_default()
});

/// The SDK's default HTTPS client (hyper, rustls, proxy from the environment), on ring rather than
/// aws-lc (smaller), with the roots above instead of the host's trust store.
pub fn http_client() -> SharedHttpClient {
    Builder::new().build_with_connector_fn(|settings, components| {
        // Each `Client::new` probes the function with no settings and drops the result: no TLS
        // set-up for that.
        let Some(settings) = settings else {
            return Connector::builder().build_http();
        };
        let mut b = Connector::builder()
            .tls_provider(tls::Provider::Rustls(CryptoMode::Ring))
            .tls_context(MOZILLA_ROOTS.clone());
        b.set_connector_settings(Some(settings.clone()));
        if let Some(c) = components {
            b.set_sleep_impl(c.sleep_impl());
        }
        b.set_proxy_config(Some(ProxyConfig::from_env()));
        b.build()
    })
}

/// The time an invocation has left, turned into SDK timeouts for each call.
#[derive(Debug, Clone, Copy)]
pub struct Budget {
    deadline: Option<Instant>,
    reserve: Duration,
}

impl Budget {
    /// For observing and acting: ends `RESERVE` before the deadline.
    pub fn until(deadline: Option<Instant>) -> Budget {
        Budget {
            deadline,
            reserve: RESERVE,
        }
    }

    /// For recording and announcing: may use the reserve the actions left.
    pub fn for_bookkeeping(self) -> Budget {
        Budget {
            reserve: FINAL_MARGIN,
            ..self
        }
    }

    pub fn unbounded() -> Budget {
        Budget {
            deadline: None,
            reserve: RESERVE,
        }
    }

    /// Timeouts for the next call: the defaults, shortened so the call ends its reserve before the
    /// deadline. Past that point the call is not made at all.
    pub fn timeouts(&self) -> Result<TimeoutConfig, String> {
        let (op, attempt) = match self.deadline {
            None => (OPERATION_TIMEOUT, ATTEMPT_TIMEOUT),
            Some(d) => {
                let left = d
                    .saturating_duration_since(Instant::now())
                    .saturating_sub(self.reserve);
                if left < Duration::from_millis(50) {
                    return Err(
                        "the invocation deadline is too close to make another AWS call".into(),
                    );
                }
                let op = left.min(OPERATION_TIMEOUT);
                (op, op.min(ATTEMPT_TIMEOUT))
            }
        };
        Ok(TimeoutConfig::builder()
            .connect_timeout(attempt.min(Duration::from_secs(2)))
            .operation_attempt_timeout(attempt)
            .operation_timeout(op)
            .build())
    }
}

/// Whether a failed mutating call may still have taken effect.
pub fn certainty<E>(e: &SdkError<E, HttpResponse>) -> Certainty {
    match e {
        SdkError::ConstructionFailure(_) => Certainty::Failed,
        SdkError::ServiceError(se) if !se.raw().status().is_server_error() => Certainty::Failed,
        _ => Certainty::Unknown,
    }
}

/// A failed call in one line an operator can read: the service's error code, status and message,
/// or what went wrong on the way. (The SDK's own Debug output runs to pages.)
pub fn describe<E>(e: &SdkError<E, HttpResponse>) -> String
where
    E: ProvideErrorMetadata,
{
    match e {
        SdkError::ServiceError(se) => {
            let err = se.err();
            format!(
                "{} (HTTP {}){}",
                err.code().unwrap_or("service error"),
                se.raw().status().as_u16(),
                err.message().map(|m| format!(": {m}")).unwrap_or_default()
            )
        }
        SdkError::TimeoutError(_) => "no answer before the timeout".to_owned(),
        SdkError::DispatchFailure(d) if d.is_timeout() => "connection timed out".to_owned(),
        SdkError::DispatchFailure(d) if d.is_io() => "connection failed (I/O error)".to_owned(),
        SdkError::DispatchFailure(_) => "the request could not be sent".to_owned(),
        SdkError::ResponseError(_) => "the response could not be read".to_owned(),
        SdkError::ConstructionFailure(_) => "the request could not be built".to_owned(),
        _ => "unknown SDK error".to_owned(),
    }
}

pub fn effect_error<E>(what: &str, e: SdkError<E, HttpResponse>) -> EffectError
where
    E: ProvideErrorMetadata,
{
    EffectError {
        certainty: certainty(&e),
        message: format!("{what}: {}", describe(&e)),
    }
}

pub fn port_error<E>(what: &str, e: SdkError<E, HttpResponse>) -> PortError
where
    E: ProvideErrorMetadata,
{
    PortError(format!("{what}: {}", describe(&e)))
}
