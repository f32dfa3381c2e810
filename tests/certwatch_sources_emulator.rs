//! Where `certwatch` reads from: a load balancer's listeners (the emulator's ELB), a served
//! endpoint clients would refuse, and — where the emulator reports nothing — ACM's renewal
//! details and RDS's server certificate validity (the SDK's test tooling) and DNS (a name server
//! of the test's own).

use axiom_ops::runtime::Job;
use integration_tests::certwatch::{app, certificate, inv, policy, run, schedule, seeded, to};
use integration_tests::{Env, TestResult};
use testkit::pki::{import, serve};

/// Two subnets of the emulator's default VPC, for a load balancer (asked with the emulator's
/// own Python SDK: the suite links no EC2 client for this alone).
fn default_subnets(env: &Env) -> Vec<String> {
    let venv = testkit::venv_dir().expect("emulator venv");
    let out = std::process::Command::new(venv.join("bin/python"))
        .args([
            "-c",
            "import boto3, sys\n\
             ec2 = boto3.client('ec2', endpoint_url=sys.argv[1], region_name='us-east-1',\n\
                 aws_access_key_id='testing', aws_secret_access_key='testing')\n\
             print(' '.join(s['SubnetId'] for s in ec2.describe_subnets()['Subnets'][:2]))",
            &env.moto.endpoint(),
        ])
        .output()
        .expect("python");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .split_whitespace()
        .map(str::to_owned)
        .collect()
}

#[tokio::test]
async fn a_load_balancers_listeners_name_the_certificates_to_watch() -> TestResult {
    use aws_sdk_elasticloadbalancingv2::types::{
        Action, ActionTypeEnum, Certificate, FixedResponseActionConfig, ProtocolEnum,
    };
    let (env, pki) = seeded().await?;
    let served = pki.leaf(&["localhost"], 200);
    let default = import(&env.sdk, &pki, &served, None).await;
    let sni = certificate(&env, &pki, "admin.axiomcore.test", 10, None).await;
    let elb = aws_sdk_elasticloadbalancingv2::Client::new(&env.sdk);
    let lb = elb
        .create_load_balancer()
        .name("axiomcore-alb")
        .set_subnets(Some(default_subnets(&env)))
        .send()
        .await?;
    let lb_arn = lb.load_balancers()[0]
        .load_balancer_arn()
        .unwrap_or_default()
        .to_owned();
    let listener = elb
        .create_listener()
        .load_balancer_arn(&lb_arn)
        .protocol(ProtocolEnum::Https)
        .port(443)
        .certificates(Certificate::builder().certificate_arn(&default).build())
        .default_actions(
            Action::builder()
                .r#type(ActionTypeEnum::FixedResponse)
                .fixed_response_config(
                    FixedResponseActionConfig::builder()
                        .status_code("200")
                        .build(),
                )
                .build(),
        )
        .send()
        .await?;
    let listener_arn = listener.listeners()[0]
        .listener_arn()
        .unwrap_or_default()
        .to_owned();
    elb.add_listener_certificates()
        .listener_arn(&listener_arn)
        .certificates(Certificate::builder().certificate_arn(&sni).build())
        .send()
        .await?;
    // The endpoint serves the listener's own certificate.
    let port = serve(&pki, &served).await;
    let endpoint = format!("https://localhost:{port}");
    let app = app(
        &env,
        policy(&[], &[&lb_arn], std::slice::from_ref(&endpoint), &pki),
    );

    let answer = run(&app, schedule()).await;
    let targets: Vec<&str> = answer["checked"]
        .as_array()
        .map(|r| r.iter().filter_map(|r| r["target"].as_str()).collect())
        .unwrap_or_default();
    assert!(
        targets.contains(&default.as_str()) && targets.contains(&sni.as_str()),
        "{targets:?}"
    );
    let inbox = env.inbox().await;
    assert_eq!(
        inbox.len(),
        1,
        "{:?}",
        inbox.iter().map(|n| &n.subject).collect::<Vec<_>>()
    );
    assert_eq!(inbox[0].attributes["target"], sni);
    assert_eq!(inbox[0].attributes["severity"], "SEV2");
    assert!(
        to(&inbox, &endpoint).is_empty(),
        "serving the listener's certificate is right"
    );

    // A load balancer that cannot be read: told (SEV3), and the run fails so it is retried and
    // its Errors alarm sees it.
    let gone = lb_arn.replace("axiomcore-alb", "no-such-alb");
    let app = self::app(&env, policy(&[], &[&gone], &[], &pki));
    let e = app
        .handle(&schedule(), &inv(), false)
        .await
        .expect_err("unreadable");
    assert!(e.to_string().contains(&gone), "{e}");
    let inbox = env.inbox().await;
    assert_eq!(inbox.len(), 1);
    assert_eq!(inbox[0].attributes["severity"], "SEV3");
    Ok(())
}

