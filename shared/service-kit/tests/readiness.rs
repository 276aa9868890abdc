//! Readiness follows PostgreSQL and NATS, liveness does not: a service started through the kit
//! reaches both through loopback TCP relays this test can cut. Cutting one turns the overall
//! and per-service health NOT_SERVING within a few checks while `liveness` stays SERVING;
//! restoring it turns readiness SERVING again. The relays forward to the real servers.
//! The HTTP probes on the metrics listener (`/healthz/ready`, `/healthz/live`, what the chart
//! probes when gRPC is on TLS) answer the same: 503 before serving starts, then 200 or 503 as
//! the gRPC statuses are.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use dti_config::{NatsConfig, NoServiceSettings, ServiceConfig};
use dti_service_kit::readiness::LIVENESS;
use dti_service_kit::ServiceKit;
use secrecy::{ExposeSecret, SecretString};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;
use tonic::transport::Channel;
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_health::pb::health_client::HealthClient;
use tonic_health::pb::HealthCheckRequest;

const SERVICE: &str = "readiness-test";

/// A loopback TCP relay to `target` that can be cut (every connection dropped, nothing
/// accepted) and restored on the same port.
struct Relay {
    addr: SocketAddr,
    target: SocketAddr,
    tasks: Arc<Mutex<Vec<JoinHandle<()>>>>,
}

impl Relay {
    async fn start(target: SocketAddr) -> anyhow::Result<Self> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let relay = Self {
            addr: listener.local_addr()?,
            target,
            tasks: Arc::default(),
        };
        relay.serve(listener);
        Ok(relay)
    }

    fn serve(&self, listener: TcpListener) {
        let target = self.target;
        let tasks = self.tasks.clone();
        let accepting = tokio::spawn(async move {
            while let Ok((mut inbound, _)) = listener.accept().await {
                let piping = tokio::spawn(async move {
                    if let Ok(mut outbound) = TcpStream::connect(target).await {
                        let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
                    }
                });
                tasks.lock().expect("lock").push(piping);
            }
        });
        self.tasks.lock().expect("lock").push(accepting);
    }

    fn cut(&self) {
        for task in self.tasks.lock().expect("lock").drain(..) {
            task.abort();
        }
    }

    async fn restore(&self) -> anyhow::Result<()> {
        let listener = TcpListener::bind(self.addr).await?;
        self.serve(listener);
        Ok(())
    }
}

fn host_port(url: &str, default_port: u16) -> anyhow::Result<SocketAddr> {
    let rest = url.split("://").nth(1).unwrap_or(url);
    let authority = rest.split('/').next().unwrap_or(rest);
    let host_port = authority.rsplit('@').next().unwrap_or(authority);
    let (host, port) = match host_port.rsplit_once(':') {
        Some((host, port)) => (host, port.parse()?),
        None => (host_port, default_port),
    };
    let host = if host == "localhost" {
        "127.0.0.1"
    } else {
        host
    };
    Ok(SocketAddr::new(host.parse()?, port))
}

async fn status(channel: Channel, service: &str) -> anyhow::Result<i32> {
    let request = HealthCheckRequest {
        service: service.into(),
    };
    Ok(HealthClient::new(channel)
        .check(request)
        .await?
        .into_inner()
        .status)
}

/// The HTTP status of `GET path` on the metrics listener at `addr`.
async fn probe(addr: SocketAddr, path: &str) -> anyhow::Result<u16> {
    let mut stream = TcpStream::connect(addr).await?;
    let request = format!("GET {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).await?;
    let mut response = String::new();
    stream.read_to_string(&mut response).await?;
    let code = response
        .split(' ')
        .nth(1)
        .ok_or_else(|| anyhow::anyhow!("no status line: {response}"))?;
    Ok(code.parse()?)
}

/// Waits (at most 30 s) until the overall status is `wanted` and the HTTP readiness probe
/// agrees; liveness is SERVING (HTTP 200) throughout.
async fn wait_for(
    channel: &Channel,
    metrics: SocketAddr,
    wanted: ServingStatus,
) -> anyhow::Result<()> {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    let wanted_http = if wanted == ServingStatus::Serving {
        200
    } else {
        503
    };
    loop {
        let liveness = status(channel.clone(), LIVENESS).await?;
        assert_eq!(
            liveness,
            ServingStatus::Serving as i32,
            "liveness never follows a dependency"
        );
        assert_eq!(probe(metrics, "/healthz/live").await?, 200);
        let overall = status(channel.clone(), "").await?;
        let service = status(channel.clone(), SERVICE).await?;
        let ready = probe(metrics, "/healthz/ready").await?;
        if overall == wanted as i32 && service == wanted as i32 && ready == wanted_http {
            return Ok(());
        }
        if tokio::time::Instant::now() > deadline {
            anyhow::bail!(
                "readiness stayed {overall} (service {service}, HTTP {ready}), wanted {wanted:?}"
            );
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn readiness_follows_postgres_and_nats_and_liveness_does_not() -> anyhow::Result<()> {
    let db = dti_testkit::TestDatabase::create().await?;
    let postgres = Relay::start(host_port(db.url(), 5432)?).await?;
    let nats = Relay::start(host_port(&dti_testkit::nats_url(), 4222)?).await?;

    let mut database = db.database_config();
    let relayed = database.url.expose_secret().replace(
        &host_port(db.url(), 5432)?.port().to_string(),
        &postgres.addr.port().to_string(),
    );
    database.url = SecretString::from(relayed);
    database.acquire_timeout_secs = 1;
    let config = ServiceConfig {
        database,
        nats: NatsConfig {
            url: format!("nats://{}", nats.addr),
            prefix: dti_testkit::random_nats_prefix(),
            ..NatsConfig::default()
        },
        ..dti_testkit::loopback_config(NoServiceSettings::default())
    };
    let kit = ServiceKit::builder(SERVICE, &config)
        .with_postgres()
        .with_nats()
        .build()
        .await?;
    let metrics = kit.metrics_addr().expect("metrics are enabled");
    // Built but not serving yet: the HTTP probes say so.
    assert_eq!(probe(metrics, "/healthz/ready").await?, 503);
    assert_eq!(probe(metrics, "/healthz/live").await?, 503);
    let running = kit.spawn()?;
    let channel = running.channel();
    wait_for(&channel, metrics, ServingStatus::Serving).await?;

    postgres.cut();
    wait_for(&channel, metrics, ServingStatus::NotServing).await?;
    postgres.restore().await?;
    wait_for(&channel, metrics, ServingStatus::Serving).await?;

    nats.cut();
    wait_for(&channel, metrics, ServingStatus::NotServing).await?;
    nats.restore().await?;
    wait_for(&channel, metrics, ServingStatus::Serving).await?;

    running.stop().await?;
    postgres.cut();
    nats.cut();
    db.close().await?;
    Ok(())
}
