//! `Listeners` on Elastic Load Balancing: which certificates a load balancer's HTTPS and TLS
//! listeners present (`DescribeListeners`, then `DescribeListenerCertificates` for SNI ones).

use aws_sdk_elasticloadbalancingv2::Client;

use super::sdk::{port_error, Budget, Lazy};
use crate::model::ListenerCert;
use crate::ports::{Listeners, PortError};

#[derive(Debug, Clone)]
pub struct ElbListeners {
    client: Lazy<Client>,
    budget: Budget,
}

impl ElbListeners {
    pub fn new(client: &Client, budget: Budget) -> ElbListeners {
        ElbListeners::lazy(&Lazy::ready(client.clone()), budget)
    }

    pub fn lazy(client: &Lazy<Client>, budget: Budget) -> ElbListeners {
        ElbListeners {
            client: client.clone(),
            budget,
        }
    }

    fn config(&self) -> Result<aws_sdk_elasticloadbalancingv2::config::Builder, PortError> {
        Ok(aws_sdk_elasticloadbalancingv2::config::Builder::default()
            .timeout_config(self.budget.timeouts().map_err(PortError)?))
    }
}

impl ElbListeners {
    /// Every certificate of one listener (its default and SNI ones), all pages.
    async fn listener_certificates(
        &self,
        listener: &str,
    ) -> Result<Vec<(String, bool)>, PortError> {
        let mut found = Vec::new();
        let mut marker = None;
        loop {
            let out = self
                .client
                .get()
                .describe_listener_certificates()
                .listener_arn(listener)
                .set_marker(marker.take())
                .customize()
                .config_override(self.config()?)
                .send()
                .await
                .map_err(|e| port_error(&format!("describe certificates of {listener}"), e))?;
            found.extend(out.certificates().iter().filter_map(|c| {
                c.certificate_arn()
                    .map(|a| (a.to_owned(), c.is_default() == Some(true)))
            }));
            match out.next_marker() {
                Some(m) if !m.is_empty() => marker = Some(m.to_owned()),
                _ => return Ok(found),
            }
        }
    }
}

impl Listeners for ElbListeners {
    async fn certificates(&self, load_balancer: &str) -> Result<Vec<ListenerCert>, PortError> {
        let mut found = Vec::new();
        let mut marker = None;
        loop {
            let out = self
                .client
                .get()
                .describe_listeners()
                .load_balancer_arn(load_balancer)
                .set_marker(marker.take())
                .customize()
                .config_override(self.config()?)
                .send()
                .await
                .map_err(|e| port_error(&format!("describe listeners of {load_balancer}"), e))?;
            for l in out.listeners() {
                let Some(listener) = l.listener_arn() else {
                    continue;
                };
                if l.certificates().is_empty() {
                    continue;
                }
                let all = self.listener_certificates(listener).await?;
                let mut certs: Vec<(String, bool)> = l
                    .certificates()
                    .iter()
                    .filter_map(|c| c.certificate_arn().map(|a| (a.to_owned(), true)))
                    .collect();
                for (arn, default) in all {
                    if !certs.iter().any(|(a, _)| *a == arn) {
                        certs.push((arn, default));
                    }
                }
                found.extend(
                    certs
                        .into_iter()
                        .map(|(certificate, default)| ListenerCert {
                            load_balancer: load_balancer.to_owned(),
                            listener: listener.to_owned(),
                            port: l.port(),
                            certificate,
                            default,
                        }),
                );
            }
            match out.next_marker() {
                Some(m) if !m.is_empty() => marker = Some(m.to_owned()),
                _ => return Ok(found),
            }
        }
    }
}