mod sdk_test_tooling {
    //! The emulator reports neither ACM's renewal summary nor RDS's server certificate validity.
    use aws_sdk_acm::operation::describe_certificate::DescribeCertificateOutput;
    use aws_sdk_acm::operation::get_certificate::GetCertificateError;
    use aws_sdk_acm::types::{
        CertificateDetail, CertificateType, DomainStatus, DomainValidation, RecordType,
        RenewalEligibility, RenewalStatus, RenewalSummary, ResourceRecord,
    };
    use aws_sdk_rds::operation::describe_db_instances::DescribeDbInstancesOutput;
    use aws_sdk_rds::types::{CertificateDetails, DbInstance};
    use aws_smithy_mocks::{mock, mock_client};
    use axiom_ops::adapters::acm::AcmCertificates;
    use axiom_ops::adapters::rds::RdsSnapshots;
    use axiom_ops::adapters::sdk::Budget;
    use axiom_ops::model::Database;
    use axiom_ops::ports::{Certificates, Databases};

    const ARN: &str = "arn:aws:acm:us-east-1:123456789012:certificate/61f50cd4";

    #[tokio::test]
    async fn a_stalled_renewal_names_its_dns_records() {
        let describe = mock!(aws_sdk_acm::Client::describe_certificate).then_output(|| {
            let record = |name: &str| {
                ResourceRecord::builder()
                    .name(name)
                    .r#type(RecordType::Cname)
                    .value("_v.acm-validations.aws.")
                    .build()
                    .expect("record")
            };
            let dv = |status: DomainStatus, name: &str| {
                DomainValidation::builder()
                    .domain_name("api.axiomcore.example.com")
                    .validation_status(status)
                    .resource_record(record(name))
                    .build()
                    .expect("validation")
            };
            DescribeCertificateOutput::builder()
                .certificate(
                    CertificateDetail::builder()
                        .certificate_arn(ARN)
                        .domain_name("api.axiomcore.example.com")
                        .r#type(CertificateType::AmazonIssued)
                        .renewal_eligibility(RenewalEligibility::Eligible)
                        .not_after(aws_sdk_acm::primitives::DateTime::from_secs(1_800_000_000))
                        .domain_validation_options(dv(DomainStatus::Success, "_original."))
                        .renewal_summary(
                            RenewalSummary::builder()
                                .renewal_status(RenewalStatus::PendingValidation)
                                .domain_validation_options(dv(
                                    DomainStatus::PendingValidation,
                                    "_renewal.",
                                ))
                                .updated_at(aws_sdk_acm::primitives::DateTime::from_secs(
                                    1_790_000_000,
                                ))
                                .build()
                                .expect("summary"),
                        )
                        .build(),
                )
                .build()
        });
        // ACM hands out no certificate while a validation is pending.
        let get = mock!(aws_sdk_acm::Client::get_certificate).then_error(|| {
            GetCertificateError::RequestInProgressException(
                aws_sdk_acm::types::error::RequestInProgressException::builder().build(),
            )
        });
        let client = mock_client!(aws_sdk_acm, [&describe, &get]);
        let c = AcmCertificates::new(&client, Budget::unbounded())
            .describe(ARN)
            .await
            .expect("describe")
            .expect("found");
        assert_eq!(c.renewal_status.as_deref(), Some("PENDING_VALIDATION"));
        assert_eq!(c.validation.len(), 1);
        assert_eq!(
            (
                c.validation[0].name.as_str(),
                c.validation[0].status.as_str()
            ),
            ("_renewal.", "PENDING_VALIDATION")
        );
        assert_eq!(c.fingerprint, None);
        assert_eq!(c.not_after.map(|t| t.timestamp()), Some(1_800_000_000));
    }

    #[tokio::test]
    async fn a_database_reports_its_server_certificate() {
        let rule = mock!(aws_sdk_rds::Client::describe_db_instances).then_output(|| {
            DescribeDbInstancesOutput::builder()
                .db_instances(
                    DbInstance::builder()
                        .db_instance_identifier("axiomcore-production")
                        .db_instance_status("available")
                        .ca_certificate_identifier("rds-ca-rsa2048-g1")
                        .certificate_details(
                            CertificateDetails::builder()
                                .ca_identifier("rds-ca-rsa2048-g1")
                                .valid_till(aws_sdk_rds::primitives::DateTime::from_secs(
                                    1_790_000_000,
                                ))
                                .build(),
                        )
                        .build(),
                )
                .build()
        });
        let client = mock_client!(aws_sdk_rds, [&rule]);
        let db = RdsSnapshots::new(&client, Budget::unbounded())
            .database(&Database {
                id: "axiomcore-production".into(),
                kind: Default::default(),
            })
            .await
            .expect("describe")
            .expect("found");
        assert_eq!(db.ca.as_deref(), Some("rds-ca-rsa2048-g1"));
        assert_eq!(
            db.cert_valid_till.map(|t| t.timestamp()),
            Some(1_790_000_000)
        );
    }
}

