//! Pushing over HTTPS: the service with a configured CA file pushes to the reference receiver
//! serving a certificate of a CA generated in the test (rcgen); without the CA file the server
//! is not trusted.

mod support;

use std::time::Duration;

use dti_national_sync::national_api::{HttpNationalApi, HttpSettings, NationalApi, PushDecision};
use dti_testkit::{with_auth, TestBackends};
use serde_json::json;
use support::{
    clients, finished_run, install_crypto, national_set, owner_request, plan_and_push,
    push_settings, start_service, RunningReceiver, WAIT, YEAR,
};

/// A CA and a server certificate for 127.0.0.1 signed by it, as PEM files in `dir`.
fn write_test_pki(
    dir: &std::path::Path,
) -> anyhow::Result<(std::path::PathBuf, std::path::PathBuf, std::path::PathBuf)> {
    use rcgen::{
        BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair, KeyUsagePurpose,
    };
    let ca_key = KeyPair::generate()?;
    let mut ca_params = CertificateParams::new(Vec::<String>::new())?;
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params
        .distinguished_name
        .push(DnType::CommonName, "Test national DTI CA");
    ca_params.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    let ca_cert = ca_params.self_signed(&ca_key)?;
    let issuer = Issuer::from_params(&ca_params, &ca_key);
    let server_key = KeyPair::generate()?;
    let mut server_params =
        CertificateParams::new(vec!["127.0.0.1".to_owned(), "localhost".to_owned()])?;
    server_params
        .distinguished_name
        .push(DnType::CommonName, "national receiver");
    let server_cert = server_params.signed_by(&server_key, &issuer)?;
    let (ca, cert, key) = (
        dir.join("ca.pem"),
        dir.join("server.pem"),
        dir.join("server-key.pem"),
    );
    std::fs::write(&ca, ca_cert.pem())?;
    std::fs::write(&cert, server_cert.pem())?;
    std::fs::write(&key, server_key.serialize_pem())?;
    Ok((ca, cert, key))
}

#[tokio::test]
async fn https_with_a_configured_ca_file_pushes_and_an_untrusted_server_is_refused(
) -> anyhow::Result<()> {
    install_crypto();
    let dir = tempfile::tempdir()?;
    let (ca, cert, key) = write_test_pki(dir.path())?;
    let trusting = reqwest::Client::builder()
        .tls_certs_only([reqwest::Certificate::from_pem(&std::fs::read(&ca)?)?])
        .build()?;
    let receiver = RunningReceiver::start_with_client(
        &[
            "--tls-cert",
            cert.to_str().unwrap_or_default(),
            "--tls-key",
            key.to_str().unwrap_or_default(),
            "--token",
            "national-api-token-for-tests",
        ],
        trusting,
    )
    .await?;
    assert!(
        receiver.url.starts_with("https://127.0.0.1:"),
        "{}",
        receiver.url
    );

    // Without the CA file the system's roots do not trust the server: no answer.
    let untrusted = HttpNationalApi::new(&HttpSettings {
        endpoint: receiver.url.clone(),
        ca_file: None,
        api_token: None,
        request_timeout: Duration::from_secs(5),
        connect_timeout: Duration::from_secs(5),
    })?;
    let failure = untrusted.push("k", &json!({})).await.unwrap_err();
    assert!(
        failure.is_transient() && failure.to_string().contains("certificate"),
        "{failure}"
    );

    // The service with the CA file configured pushes over HTTPS.
    let backends = TestBackends::create().await?;
    let mut settings = push_settings(&receiver.url);
    settings.national.allow_plain_http = false;
    settings.national.ca_file = Some(ca.clone());
    settings.national.api_token = Some("national-api-token-for-tests".to_owned().into());
    settings.national.request_timeout_ms = 5_000;
    let running = start_service(&backends, settings).await?;
    let mut c = clients(&running);
    let set = national_set();
    let request = owner_request(&set, "so-noi-vu", YEAR, 1);
    let owned = request.general_info.len() + request.indicators.len();
    c.owners
        .submit_owner_values(with_auth(request, &backends.department_token("so-noi-vu")))
        .await?;
    let (_, run) = plan_and_push(&backends, &mut c, YEAR).await?;
    let run = finished_run(&backends, &mut c, &run.run_id, WAIT).await?;
    assert_eq!(run.accepted as usize, owned);
    let state = receiver.state().await?;
    assert_eq!(state.accepted.len(), owned);
    assert!(state
        .accepted
        .iter()
        .all(|a| a.idempotency_key.starts_with("79-2024-")));

    // The HTTP client itself, trusting the CA: a repeated key gets the first answer.
    let trusted = HttpNationalApi::new(&HttpSettings {
        endpoint: receiver.url.clone(),
        ca_file: Some(ca.clone()),
        api_token: Some("national-api-token-for-tests".to_owned().into()),
        request_timeout: Duration::from_secs(5),
        connect_timeout: Duration::from_secs(5),
    })?;
    let job: (String, serde_json::Value) =
        sqlx::query_as("SELECT idempotency_key, body FROM national_push_jobs LIMIT 1")
            .fetch_one(backends.db.pool())
            .await?;
    let replay = trusted.push(&job.0, &job.1).await?;
    assert!(matches!(replay.decision, PushDecision::Accepted { .. }));
    assert_eq!(
        receiver.state().await?.accepted.len(),
        owned,
        "a replay accepts nothing new"
    );
    // Without the national API token the request itself is refused (not retried at once).
    let tokenless = HttpNationalApi::new(&HttpSettings {
        endpoint: receiver.url.clone(),
        ca_file: Some(ca),
        api_token: None,
        request_timeout: Duration::from_secs(5),
        connect_timeout: Duration::from_secs(5),
    })?;
    let refused = tokenless.push(&job.0, &job.1).await.unwrap_err();
    assert_eq!(refused.http_status(), Some(401));
    assert!(!refused.is_transient());

    running.stop().await?;
    backends.close().await?;
    receiver.stop().await?;
    Ok(())
}
