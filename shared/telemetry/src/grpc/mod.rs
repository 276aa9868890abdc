//! W3C trace context through gRPC (tonic) metadata, and the server-side telemetry layer.
//!
//! Client side: wrap a channel with [`TraceContextInterceptor`] (or call
//! [`inject_current_context`]) so every call carries the caller's span context.
//! Server side: [`GrpcServerTelemetryLayer`] opens one span per request as a child of the
//! caller's context and records the standard gRPC metrics; handlers that build their own root
//! span can use [`set_parent_from_metadata`] instead.

mod layer;
mod metadata;

pub use layer::{GrpcServerTelemetry, GrpcServerTelemetryLayer, RecordedBody};
pub use metadata::{
    extract_context, inject_current_context, inject_span_context, set_parent_from_metadata,
    TraceContextInterceptor,
};
