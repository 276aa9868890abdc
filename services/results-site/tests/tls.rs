//! The site reading from a verification service that serves gRPC over TLS (`grpc.tls`), with
//! certificates the test makes: with `service.verification_ca_file` it verifies the service's
//! certificate and is answered (an unpublished round is 404, the service's answer); trusting
//! only the system's roots it cannot verify the city's CA and the page is 503.

use std::time::Duration;

use dti_testkit::tls::ServiceCertificate;
use dti_testkit::TestBackends;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_site_reads_a_verification_service_over_tls() -> anyhow::Result<()> {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let backends = TestBackends::create().await?;
    let certificate = ServiceCertificate::issue("HCMC DTI services CA")?;
    let ca_file = certificate.ca_file.clone();
    let mut config = backends.service_config(dti_verification::Settings::default());
    config.grpc.tls = certificate.listener();
    let verification = dti_verification::build(&config).await?.spawn()?;
    let https = format!("https://localhost:{}", verification.grpc_addr.port());
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()?;

    for (ca_file, expected) in [(Some(ca_file.clone()), 404), (None, 503)] {
        let settings = dti_results_site::Settings {
            http_listen_addr: "127.0.0.1:0".parse()?,
            verification_endpoint: https.clone(),
            verification_ca_file: ca_file.clone(),
            latest_check_interval_ms: 0,
            request_timeout_secs: 5,
            ..dti_results_site::Settings::default()
        };
        let config = backends.service_config(settings);
        dti_config::Validate::validate(&config)?;
        let built = dti_results_site::build_site(&config).await?;
        let addr = built.http_addr;
        let site = built.kit.spawn()?;
        let answer = http
            .get(format!("http://{addr}/2023/hcm-2023-district"))
            .send()
            .await?;
        assert_eq!(answer.status().as_u16(), expected, "CA file {ca_file:?}");
        site.stop().await?;
    }

    // A CA file with a plain endpoint is refused at configuration, naming the endpoint.
    let settings = dti_results_site::Settings {
        verification_ca_file: Some(ca_file),
        ..dti_results_site::Settings::default()
    };
    let error = dti_config::Validate::validate(&settings)
        .expect_err("a CA file for a plain endpoint is refused")
        .to_string();
    assert!(error.contains("service.verification_endpoint"), "{error}");

    verification.stop().await?;
    backends.close().await?;
    Ok(())
}
