//! `Dns`: the function's own resolver (`/etc/resolv.conf`, as Lambda sets it up), asked for the
//! CNAME records ACM validates with. Built at the first lookup: most runs never ask.

use std::net::SocketAddr;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use hickory_resolver::config::{NameServerConfigGroup, ResolverConfig};
use hickory_resolver::name_server::TokioConnectionProvider;
use hickory_resolver::proto::rr::RecordType;
use hickory_resolver::TokioResolver;

use crate::ports::Dns;

/// One attempt per server, each this long: a lookup never holds a run for long.
const TIMEOUT: Duration = Duration::from_secs(2);

#[derive(Debug, Clone, Default)]
pub struct SystemDns {
    servers: Option<Vec<SocketAddr>>,
    resolver: Arc<OnceLock<Result<TokioResolver, String>>>,
}

impl SystemDns {
    /// The host's resolvers.
    pub fn new() -> SystemDns {
        SystemDns::default()
    }

    /// These name servers instead (plain UDP/TCP): a test's own.
    pub fn with_servers(servers: &[SocketAddr]) -> SystemDns {
        SystemDns {
            servers: Some(servers.to_vec()),
            ..SystemDns::default()
        }
    }

    fn resolver(&self) -> Result<&TokioResolver, String> {
        self.resolver
            .get_or_init(|| self.build())
            .as_ref()
            .map_err(Clone::clone)
    }

    fn build(&self) -> Result<TokioResolver, String> {
        let (config, mut opts) = match &self.servers {
            None => hickory_resolver::system_conf::read_system_conf()
                .map_err(|e| format!("the host's resolver configuration: {e}"))?,
            Some(servers) => {
                let mut group = NameServerConfigGroup::new();
                for s in servers {
                    group.merge(NameServerConfigGroup::from_ips_clear(
                        &[s.ip()],
                        s.port(),
                        true,
                    ));
                }
                (
                    ResolverConfig::from_parts(None, vec![], group),
                    Default::default(),
                )
            }
        };
        opts.timeout = TIMEOUT;
        opts.attempts = 1;
        // Asked once a day: a cache would only serve a stale answer to the next run.
        opts.cache_size = 0;
        Ok(
            TokioResolver::builder_with_config(config, TokioConnectionProvider::default())
                .with_options(opts)
                .build(),
        )
    }
}

impl Dns for SystemDns {
    async fn cname(&self, name: &str) -> Result<Vec<String>, String> {
        let resolver = self.resolver()?;
        match resolver.lookup(name, RecordType::CNAME).await {
            Ok(found) => Ok(found
                .record_iter()
                .filter_map(|r| r.data().as_cname().map(|c| c.0.to_utf8()))
                .collect()),
            Err(e) if e.is_nx_domain() || e.is_no_records_found() => Ok(Vec::new()),
            Err(e) => Err(format!("CNAME {name}: {e}")),
        }
    }
}
