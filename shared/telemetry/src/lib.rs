//! `dti-telemetry` owns how DTI services log, trace and count.
//!
//! - [`init_tracing`]: the process-wide `tracing` subscriber (JSON or pretty logs), an
//!   OpenTelemetry tracer provider that exports over OTLP/gRPC only when an endpoint is
//!   configured, and the W3C TraceContext propagator set globally.
//! - [`grpc`]: carries the W3C trace context through tonic metadata — a client
//!   [`grpc::TraceContextInterceptor`], [`grpc::set_parent_from_metadata`] for handlers, and the
//!   server tower layer [`grpc::GrpcServerTelemetryLayer`] that makes each request span a child of
//!   the caller and records the standard gRPC metrics.
//! - [`nats`]: carries the same context through `async_nats::HeaderMap`.
//! - [`metrics`]: the Prometheus recorder behind the `metrics` facade, the HTTP `/metrics`
//!   endpoint, and the names and helpers of the standard metric set.
//!
//! Trace context is always propagated, even without an exporter: spans still get trace and
//! span ids, so one trace id follows a submission across services and events.

#![warn(missing_docs)]

mod error;
pub mod grpc;
pub mod metrics;
pub mod nats;
mod propagation;
mod subscriber;

pub use error::TelemetryError;
pub use propagation::{current_trace_id, trace_id_of};
pub use subscriber::{init_tracing, local_trace_subscriber, TelemetryGuard};
