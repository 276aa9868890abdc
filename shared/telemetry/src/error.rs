//! The error type of telemetry set-up.

/// Why telemetry could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum TelemetryError {
    /// The `tracing` filter from the configuration or `RUST_LOG` does not parse.
    #[error("invalid log filter {filter:?}: {source}")]
    InvalidLogFilter {
        /// The filter text.
        filter: String,
        /// The parse error.
        source: tracing_subscriber::filter::ParseError,
    },
    /// The OTLP span exporter could not be built for the configured endpoint.
    #[error("building the OTLP exporter for {endpoint}: {source}")]
    OtlpExporter {
        /// The configured endpoint.
        endpoint: String,
        /// The build error.
        source: opentelemetry_otlp::ExporterBuildError,
    },
    /// A global `tracing` subscriber is already installed in this process.
    #[error("a global tracing subscriber is already installed")]
    AlreadyInitialized,
    /// The Prometheus recorder could not be built.
    #[error("building the Prometheus recorder: {0}")]
    PrometheusRecorder(#[from] metrics_exporter_prometheus::BuildError),
    /// Another `metrics` recorder (not ours) is already installed in this process.
    #[error("another metrics recorder is already installed in this process")]
    ForeignMetricsRecorder,
    /// The `/metrics` endpoint could not bind its address.
    #[error("binding the metrics endpoint on {addr}: {source}")]
    MetricsBind {
        /// The address asked for.
        addr: std::net::SocketAddr,
        /// The I/O error.
        source: std::io::Error,
    },
}
