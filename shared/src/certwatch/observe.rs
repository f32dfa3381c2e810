//! What is there now, read all at once: the load balancers' listeners first (they name more
//! certificates), then every certificate, endpoint and database side by side. Every read has its
//! own timeout inside the invocation's budget; one that fails is reported, the others still count.

use futures_util::future::join_all;

use super::trigger::Trigger;
use crate::model::{AcmCert, DbState, DnsAnswer, ListenerCert, Served};
use crate::policy::{Endpoint, Policy};
use crate::ports::{Certificates, Databases, Dns, Listeners, PortError, Probe};

/// One thing read.
#[derive(Debug, Clone, PartialEq)]
pub enum Seen<T> {
    Found(T),
    /// It does not exist.
    Missing,
    /// It could not be read: why.
    Unreadable(String),
}

impl<T> From<Result<Option<T>, PortError>> for Seen<T> {
    fn from(r: Result<Option<T>, PortError>) -> Self {
        match r {
            Ok(Some(t)) => Seen::Found(t),
            Ok(None) => Seen::Missing,
            Err(e) => Seen::Unreadable(e.0),
        }
    }
}

#[derive(Debug, Default)]
pub struct Observed {
    pub certificates: Vec<(String, Seen<AcmCert>)>,
    pub listeners: Vec<ListenerCert>,
    /// Each load balancer: read, or why its listeners could not be.
    pub load_balancers: Vec<(String, Result<(), String>)>,
    pub served: Vec<(Endpoint, Result<Served, String>)>,
    pub databases: Vec<(String, Seen<DbState>)>,
}

impl Observed {
    /// The certificates read, for comparing with what endpoints serve.
    pub fn found(&self) -> Vec<AcmCert> {
        self.certificates
            .iter()
            .filter_map(|(_, s)| match s {
                Seen::Found(c) => Some(c.clone()),
                _ => None,
            })
            .collect()
    }
}

/// The ports one run reads through.
pub struct Sources<'a, C, L, P, D, S> {
    pub certificates: &'a C,
    pub listeners: &'a L,
    pub probe: &'a P,
    pub databases: &'a D,
    pub dns: &'a S,
}

impl<C, L, P, D, S> Sources<'_, C, L, P, D, S>
where
    C: Certificates,
    L: Listeners,
    P: Probe,
    D: Databases,
    S: Dns,
{
    /// `extra`: certificates to read besides those the policy and the listeners name.
    pub async fn observe(&self, policy: &Policy, trigger: &Trigger, extra: &[String]) -> Observed {
        let mut o = self.read(policy, trigger, extra).await;
        self.check_dns(&mut o.certificates).await;
        o
    }

    /// Asks DNS for every validation record ACM has not validated yet.
    async fn check_dns(&self, certs: &mut [(String, Seen<AcmCert>)]) {
        let mut asks = Vec::new();
        for (i, (_, seen)) in certs.iter().enumerate() {
            if let Seen::Found(c) = seen {
                for (j, r) in c.validation.iter().enumerate() {
                    if r.status != "SUCCESS" {
                        asks.push((i, j, r.name.clone(), r.value.clone()));
                    }
                }
            }
        }
        let answers = join_all(asks.iter().map(|(_, _, name, _)| self.dns.cname(name))).await;
        for ((i, j, _, value), answer) in asks.into_iter().zip(answers) {
            if let Some((_, Seen::Found(c))) = certs.get_mut(i) {
                if let Some(r) = c.validation.get_mut(j) {
                    r.dns = Some(DnsAnswer::judge(&value, answer));
                }
            }
        }
    }

    async fn read(&self, policy: &Policy, trigger: &Trigger, extra: &[String]) -> Observed {
        if let Trigger::Acm { certificate, .. } = trigger {
            let seen = self.certificates.describe(certificate).await.into();
            return Observed {
                certificates: vec![(certificate.clone(), seen)],
                ..Observed::default()
            };
        }
        let cp = &policy.certificates;
        let mut o = Observed::default();
        let listed = join_all(
            cp.load_balancers
                .iter()
                .map(|lb| self.listeners.certificates(lb)),
        )
        .await;
        for (lb, r) in cp.load_balancers.iter().zip(listed) {
            match r {
                Ok(certs) => {
                    o.listeners.extend(certs);
                    o.load_balancers.push((lb.clone(), Ok(())));
                }
                Err(e) => o.load_balancers.push((lb.clone(), Err(e.0))),
            }
        }
        let mut arns: Vec<String> = cp.acm.clone();
        // A listener may present an IAM server certificate: ACM knows nothing of it, and the
        // endpoint probe still reads what is served.
        let listed = o.listeners.iter().map(|l| &l.certificate);
        for arn in listed.chain(extra) {
            if arn.contains(":acm:") && !arns.contains(arn) {
                arns.push(arn.clone());
            }
        }
        let (certs, served, dbs) = tokio::join!(
            join_all(arns.iter().map(|a| self.certificates.describe(a))),
            join_all(cp.endpoints.iter().map(|e| self.probe.served(&e.url))),
            join_all(policy.databases.iter().map(|d| self.databases.database(d))),
        );
        o.certificates = arns
            .into_iter()
            .zip(certs.into_iter().map(Seen::from))
            .collect();
        o.served = cp.endpoints.iter().cloned().zip(served).collect();
        o.databases = policy
            .databases
            .iter()
            .map(|d| d.id.clone())
            .zip(dbs.into_iter().map(Seen::from))
            .collect();
        o
    }
}
