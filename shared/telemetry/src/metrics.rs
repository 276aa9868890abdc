//! Prometheus metrics behind the `metrics` facade: the recorder, the HTTP `/metrics` endpoint,
//! and the standard metric set every service reports.
//!
//! Standard metrics (all prefixed `dti_`):
//! - [`GRPC_SERVER_REQUESTS_TOTAL`] `{method, code}` and
//!   [`GRPC_SERVER_REQUEST_DURATION_SECONDS`] `{method, code}`, recorded by
//!   [`crate::grpc::GrpcServerTelemetryLayer`];
//! - [`BUS_EVENTS_PUBLISHED_TOTAL`] `{subject}` and [`BUS_EVENTS_CONSUMED_TOTAL`]
//!   `{consumer, outcome}`, recorded by `dti-bus`;
//! - [`OUTBOX_PENDING_MESSAGES`] and [`OUTBOX_LAG_SECONDS`], set by the outbox relay.

use std::net::SocketAddr;
use std::sync::Mutex;
use std::time::Duration;

use axum::routing::get;
use axum::serve::ListenerExt;
use axum::Router;
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

use crate::TelemetryError;

/// Counter of finished gRPC requests, by `method` (full path) and `code`. Requests answered
/// `Unimplemented` are labelled `method="unknown"`, so probing random paths cannot grow the
/// number of series.
pub const GRPC_SERVER_REQUESTS_TOTAL: &str = "dti_grpc_server_requests_total";
/// Histogram of gRPC request latency in seconds, by `method` and `code`.
pub const GRPC_SERVER_REQUEST_DURATION_SECONDS: &str = "dti_grpc_server_request_duration_seconds";
/// Counter of events acknowledged by JetStream on publish, by `subject`.
pub const BUS_EVENTS_PUBLISHED_TOTAL: &str = "dti_bus_events_published_total";
/// Counter of consumed events, by `consumer` and `outcome` (see [`ConsumeOutcome`]).
pub const BUS_EVENTS_CONSUMED_TOTAL: &str = "dti_bus_events_consumed_total";
/// Gauge of outbox rows not yet published.
pub const OUTBOX_PENDING_MESSAGES: &str = "dti_outbox_pending_messages";
/// Gauge of the age in seconds of the oldest unpublished outbox row (0 when none).
pub const OUTBOX_LAG_SECONDS: &str = "dti_outbox_lag_seconds";

/// Latency buckets in seconds for the request histogram.
const LATENCY_BUCKETS: &[f64] = &[
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

/// How a consumed event ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConsumeOutcome {
    /// The handler ran and its transaction committed.
    Processed,
    /// The message id was already in the consumer's inbox; nothing ran.
    Duplicate,
    /// The handler or its transaction failed; the message was nak'ed for redelivery.
    Failed,
}

impl ConsumeOutcome {
    /// Label value of the outcome.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Processed => "processed",
            Self::Duplicate => "duplicate",
            Self::Failed => "failed",
        }
    }
}

/// Records one finished gRPC request.
pub fn record_grpc_request(method: &str, code: tonic::Code, elapsed: Duration) {
    let labels = [("method", method.to_owned()), ("code", format!("{code:?}"))];
    metrics::counter!(GRPC_SERVER_REQUESTS_TOTAL, &labels).increment(1);
    metrics::histogram!(GRPC_SERVER_REQUEST_DURATION_SECONDS, &labels)
        .record(elapsed.as_secs_f64());
}

/// Records one event published and acknowledged on `subject`.
pub fn record_event_published(subject: &str) {
    metrics::counter!(BUS_EVENTS_PUBLISHED_TOTAL, "subject" => subject.to_owned()).increment(1);
}

/// Records one event taken by `consumer` and how it ended.
pub fn record_event_consumed(consumer: &str, outcome: ConsumeOutcome) {
    metrics::counter!(
        BUS_EVENTS_CONSUMED_TOTAL,
        "consumer" => consumer.to_owned(),
        "outcome" => outcome.as_str()
    )
    .increment(1);
}

