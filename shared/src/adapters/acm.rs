//! `Certificates` on ACM: `DescribeCertificate` for the facts, `GetCertificate` for the
//! certificate itself (its fingerprint is what an endpoint's served certificate is compared with).

use aws_sdk_acm::types::{CertificateType, DomainValidation};
use aws_sdk_acm::Client;
use chrono::{DateTime, Utc};

use super::sdk::{port_error, Budget, Lazy};
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::CertificateDer;

use crate::model::{fingerprint, AcmCert, CertType, ValidationRecord};
use crate::ports::{Certificates, PortError};

#[derive(Debug, Clone)]
pub struct AcmCertificates {
    client: Lazy<Client>,
    budget: Budget,
}

fn time(t: Option<&aws_sdk_acm::primitives::DateTime>) -> Option<DateTime<Utc>> {
    t.and_then(|t| DateTime::<Utc>::from_timestamp(t.secs(), t.subsec_nanos()))
}

fn records(options: &[DomainValidation]) -> Vec<ValidationRecord> {
    options
        .iter()
        .filter_map(|o| {
            let rr = o.resource_record()?;
            Some(ValidationRecord {
                domain: o.domain_name().to_owned(),
                name: rr.name().to_owned(),
                rtype: rr.r#type().as_str().to_owned(),
                value: rr.value().to_owned(),
                status: o
                    .validation_status()
                    .map(|s| s.as_str().to_owned())
                    .unwrap_or_default(),
                dns: None,
            })
        })
        .collect()
}

impl AcmCertificates {
    pub fn new(client: &Client, budget: Budget) -> AcmCertificates {
        AcmCertificates::lazy(&Lazy::ready(client.clone()), budget)
    }

    pub fn lazy(client: &Lazy<Client>, budget: Budget) -> AcmCertificates {
        AcmCertificates {
            client: client.clone(),
            budget,
        }
    }

    fn config(&self) -> Result<aws_sdk_acm::config::Builder, PortError> {
        Ok(aws_sdk_acm::config::Builder::default()
            .timeout_config(self.budget.timeouts().map_err(PortError)?))
    }

    /// SHA-256 of the issued certificate, when ACM hands it out (not while validation is pending).
    async fn fingerprint(&self, arn: &str) -> Result<Option<String>, PortError> {
        let res = self
            .client
            .get()
            .get_certificate()
            .certificate_arn(arn)
            .customize()
            .config_override(self.config()?)
            .send()
            .await;
        match res {
            Ok(out) => Ok(out.certificate().and_then(|pem| {
                CertificateDer::from_pem_slice(pem.as_bytes())
                    .ok()
                    .map(|der| fingerprint(&der))
            })),
            // Not issued yet (validation pending), or gone meanwhile: nothing to compare with.
            Err(e)
                if e.as_service_error().is_some_and(|se| {
                    se.is_request_in_progress_exception() || se.is_resource_not_found_exception()
                }) =>
            {
                Ok(None)
            }
            Err(e) => Err(port_error(&format!("get certificate {arn}"), e)),
        }
    }
}

impl Certificates for AcmCertificates {
    async fn describe(&self, arn: &str) -> Result<Option<AcmCert>, PortError> {
        let res = self
            .client
            .get()
            .describe_certificate()
            .certificate_arn(arn)
            .customize()
            .config_override(self.config()?)
            .send()
            .await;
        let out = match res {
            Ok(out) => out,
            Err(e)
                if e.as_service_error()
                    .is_some_and(|se| se.is_resource_not_found_exception()) =>
            {
                return Ok(None)
            }
            Err(e) => return Err(port_error(&format!("describe certificate {arn}"), e)),
        };
        let Some(c) = out.certificate() else {
            return Ok(None);
        };
        let renewal = c.renewal_summary();
        let validation = match renewal {
            Some(r) if !r.domain_validation_options().is_empty() => {
                records(r.domain_validation_options())
            }
            _ => records(c.domain_validation_options()),
        };
        let fingerprint = self.fingerprint(arn).await?;
        Ok(Some(AcmCert {
            arn: c.certificate_arn().unwrap_or(arn).to_owned(),
            domain: c.domain_name().unwrap_or_default().to_owned(),
            names: c.subject_alternative_names().to_vec(),
            not_after: time(c.not_after()),
            kind: match c.r#type() {
                Some(CertificateType::Imported) => CertType::Imported,
                Some(CertificateType::Private) => CertType::Private,
                _ => CertType::AmazonIssued,
            },
            status: c
                .status()
                .map(|s| s.as_str().to_owned())
                .unwrap_or_default(),
            renewal_eligibility: c.renewal_eligibility().map(|r| r.as_str().to_owned()),
            renewal_status: renewal.map(|r| r.renewal_status().as_str().to_owned()),
            renewal_reason: renewal
                .and_then(|r| r.renewal_status_reason())
                .map(|r| r.as_str().to_owned()),
            validation,
            in_use_by: c.in_use_by().to_vec(),
            fingerprint,
        }))
    }
}
