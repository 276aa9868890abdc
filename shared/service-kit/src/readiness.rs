//! Readiness that follows the service's dependencies, and liveness that does not.
//!
//! While serving, a watcher checks every [`CHECK_INTERVAL`] that the service can reach what it
//! connected to: PostgreSQL answers `SELECT 1` within [`CHECK_TIMEOUT`], and the NATS client is
//! connected. When either fails, every registered gRPC service and the overall status (`""`)
//! turn NOT_SERVING — Kubernetes stops routing requests to the pod, which could only fail —
//! and they turn SERVING again once both answer. The `liveness` status is SERVING from the
//! start of serving until shutdown and never follows a dependency, so a database or NATS
//! outage does not make Kubernetes restart healthy processes (the chart's liveness probe asks
//! for `liveness`, its readiness probe for the overall status).
//!
//! Each check also sets the gauge `dti_dependency_up{dependency}` (1 reachable, 0 not).
//!
//! The same two statuses are answered over HTTP on the metrics listener ([`probe_routes`]):
//! `GET /healthz/ready` and `GET /healthz/live` answer 200 or 503. Kubernetes' gRPC probes
//! cannot speak TLS, so with `grpc.tls` on the chart probes these instead (over HTTPS when
//! `metrics.tls` is on; the kubelet does not verify the certificate of an HTTPS probe).

use std::time::Duration;

use axum::http::StatusCode;
use axum::routing::get;
use axum::Router;
use sqlx::PgPool;
use tokio_util::sync::CancellationToken;
use tonic_health::pb::health_check_response::ServingStatus as ProbeStatus;
use tonic_health::pb::health_server::Health;
use tonic_health::pb::HealthCheckRequest;
use tonic_health::server::{HealthReporter, HealthService};
use tonic_health::ServingStatus;

/// The gRPC health service name of liveness.
pub const LIVENESS: &str = "liveness";

/// Time between dependency checks.
pub const CHECK_INTERVAL: Duration = Duration::from_secs(2);

/// How long PostgreSQL may take to answer a check.
pub const CHECK_TIMEOUT: Duration = Duration::from_secs(2);

/// Gauge per dependency: 1 when the last check reached it.
pub const DEPENDENCY_UP: &str = "dti_dependency_up";

/// What a service depends on for readiness.
#[derive(Clone, Default)]
pub(crate) struct Dependencies {
    pub(crate) postgres: Option<PgPool>,
    pub(crate) nats: Option<async_nats::Client>,
}

impl Dependencies {
    /// Checks each dependency; the names of those unreachable.
    async fn unreachable(&self) -> Vec<&'static str> {
        let mut down = Vec::new();
        if let Some(pool) = &self.postgres {
            let answered =
                tokio::time::timeout(CHECK_TIMEOUT, sqlx::query("SELECT 1").execute(pool)).await;
            let up = matches!(answered, Ok(Ok(_)));
            metrics::gauge!(DEPENDENCY_UP, "dependency" => "postgres").set(f64::from(u8::from(up)));
            if !up {
                down.push("postgres");
            }
        }
        if let Some(client) = &self.nats {
            let up = client.connection_state() == async_nats::connection::State::Connected;
            metrics::gauge!(DEPENDENCY_UP, "dependency" => "nats").set(f64::from(u8::from(up)));
            if !up {
                down.push("nats");
            }
        }
        down
    }
}

/// Follows the dependencies until `shutdown`, setting `names` (and `""`) SERVING or
/// NOT_SERVING. Starts from SERVING, as set when serving began.
pub(crate) async fn follow_dependencies(
    dependencies: Dependencies,
    health: HealthReporter,
    names: Vec<String>,
    shutdown: CancellationToken,
) {
    let mut ready = true;
    loop {
        tokio::select! {
            () = shutdown.cancelled() => return,
            () = tokio::time::sleep(CHECK_INTERVAL) => {}
        }
        let down = dependencies.unreachable().await;
        if shutdown.is_cancelled() {
            return;
        }
        let now_ready = down.is_empty();
        if now_ready == ready {
            continue;
        }
        ready = now_ready;
        let status = if ready {
            tracing::info!("dependencies reachable again: ready");
            ServingStatus::Serving
        } else {
            tracing::warn!(unreachable = ?down, "a dependency is unreachable: not ready");
            ServingStatus::NotServing
        };
        for name in names.iter().map(String::as_str).chain([""]) {
            health.set_service_status(name, status).await;
        }
        if shutdown.is_cancelled() {
            // Shutdown began while this was being set: shutdown's NOT_SERVING stands.
            for name in names.iter().map(String::as_str).chain([""]) {
                health
                    .set_service_status(name, ServingStatus::NotServing)
                    .await;
            }
            return;
        }
    }
}

/// `GET /healthz/ready` (the overall status, which follows the dependencies) and
/// `GET /healthz/live` (`liveness`): 200 `SERVING` or 503 with the status. Both are 503 until
/// [`crate::ServiceKit::serve`] starts serving gRPC and again once shutdown begins.
pub(crate) fn probe_routes(health: HealthReporter) -> Router {
    let health = std::sync::Arc::new(HealthService::from_health_reporter(health));
    let ready = health.clone();
    Router::new()
        .route(
            "/healthz/ready",
            get(move || {
                let health = ready.clone();
                async move { answer(&health, &["", LIVENESS]).await }
            }),
        )
        .route(
            "/healthz/live",
            get(move || {
                let health = health.clone();
                async move { answer(&health, &[LIVENESS]).await }
            }),
        )
}

/// 200 when every one of `names` is SERVING; otherwise 503 naming the first that is not.
/// `liveness` is registered only when serving starts, so before that every probe is 503.
async fn answer(health: &HealthService, names: &[&str]) -> (StatusCode, String) {
    for name in names {
        let request = tonic::Request::new(HealthCheckRequest {
            service: (*name).to_owned(),
        });
        let status = match health.check(request).await {
            Ok(response) => response.into_inner().status(),
            Err(_) => ProbeStatus::Unknown,
        };
        if status != ProbeStatus::Serving {
            let name = if name.is_empty() { "overall" } else { name };
            return (
                StatusCode::SERVICE_UNAVAILABLE,
                format!("{name}: {}\n", status.as_str_name()),
            );
        }
    }
    (StatusCode::OK, "SERVING\n".to_owned())
}
