//! The process-wide `tracing` subscriber and OpenTelemetry tracer provider.

use dti_config::{LogFormat, TelemetryConfig};
use opentelemetry::trace::TracerProvider as _;
use opentelemetry_otlp::WithExportConfig;
use opentelemetry_sdk::propagation::TraceContextPropagator;
use opentelemetry_sdk::trace::SdkTracerProvider;
use opentelemetry_sdk::Resource;
use tracing_subscriber::filter::LevelFilter;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::EnvFilter;
use tracing_subscriber::Layer;

use crate::TelemetryError;

/// Keeps the tracer provider alive; [`TelemetryGuard::shutdown`] flushes pending spans.
#[derive(Debug)]
pub struct TelemetryGuard {
    provider: SdkTracerProvider,
}

impl TelemetryGuard {
    /// Flushes and stops span export. Blocks while the exporter drains: call it from
    /// `tokio::task::spawn_blocking` inside a runtime.
    pub fn shutdown(self) {
        if let Err(error) = self.provider.shutdown() {
            eprintln!("telemetry shutdown: {error}");
        }
    }
}

/// Installs the global `tracing` subscriber for `service_name`: an env filter (`RUST_LOG`, else
/// `config.log_filter`), JSON or pretty logs, and an OpenTelemetry layer whose spans are
/// exported to `config.otlp_endpoint` when set. Also sets the W3C TraceContext propagator and
/// the tracer provider globally. Must run inside a Tokio runtime when an endpoint is set.
pub fn init_tracing(
    service_name: &str,
    config: &TelemetryConfig,
) -> Result<TelemetryGuard, TelemetryError> {
    let filter = log_filter(&config.log_filter)?;
    let provider = tracer_provider(service_name, config.otlp_endpoint.as_deref())?;
    // Spans reach OpenTelemetry at INFO whatever the log filter says, so lowering log
    // verbosity never breaks trace propagation.
    let otel_layer = tracing_opentelemetry::layer()
        .with_tracer(provider.tracer(service_name.to_owned()))
        .with_filter(LevelFilter::INFO);
    let log_layer = match config.log_format {
        LogFormat::Json => tracing_subscriber::fmt::layer().json().boxed(),
        LogFormat::Pretty => tracing_subscriber::fmt::layer().pretty().boxed(),
    };
    tracing_subscriber::registry()
        .with(log_layer.with_filter(filter))
        .with(otel_layer)
        .try_init()
        .map_err(|_| TelemetryError::AlreadyInitialized)?;
    opentelemetry::global::set_text_map_propagator(TraceContextPropagator::new());
    opentelemetry::global::set_tracer_provider(provider.clone());
    Ok(TelemetryGuard { provider })
}

/// The filter from `RUST_LOG` if set, else from `configured`.
fn log_filter(configured: &str) -> Result<EnvFilter, TelemetryError> {
    let filter = std::env::var("RUST_LOG").unwrap_or_else(|_| configured.to_owned());
    EnvFilter::try_new(&filter)
        .map_err(|source| TelemetryError::InvalidLogFilter { filter, source })
}

/// A tracer provider for `service_name`, exporting over OTLP/gRPC only when `endpoint` is set.
pub(crate) fn tracer_provider(
    service_name: &str,
    endpoint: Option<&str>,
) -> Result<SdkTracerProvider, TelemetryError> {
    let resource = Resource::builder()
        .with_service_name(service_name.to_owned())
        .build();
    let builder = SdkTracerProvider::builder().with_resource(resource);
    let Some(endpoint) = endpoint else {
        return Ok(builder.build());
    };
    let exporter = opentelemetry_otlp::SpanExporter::builder()
        .with_tonic()
        .with_endpoint(endpoint)
        .build()
        .map_err(|source| TelemetryError::OtlpExporter {
            endpoint: endpoint.to_owned(),
            source,
        })?;
    Ok(builder.with_batch_exporter(exporter).build())
}

/// A subscriber with only the OpenTelemetry layer (no exporter, no log output), for tests and
/// tools that need real trace ids without touching the global subscriber:
/// `let _guard = tracing::subscriber::set_default(dti_telemetry::local_trace_subscriber("t"));`
pub fn local_trace_subscriber(service_name: &str) -> impl tracing::Subscriber + Send + Sync {
    let provider = SdkTracerProvider::builder().build();
    let tracer = provider.tracer(service_name.to_owned());
    tracing_subscriber::registry().with(tracing_opentelemetry::layer().with_tracer(tracer))
}
