//! `dtictl` calling a service that serves gRPC over TLS (`grpc.tls`), with certificates the
//! test makes: with `--ca-file` (`DTICTL_CA_FILE`) it verifies the service's certificate and
//! is answered by it; trusting only the system's roots it cannot verify the city's CA and says it
//! cannot reach the service; a CA file with a plain `http://` endpoint is bad input (exit 2)
//! naming `--ca-file`.

use std::process::{Command, Output, Stdio};

use dti_testkit::tls::ServiceCertificate;
use dti_testkit::{TestBackends, TEST_HS256_SECRET};

fn dtictl(args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_dtictl"));
    command.args(args).stdin(Stdio::null());
    for (name, _) in std::env::vars() {
        if name.starts_with("DTI_") || name.starts_with("DTICTL_") {
            command.env_remove(name);
        }
    }
    command
        .env("DTI_AUTH_HS256_SECRET", TEST_HS256_SECRET)
        .env("DTI_LANG", "en");
    for (name, value) in env {
        command.env(name, value);
    }
    command.output().expect("dtictl runs")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dtictl_verifies_a_service_serving_grpc_over_tls() -> anyhow::Result<()> {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let backends = TestBackends::create().await?;
    let certificate = ServiceCertificate::issue("HCMC DTI services CA")?;
    let mut config = backends.service_config(dti_ranking::Settings::default());
    config.grpc.tls = certificate.listener();
    let ranking = dti_ranking::build(&config).await?.spawn()?;
    let https = format!("https://localhost:{}", ranking.grpc_addr.port());
    let ca = certificate.ca_file.to_string_lossy().into_owned();
    let show = [
        "ranking",
        "show",
        "--year",
        "2023",
        "--framework",
        "hcm-2023-district",
    ];

    let run = |env: Vec<(&'static str, String)>| {
        let show = show.map(str::to_owned);
        tokio::task::spawn_blocking(move || {
            let args: Vec<&str> = show.iter().map(String::as_str).collect();
            let env: Vec<(&str, &str)> = env.iter().map(|(n, v)| (*n, v.as_str())).collect();
            dtictl(&args, &env)
        })
    };

    let verified = run(vec![
        ("DTICTL_RANKING_ENDPOINT", https.clone()),
        ("DTICTL_CA_FILE", ca.clone()),
    ])
    .await?;
    // Answered by the ranking service itself: no round is open on this new database.
    let stderr = text(&verified.stderr);
    assert!(!stderr.contains("cannot reach"), "{stderr}");
    assert!(
        stderr.contains("round 2023/hcm-2023-district does not exist"),
        "{stderr}"
    );

    let unverified = run(vec![("DTICTL_RANKING_ENDPOINT", https.clone())]).await?;
    let stderr = text(&unverified.stderr);
    assert!(!unverified.status.success());
    assert!(stderr.contains("cannot reach"), "{stderr}");

    let plain = run(vec![
        ("DTICTL_RANKING_ENDPOINT", ranking.endpoint()),
        ("DTICTL_CA_FILE", ca),
    ])
    .await?;
    let stderr = text(&plain.stderr);
    assert_eq!(plain.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("--ca-file"), "{stderr}");

    ranking.stop().await?;
    backends.close().await?;
    Ok(())
}
