//! The Prometheus recorder and the `/metrics` HTTP endpoint, over a real socket.

use std::time::Duration;

use dti_telemetry::metrics::{self, ConsumeOutcome, MetricsEndpoint};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio_util::sync::CancellationToken;

async fn http_get(addr: std::net::SocketAddr, path: &str) -> anyhow::Result<String> {
    let mut stream = tokio::net::TcpStream::connect(addr).await?;
    let request = format!("GET {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).await?;
    let mut response = String::new();
    stream.read_to_string(&mut response).await?;
    Ok(response)
}

#[tokio::test]
async fn metrics_endpoint_serves_the_standard_set_and_stops_on_cancel() -> anyhow::Result<()> {
    let handle = metrics::install_prometheus_recorder()?;
    let again = metrics::install_prometheus_recorder()?;
    metrics::record_grpc_request(
        "/dti.test.v1.Test/Ping",
        tonic::Code::Ok,
        Duration::from_millis(3),
    );
    metrics::record_event_published("t.submission.submitted.v1");
    metrics::record_event_consumed("scoring", ConsumeOutcome::Duplicate);
    metrics::record_outbox_lag(2, Duration::from_secs(4));

    let endpoint = MetricsEndpoint::bind("127.0.0.1:0".parse()?, handle).await?;
    let addr = endpoint.local_addr()?;
    let shutdown = CancellationToken::new();
    let server = tokio::spawn(endpoint.serve(shutdown.clone()));

    let body = http_get(addr, "/metrics").await?;
    assert!(body.starts_with("HTTP/1.1 200"), "{body}");
    assert!(
        body.contains(
            r#"dti_grpc_server_requests_total{method="/dti.test.v1.Test/Ping",code="Ok"} 1"#
        ),
        "{body}"
    );
    assert!(
        body.contains("dti_grpc_server_request_duration_seconds_bucket"),
        "{body}"
    );
    assert!(
        body.contains(r#"dti_bus_events_consumed_total{consumer="scoring",outcome="duplicate"} 1"#),
        "{body}"
    );
    assert!(body.contains("dti_outbox_pending_messages 2"), "{body}");
    assert!(again.render().contains("dti_bus_events_published_total"));

    shutdown.cancel();
    tokio::time::timeout(Duration::from_secs(5), server).await???;
    assert!(tokio::net::TcpStream::connect(addr).await.is_err());
    Ok(())
}
