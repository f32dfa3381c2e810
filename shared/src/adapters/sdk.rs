//! SDK set-up: one config per cold start, retries with backoff for throttling and 5xx, timeouts
//! that never outlive the invocation, the trust roots compiled in, and one-line errors.
//! (`SdkError` is one type across every SDK crate.)

use std::sync::{Arc, LazyLock, OnceLock};
use std::time::{Duration, Instant};

use aws_config::environment::EnvironmentVariableCredentialsProvider;
use aws_config::identity::IdentityCache;
use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_credential_types::provider::SharedCredentialsProvider;
use aws_smithy_async::rt::sleep::TokioSleep;
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

/// The operator's configuration (the CLI's, the tests'): the SDK's default chains, so a profile,
/// SSO or a role works as it does for the AWS CLI.
pub async fn config() -> SdkConfig {
    loader().load().await
}

/// A Lambda function's configuration, from what Lambda itself sets: the region (`AWS_REGION`), the
/// execution role's credentials (`AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`,
/// `AWS_SESSION_TOKEN`) and, for the local emulator, `AWS_ENDPOINT_URL`. Built without the SDK's
/// loader: no profile file, IMDS, container-credentials, web-identity or STS code is linked into
/// the functions, and nothing is looked up before the first poll. The settings are `loader()`'s.
/// A missing region or credential is named here (the cold start fails), not at the first call.
pub fn lambda_config() -> Result<SdkConfig, &'static str> {
    lambda_config_from(|name| std::env::var(name).ok())
}

fn lambda_config_from(lookup: impl Fn(&str) -> Option<String>) -> Result<SdkConfig, &'static str> {
    let env = |name: &str| lookup(name).filter(|v| !v.is_empty());
    let region = env("AWS_REGION")
        .or_else(|| env("AWS_DEFAULT_REGION"))
        .ok_or("AWS_REGION")?;
    for var in ["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"] {
        env(var).ok_or(var)?;
    }
    let mut b = SdkConfig::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new(region))
        .credentials_provider(SharedCredentialsProvider::new(
            EnvironmentVariableCredentialsProvider::new(),
        ))
        .identity_cache(IdentityCache::lazy().build())
        .sleep_impl(TokioSleep::new())
        .http_client(http_client())
        .retry_config(retry_config())
        .timeout_config(timeout_config());
    b.set_endpoint_url(env("AWS_ENDPOINT_URL"));
    Ok(b.build())
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
    aws_config::defaults(BehaviorVersion::latest())
        .http_client(http_client())
        .retry_config(retry_config())
        .timeout_config(timeout_config())
}

/// Throttling and 5xx retried with backoff, within the operation timeout.
fn retry_config() -> RetryConfig {
    RetryConfig::standard()
        .with_max_attempts(4)
        .with_initial_backoff(Duration::from_millis(100))
        .with_max_backoff(Duration::from_secs(2))
}

fn timeout_config() -> TimeoutConfig {
    TimeoutConfig::builder()
        .connect_timeout(Duration::from_secs(2))
        .operation_attempt_timeout(ATTEMPT_TIMEOUT)
        .operation_timeout(OPERATION_TIMEOUT)
        .build()
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

#[cfg(test)]
mod tests {
    use super::*;

    const KEYS: [(&str, &str); 2] = [
        ("AWS_ACCESS_KEY_ID", "testing"),
        ("AWS_SECRET_ACCESS_KEY", "testing"),
    ];

    fn lambda_with(vars: &[(&str, &str)]) -> Result<SdkConfig, &'static str> {
        let vars: Vec<(String, String)> = vars
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        lambda_config_from(move |name| vars.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone()))
    }

    #[test]
    fn a_function_takes_lambdas_region_and_the_emulators_endpoint() {
        let c = lambda_with(&[
            KEYS[0],
            KEYS[1],
            ("AWS_REGION", "eu-west-1"),
            ("AWS_DEFAULT_REGION", "us-east-1"),
            ("AWS_ENDPOINT_URL", "http://127.0.0.1:5000"),
        ])
        .expect("complete");
        assert_eq!(c.region().map(|r| r.as_ref()), Some("eu-west-1"));
        assert_eq!(c.endpoint_url(), Some("http://127.0.0.1:5000"));
        // Without a behaviour version every SDK client panics when it is built.
        assert!(c.behavior_version().is_some());
        assert!(c.http_client().is_some() && c.sleep_impl().is_some());
        assert!(c.identity_cache().is_some());
        assert_eq!(c.retry_config().map(|r| r.max_attempts()), Some(4));
        let t = c.timeout_config().expect("timeouts set");
        assert_eq!(t.operation_timeout(), Some(OPERATION_TIMEOUT));
        assert_eq!(t.operation_attempt_timeout(), Some(ATTEMPT_TIMEOUT));
        #[cfg(feature = "sns")]
        let _client = aws_sdk_sns::Client::new(&c);
    }

    #[test]
    fn a_function_without_lambdas_region_falls_back_and_ignores_empty_values() {
        let c = lambda_with(&[
            KEYS[0],
            KEYS[1],
            ("AWS_REGION", ""),
            ("AWS_DEFAULT_REGION", "us-east-1"),
            ("AWS_ENDPOINT_URL", ""),
        ])
        .expect("complete");
        assert_eq!(c.region().map(|r| r.as_ref()), Some("us-east-1"));
        assert_eq!(c.endpoint_url(), None);
    }

    #[test]
    fn a_missing_region_or_credential_is_named() {
        assert_eq!(lambda_with(&KEYS).err(), Some("AWS_REGION"));
        let region = ("AWS_REGION", "eu-west-1");
        assert_eq!(
            lambda_with(&[region, KEYS[1]]).err(),
            Some("AWS_ACCESS_KEY_ID")
        );
        assert_eq!(
            lambda_with(&[region, KEYS[0], ("AWS_SECRET_ACCESS_KEY", "")]).err(),
            Some("AWS_SECRET_ACCESS_KEY")
        );
    }
}
