//! The gateway's HTTP listener over TLS (`service.http_tls`), with certificates the test makes:
//! a client trusting the city's CA reads the OpenAPI document, a plain HTTP client is not
//! answered, and after the certificate files are replaced by another CA's certificate the next
//! connection is served the new one without a restart.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use dti_config::{GrpcConfig, ListenerTlsConfig, MetricsConfig, ServiceConfig, TelemetryConfig};
use dti_testkit::tls::{ServiceCertificate, TestCa};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::CertificateDer;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// `GET path` over TLS trusting only `ca`, the whole response as text.
async fn get_over_tls(addr: SocketAddr, ca: &TestCa, path: &str) -> anyhow::Result<String> {
    let mut roots = rustls::RootCertStore::empty();
    for certificate in CertificateDer::pem_slice_iter(ca.pem().as_bytes()) {
        roots.add(certificate?)?;
    }
    let client = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()?
    .with_root_certificates(roots)
    .with_no_client_auth();
    let tcp = tokio::net::TcpStream::connect(addr).await?;
    let mut stream = tokio_rustls::TlsConnector::from(Arc::new(client))
        .connect("localhost".try_into()?, tcp)
        .await?;
    let request = format!("GET {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).await?;
    let mut response = String::new();
    stream.read_to_string(&mut response).await?;
    Ok(response)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_gateway_serves_https_and_a_renewed_certificate() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let (cert, key) = (dir.path().join("tls.crt"), dir.path().join("tls.key"));
    let first_ca = TestCa::new("HCMC DTI test CA 1")?;
    first_ca.issue_to(&cert, &key)?;
    let defaults = ServiceConfig::<dti_gateway::Settings>::default();
    let local_port_0: SocketAddr = "127.0.0.1:0".parse()?;
    let config = ServiceConfig {
        grpc: GrpcConfig {
            listen_addr: local_port_0,
            ..GrpcConfig::default()
        },
        metrics: MetricsConfig {
            enabled: false,
            ..MetricsConfig::default()
        },
        telemetry: TelemetryConfig {
            log_filter: "warn".into(),
            ..defaults.telemetry
        },
        service: dti_gateway::Settings {
            http_listen_addr: local_port_0,
            http_tls: ListenerTlsConfig {
                cert_path: Some(cert.clone()),
                key_path: Some(key.clone()),
            },
            ..dti_gateway::Settings::default()
        },
        ..defaults
    };
    dti_config::Validate::validate(&config)?;
    let built = dti_gateway::build_gateway(&config).await?;
    let addr = built.http_addr;
    let running = built.kit.spawn()?;

    let response = get_over_tls(addr, &first_ca, "/openapi.json").await?;
    assert!(response.starts_with("HTTP/1.1 200"), "{response}");
    assert!(response.contains("\"openapi\""), "{response}");

    // Plain HTTP gets no HTTP answer.
    let mut plain = tokio::net::TcpStream::connect(addr).await?;
    plain
        .write_all(b"GET /openapi.json HTTP/1.1\r\nHost: localhost\r\n\r\n")
        .await?;
    let mut answer = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(5), plain.read_to_end(&mut answer)).await;
    assert!(
        !String::from_utf8_lossy(&answer).contains("HTTP/1.1"),
        "plain HTTP was answered"
    );

    // Renewed by another CA: the next connection is served the new certificate.
    let second_ca = TestCa::new("HCMC DTI test CA 2")?;
    second_ca.issue_to(&cert, &key)?;
    let old = get_over_tls(addr, &first_ca, "/openapi.json").await;
    assert!(old.is_err(), "the replaced certificate is still served");
    let response = get_over_tls(addr, &second_ca, "/openapi.json").await?;
    assert!(response.starts_with("HTTP/1.1 200"), "{response}");

    running.stop().await?;
    Ok(())
}

#[test]
fn half_a_tls_setting_is_refused_naming_the_field() {
    let settings = dti_gateway::Settings {
        http_tls: ListenerTlsConfig {
            cert_path: Some("/etc/dti/tls.crt".into()),
            key_path: None,
        },
        ..dti_gateway::Settings::default()
    };
    let error = dti_config::Validate::validate(&settings)
        .expect_err("a certificate without a key must be refused")
        .to_string();
    assert!(error.contains("service.http_tls.key_path"), "{error}");
}

/// The gateway as a client of services that serve gRPC over TLS (`grpc.tls`): with
/// `service.backends_ca_file` it verifies their certificate and forwards (the ranking service
/// answers a request without a basis with 400 naming the field); trusting only the system's roots,
/// it cannot verify the city's CA and answers 503, forwarding nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_gateway_calls_services_over_tls_verifying_their_certificate() -> anyhow::Result<()> {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let backends = dti_testkit::TestBackends::create().await?;
    let certificate = ServiceCertificate::issue("HCMC DTI services CA")?;
    let ca_file = certificate.ca_file.clone();
    let mut ranking_config = backends.service_config(dti_ranking::Settings::default());
    ranking_config.grpc.tls = certificate.listener();
    let ranking = dti_ranking::build(&ranking_config).await?.spawn()?;
    let url = format!("https://localhost:{}", ranking.grpc_addr.port());
    // Every package to the one TLS service: only the ranking RPC is called.
    let every_backend = dti_gateway::config::Backends {
        submission: url.clone(),
        evidence: url.clone(),
        scoring: url.clone(),
        ranking: url.clone(),
        verification: url.clone(),
        national_sync: url.clone(),
    };

    let operator = backends.token(dti_auth::Role::Operator);
    let bad = serde_json::json!({"round": {"year": 2023, "framework": "no-such-framework"}});
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()?;
    for (ca_file, expected) in [(Some(ca_file.clone()), 400), (None, 503)] {
        let settings = dti_gateway::Settings {
            http_listen_addr: "127.0.0.1:0".parse()?,
            backends: every_backend.clone(),
            backends_ca_file: ca_file.clone(),
            ..dti_gateway::Settings::default()
        };
        let config = backends.service_config(settings);
        dti_config::Validate::validate(&config)?;
        let built = dti_gateway::build_gateway(&config).await?;
        let addr = built.http_addr;
        let gateway = built.kit.spawn()?;
        let answer = http
            .post(format!(
                "http://{addr}/v1/dti.ranking.v1.RankingService/GetRanking"
            ))
            .header("authorization", &operator)
            .header("accept-language", "en")
            .header("content-type", "application/json")
            .body(serde_json::to_vec(&bad)?)
            .send()
            .await?;
        let status = answer.status().as_u16();
        let body: serde_json::Value = serde_json::from_slice(&answer.bytes().await?)?;
        assert_eq!(status, expected, "CA file {ca_file:?}: {body}");
        if expected == 400 {
            assert_eq!(body["fieldViolations"][0]["field"], "basis", "{body}");
        }
        gateway.stop().await?;
    }

    // A CA file with a plain backend is refused at configuration, naming the backend.
    let settings = dti_gateway::Settings {
        backends_ca_file: Some(ca_file),
        ..dti_gateway::Settings::default()
    };
    let error = dti_config::Validate::validate(&settings)
        .expect_err("a CA file for plain backends is refused")
        .to_string();
    assert!(error.contains("service.backends.submission"), "{error}");

    ranking.stop().await?;
    backends.close().await?;
    Ok(())
}
