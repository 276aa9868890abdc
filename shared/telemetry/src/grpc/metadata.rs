//! Injecting and extracting the W3C trace context into and from tonic metadata.

use opentelemetry::propagation::{Extractor, Injector};
use opentelemetry::Context;
use tonic::metadata::{KeyRef, MetadataKey, MetadataMap, MetadataValue};
use tracing::Span;

use crate::propagation;

/// Writes trace context entries into tonic metadata (ASCII entries only).
struct MetadataInjector<'a>(&'a mut MetadataMap);

impl Injector for MetadataInjector<'_> {
    fn set(&mut self, key: &str, value: String) {
        let Ok(key) = MetadataKey::from_bytes(key.as_bytes()) else {
            return;
        };
        if let Ok(value) = MetadataValue::try_from(value) {
            self.0.insert(key, value);
        }
    }
}

/// Reads trace context entries from tonic metadata.
struct MetadataExtractor<'a>(&'a MetadataMap);

impl Extractor for MetadataExtractor<'_> {
    fn get(&self, key: &str) -> Option<&str> {
        self.0.get(key).and_then(|value| value.to_str().ok())
    }

    fn keys(&self) -> Vec<&str> {
        self.0
            .keys()
            .filter_map(|key| match key {
                KeyRef::Ascii(key) => Some(key.as_str()),
                KeyRef::Binary(_) => None,
            })
            .collect()
    }
}

/// Writes the context of `span` into `metadata` (`traceparent`, `tracestate`).
pub fn inject_span_context(span: &Span, metadata: &mut MetadataMap) {
    propagation::inject_span_context(span, &mut MetadataInjector(metadata));
}

/// Writes the context of the current span into `metadata`.
pub fn inject_current_context(metadata: &mut MetadataMap) {
    inject_span_context(&Span::current(), metadata);
}

/// Reads the caller's context from `metadata`; an empty context when there is none.
pub fn extract_context(metadata: &MetadataMap) -> Context {
    propagation::extract_context(&MetadataExtractor(metadata))
}

/// Makes `span` a child of the caller's context found in `metadata`, if any.
///
/// Call it before entering `span` (e.g. right after creating the handler's span).
pub fn set_parent_from_metadata(span: &Span, metadata: &MetadataMap) {
    propagation::set_parent_from(span, &MetadataExtractor(metadata));
}

/// Client interceptor that puts the current span's trace context on every outgoing call.
///
/// ```text
/// let client = SubmissionServiceClient::with_interceptor(channel, TraceContextInterceptor);
/// ```
#[derive(Debug, Clone, Copy, Default)]
pub struct TraceContextInterceptor;

impl tonic::service::Interceptor for TraceContextInterceptor {
    fn call(
        &mut self,
        mut request: tonic::Request<()>,
    ) -> Result<tonic::Request<()>, tonic::Status> {
        inject_current_context(request.metadata_mut());
        Ok(request)
    }
}

/// Reads trace context entries from raw HTTP/2 headers (used by the server layer).
pub(crate) struct HeaderExtractor<'a>(pub(crate) &'a http::HeaderMap);

impl Extractor for HeaderExtractor<'_> {
    fn get(&self, key: &str) -> Option<&str> {
        self.0.get(key).and_then(|value| value.to_str().ok())
    }

    fn keys(&self) -> Vec<&str> {
        self.0.keys().map(http::HeaderName::as_str).collect()
    }
}
