//! NATS over TLS: against a `nats-server` of the test's own that accepts only TLS, with a
//! certificate of a CA the test makes, `connect_with_ca` trusting that CA connects and JetStream
//! answers; without the CA, or trusting another CA, the connection is refused.

use std::time::Duration;

use dti_testkit::tls::{TestCa, TlsServer};

/// Connecting gives up within this time when the server's certificate is not trusted.
const REFUSAL_TIMEOUT: Duration = Duration::from_secs(15);

#[tokio::test]
async fn nats_over_tls_connects_only_trusting_the_servers_ca() -> anyhow::Result<()> {
    let nats = TlsServer::nats().await?;
    let tls_url = format!("tls://{}", nats.addr);
    let plain_url = format!("nats://{}", nats.addr);

    // Trusting the CA, over either URL form: JetStream answers and a message is stored.
    for url in [&tls_url, &plain_url] {
        let js = dti_bus::connect_with_ca(url, Some(&nats.ca_file)).await?;
        let prefix = dti_testkit::random_nats_prefix();
        let mut stream =
            dti_bus::stream::ensure_stream(&js, &prefix, Duration::from_secs(60)).await?;
        js.publish(format!("{prefix}.tls.checked.v1"), "ok".into())
            .await?
            .await?;
        assert_eq!(stream.info().await?.state.messages, 1);
    }

    // Without the CA (the system's roots do not know it) the handshake fails.
    let untrusted = tokio::time::timeout(REFUSAL_TIMEOUT, dti_bus::connect(&tls_url)).await;
    let refused = format!("{:?}", untrusted.map(|connected| connected.err()));
    assert!(refused.contains("UnknownIssuer"), "{refused}");
    // Trusting another CA fails as well.
    let dir = tempfile::tempdir()?;
    let other_ca = dir.path().join("other-ca.pem");
    TestCa::new("another CA")?.write_to(&other_ca)?;
    let other = tokio::time::timeout(
        REFUSAL_TIMEOUT,
        dti_bus::connect_with_ca(&tls_url, Some(&other_ca)),
    )
    .await;
    let refused = format!("{:?}", other.map(|connected| connected.err()));
    assert!(refused.contains("UnknownIssuer"), "{refused}");
    Ok(())
}
