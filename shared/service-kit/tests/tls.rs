//! TLS on the kit's listeners with certificates the test makes (rcgen): a client trusting the
//! city's CA is served health over TLS and a plain client is not; when the certificate files
//! are replaced by a certificate of another CA, the next connection is served the new one
//! without a restart. `/metrics` over TLS answers a scrape that trusts the CA.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use dti_config::{ListenerTlsConfig, ServiceConfig};
use dti_service_kit::ServiceKit;
use dti_testkit::tls::TestCa;
use rcgen::KeyPair;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tonic::transport::{Certificate, Channel, ClientTlsConfig, Endpoint};
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_health::pb::health_client::HealthClient;
use tonic_health::pb::HealthCheckRequest;

fn tls_files(dir: &Path) -> (PathBuf, PathBuf) {
    (dir.join("tls.crt"), dir.join("tls.key"))
}

/// Health of the whole server over TLS, trusting only `ca_pem`.
async fn health_over_tls(addr: std::net::SocketAddr, ca_pem: &str) -> anyhow::Result<i32> {
    let tls = ClientTlsConfig::new()
        .ca_certificate(Certificate::from_pem(ca_pem))
        .domain_name("localhost");
    let channel = Endpoint::from_shared(format!("https://{addr}"))?
        .tls_config(tls)?
        .connect()
        .await?;
    let status = HealthClient::new(channel)
        .check(HealthCheckRequest {
            service: String::new(),
        })
        .await?
        .into_inner()
        .status;
    Ok(status)
}

fn config(
    grpc_tls: ListenerTlsConfig,
    metrics_tls: ListenerTlsConfig,
) -> anyhow::Result<ServiceConfig> {
    let mut config = dti_testkit::loopback_config(dti_config::NoServiceSettings::default());
    config.grpc.tls = grpc_tls;
    config.metrics.tls = metrics_tls;
    Ok(config)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn grpc_over_tls_serves_a_renewed_certificate_without_a_restart() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let (cert, key) = tls_files(dir.path());
    let first_ca = TestCa::new("HCMC DTI test CA 1")?;
    first_ca.issue_to(&cert, &key)?;
    let tls = ListenerTlsConfig {
        cert_path: Some(cert.clone()),
        key_path: Some(key.clone()),
    };
    let config = config(tls, ListenerTlsConfig::default())?;
    let running = ServiceKit::builder("tls-test", &config)
        .build()
        .await?
        .spawn()?;
    let addr = running.grpc_addr;

    assert_eq!(
        health_over_tls(addr, first_ca.pem()).await?,
        ServingStatus::Serving as i32
    );
    // A client speaking plain HTTP/2 gets no answer from a TLS listener.
    let plain = Channel::from_shared(format!("http://{addr}"))?.connect_lazy();
    let refused = tokio::time::timeout(
        std::time::Duration::from_secs(5),
        HealthClient::new(plain).check(HealthCheckRequest {
            service: String::new(),
        }),
    )
    .await;
    assert!(
        !matches!(refused, Ok(Ok(_))),
        "a plain client was served: {refused:?}"
    );

    // The certificate is renewed by another CA: the next connection is served the new one.
    let second_ca = TestCa::new("HCMC DTI test CA 2")?;
    second_ca.issue_to(&cert, &key)?;
    let old_trust = health_over_tls(addr, first_ca.pem()).await;
    assert!(
        old_trust.is_err(),
        "the replaced certificate is still served: {old_trust:?}"
    );
    assert_eq!(
        health_over_tls(addr, second_ca.pem()).await?,
        ServingStatus::Serving as i32
    );

    // Files that do not load (a key of another certificate) leave the last good one served.
    std::fs::write(&key, KeyPair::generate()?.serialize_pem())?;
    assert_eq!(
        health_over_tls(addr, second_ca.pem()).await?,
        ServingStatus::Serving as i32
    );

    running.stop().await?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_certificate_that_does_not_load_stops_start_up_naming_the_setting() -> anyhow::Result<()>
{
    let dir = tempfile::tempdir()?;
    let (cert, key) = tls_files(dir.path());
    std::fs::write(&cert, "not a certificate")?;
    std::fs::write(&key, KeyPair::generate()?.serialize_pem())?;
    let tls = ListenerTlsConfig {
        cert_path: Some(cert),
        key_path: Some(key),
    };
    let config = config(tls, ListenerTlsConfig::default())?;
    let error = ServiceKit::builder("tls-test", &config)
        .build()
        .await
        .expect_err("an unreadable certificate must stop start-up")
        .to_string();
    assert!(error.contains("grpc.tls.cert_path"), "{error}");
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_over_tls_answers_a_scraper_trusting_the_ca() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let (cert, key) = tls_files(dir.path());
    let ca = TestCa::new("HCMC DTI test CA")?;
    ca.issue_to(&cert, &key)?;
    let tls = ListenerTlsConfig {
        cert_path: Some(cert),
        key_path: Some(key),
    };
    let config = config(ListenerTlsConfig::default(), tls)?;
    let running = ServiceKit::builder("tls-metrics-test", &config)
        .build()
        .await?
        .spawn()?;
    let metrics_addr = running.metrics_addr.expect("metrics enabled");

    let mut roots = rustls::RootCertStore::empty();
    use rustls::pki_types::pem::PemObject;
    for certificate in rustls::pki_types::CertificateDer::pem_slice_iter(ca.pem().as_bytes()) {
        roots.add(certificate?)?;
    }
    let client = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()?
    .with_root_certificates(roots)
    .with_no_client_auth();
    let connector = tokio_rustls::TlsConnector::from(Arc::new(client));
    let tcp = tokio::net::TcpStream::connect(metrics_addr).await?;
    let mut stream = connector.connect("localhost".try_into()?, tcp).await?;
    stream
        .write_all(b"GET /metrics HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
        .await?;
    let mut response = String::new();
    stream.read_to_string(&mut response).await?;
    assert!(response.starts_with("HTTP/1.1 200"), "{response}");
    assert!(response.contains("dti_build_info"), "{response}");

    // Plain HTTP is not answered.
    let mut plain = tokio::net::TcpStream::connect(metrics_addr).await?;
    plain
        .write_all(b"GET /metrics HTTP/1.1\r\nHost: localhost\r\n\r\n")
        .await?;
    let mut answer = Vec::new();
    let _ = tokio::time::timeout(
        std::time::Duration::from_secs(5),
        plain.read_to_end(&mut answer),
    )
    .await;
    assert!(
        !String::from_utf8_lossy(&answer).contains("HTTP/1.1 200"),
        "plain HTTP was answered"
    );

    running.stop().await?;
    Ok(())
}
