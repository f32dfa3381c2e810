//! SDK set-up: one config per cold start, retries with backoff for throttling and 5xx, timeouts
//! that never outlive the invocation, the trust roots compiled in, and one-line errors.
//! (`SdkError` is one type across every SDK crate.)

use std::sync::LazyLock;
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

/// The loader with this project's HTTP client, retries and timeouts; the emulator adds its
/// endpoint to it.
pub fn loader() -> aws_config::ConfigLoader {
    aws_config::defaults(BehaviorVersion::latest())
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