mod dns {
    //! The resolver adapter against a name server of the test's own on 127.0.0.1.
    use std::net::SocketAddr;

    use axiom_ops::adapters::dns::SystemDns;
    use axiom_ops::ports::Dns;
    use hickory_proto::op::{Message, MessageType, ResponseCode};
    use hickory_proto::rr::rdata::CNAME;
    use hickory_proto::rr::{Name, RData, Record};
    use hickory_proto::serialize::binary::{BinDecodable, BinEncodable};
    use tokio::net::UdpSocket;

    /// Answers `_ok.axiomcore.test.` with a CNAME to ACM's validation host, NXDOMAIN otherwise.
    async fn name_server() -> SocketAddr {
        let socket = UdpSocket::bind("127.0.0.1:0").await.expect("bind");
        let addr = socket.local_addr().expect("addr");
        tokio::spawn(async move {
            let mut buf = [0u8; 512];
            while let Ok((n, peer)) = socket.recv_from(&mut buf).await {
                let Ok(req) = Message::from_bytes(&buf[..n]) else {
                    continue;
                };
                let mut resp = Message::new();
                resp.set_id(req.id())
                    .set_message_type(MessageType::Response)
                    .set_op_code(req.op_code())
                    .set_recursion_desired(req.recursion_desired())
                    .set_recursion_available(true);
                resp.add_queries(req.queries().to_vec());
                match req.queries().first() {
                    Some(q) if q.name().to_ascii() == "_ok.axiomcore.test." => {
                        let target = Name::from_ascii("_v.acm-validations.aws.").expect("name");
                        resp.add_answer(Record::from_rdata(
                            q.name().clone(),
                            300,
                            RData::CNAME(CNAME(target)),
                        ));
                    }
                    _ => {
                        resp.set_response_code(ResponseCode::NXDomain);
                    }
                }
                if let Ok(bytes) = resp.to_bytes() {
                    let _ = socket.send_to(&bytes, peer).await;
                }
            }
        });
        addr
    }

    #[tokio::test]
    async fn validation_records_are_looked_up() {
        let dns = SystemDns::with_servers(&[name_server().await]);
        assert_eq!(
            dns.cname("_ok.axiomcore.test.").await,
            Ok(vec!["_v.acm-validations.aws.".to_owned()])
        );
        assert_eq!(dns.cname("_gone.axiomcore.test.").await, Ok(vec![]));

        // A server that never answers: an error naming the record once the adapter gives up.
        let silent = UdpSocket::bind("127.0.0.1:0").await.expect("bind");
        let dns = SystemDns::with_servers(&[silent.local_addr().expect("addr")]);
        let e = dns
            .cname("_ok.axiomcore.test.")
            .await
            .expect_err("no answer");
        assert!(e.contains("_ok.axiomcore.test."), "{e}");
    }
}

#[tokio::test]
async fn an_endpoint_clients_would_refuse_pages() -> TestResult {
    let (env, pki) = seeded().await?;
    let port = serve(&pki, &pki.leaf(&["localhost"], 200)).await;
    let by_name = format!("https://localhost:{port}");
    let by_address = format!("https://127.0.0.1:{port}");
    // No extra CA: the test's CA is not among the compiled-in roots.
    let app = app(
        &env,
        integration_tests::certwatch::trusting(
            &[],
            &[],
            &[by_name.clone(), by_address.clone()],
            None,
        ),
    );
    run(&app, schedule()).await;
    let inbox = env.inbox().await;
    let codes = |target: &str| -> Vec<String> {
        to(&inbox, target)
            .first()
            .and_then(|n| n.message["finding"]["conditions"].as_array().cloned())
            .unwrap_or_default()
            .iter()
            .filter_map(|c| c["code"].as_str().map(str::to_owned))
            .collect()
    };
    assert_eq!(codes(&by_name), ["untrusted"]);
    // Served for localhost, asked for 127.0.0.1: a client would refuse the name as well.
    assert_eq!(codes(&by_address), ["untrusted", "wrong-name"]);
    assert!(inbox.iter().all(|n| n.attributes["severity"] == "SEV1"));
    Ok(())
}