/// Sets the outbox gauges: rows pending and age of the oldest one.
pub fn record_outbox_lag(pending: u64, oldest_age: Duration) {
    metrics::gauge!(OUTBOX_PENDING_MESSAGES).set(pending as f64);
    metrics::gauge!(OUTBOX_LAG_SECONDS).set(oldest_age.as_secs_f64());
}

/// Describes the standard metrics (help texts and units) to the installed recorder.
fn describe_standard_metrics() {
    use metrics::{describe_counter, describe_gauge, describe_histogram, Unit};
    describe_counter!(
        GRPC_SERVER_REQUESTS_TOTAL,
        "Finished gRPC requests by method and code"
    );
    describe_histogram!(
        GRPC_SERVER_REQUEST_DURATION_SECONDS,
        Unit::Seconds,
        "gRPC request latency by method and code"
    );
    describe_counter!(
        BUS_EVENTS_PUBLISHED_TOTAL,
        "Events acknowledged by JetStream on publish"
    );
    describe_counter!(
        BUS_EVENTS_CONSUMED_TOTAL,
        "Events consumed, by consumer and outcome"
    );
    describe_gauge!(OUTBOX_PENDING_MESSAGES, "Outbox rows not yet published");
    describe_gauge!(
        OUTBOX_LAG_SECONDS,
        Unit::Seconds,
        "Age of the oldest unpublished outbox row"
    );
}

/// The process's Prometheus recorder, once installed.
static RECORDER: Mutex<Option<PrometheusHandle>> = Mutex::new(None);

/// Installs the Prometheus recorder as the global `metrics` recorder, once per process, and
/// returns a handle that renders the exposition text. Later calls return the same handle.
pub fn install_prometheus_recorder() -> Result<PrometheusHandle, TelemetryError> {
    let mut installed = RECORDER
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    if let Some(handle) = installed.as_ref() {
        return Ok(handle.clone());
    }
    let recorder = PrometheusBuilder::new()
        .set_buckets_for_metric(
            Matcher::Full(GRPC_SERVER_REQUEST_DURATION_SECONDS.to_owned()),
            LATENCY_BUCKETS,
        )?
        .build_recorder();
    let handle = recorder.handle();
    metrics::set_global_recorder(recorder).map_err(|_| TelemetryError::ForeignMetricsRecorder)?;
    describe_standard_metrics();
    *installed = Some(handle.clone());
    Ok(handle)
}

/// An HTTP endpoint serving `GET /metrics` from a Prometheus handle, bound but not yet serving.
#[derive(Debug)]
pub struct MetricsEndpoint {
    listener: TcpListener,
    handle: PrometheusHandle,
}

impl MetricsEndpoint {
    /// Binds `addr` (port 0 picks a free port) for serving `handle`.
    pub async fn bind(addr: SocketAddr, handle: PrometheusHandle) -> Result<Self, TelemetryError> {
        let listener = TcpListener::bind(addr)
            .await
            .map_err(|source| TelemetryError::MetricsBind { addr, source })?;
        Ok(Self { listener, handle })
    }

    /// The address actually bound.
    pub fn local_addr(&self) -> std::io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    /// The bound listener and the `/metrics` router, for serving them another way (over TLS).
    pub fn into_parts(self) -> (TcpListener, Router) {
        (self.listener, metrics_router(self.handle))
    }

    /// Serves `/metrics` until `shutdown` is cancelled.
    pub async fn serve(self, shutdown: CancellationToken) -> std::io::Result<()> {
        let app = metrics_router(self.handle);
        // Nagle's algorithm would hold a scrape's last segment until the scraper's delayed ACK.
        let listener = self.listener.tap_io(|connection| {
            if let Err(error) = connection.set_nodelay(true) {
                tracing::debug!(%error, "cannot set TCP_NODELAY on a metrics connection");
            }
        });
        axum::serve(listener, app)
            .with_graceful_shutdown(shutdown.cancelled_owned())
            .await
    }
}

/// The router answering `GET /metrics` from `handle`.
fn metrics_router(handle: PrometheusHandle) -> Router {
    Router::new().route(
        "/metrics",
        get(move || {
            let handle = handle.clone();
            async move {
                handle.run_upkeep();
                handle.render()
            }
        }),
    )
}
