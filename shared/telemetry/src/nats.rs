//! W3C trace context through NATS message headers (`async_nats::HeaderMap`).

use async_nats::HeaderMap;
use opentelemetry::propagation::{Extractor, Injector};
use opentelemetry::Context;
use tracing::Span;

use crate::propagation;

/// Writes trace context entries into NATS headers.
struct NatsHeaderInjector<'a>(&'a mut HeaderMap);

impl Injector for NatsHeaderInjector<'_> {
    fn set(&mut self, key: &str, value: String) {
        self.0.insert(key, value);
    }
}

/// Reads trace context entries from NATS headers.
struct NatsHeaderExtractor<'a>(&'a HeaderMap);

impl Extractor for NatsHeaderExtractor<'_> {
    fn get(&self, key: &str) -> Option<&str> {
        self.0.get(key).map(|value| value.as_str())
    }

    fn keys(&self) -> Vec<&str> {
        self.0
            .iter()
            .map(|(name, _)| AsRef::<str>::as_ref(name))
            .collect()
    }
}

/// Writes the context of `span` into `headers` (`traceparent`, `tracestate`).
pub fn inject_span_context(span: &Span, headers: &mut HeaderMap) {
    propagation::inject_span_context(span, &mut NatsHeaderInjector(headers));
}

/// Writes the context of the current span into `headers`.
pub fn inject_current_context(headers: &mut HeaderMap) {
    inject_span_context(&Span::current(), headers);
}

/// Reads the publisher's context from `headers`; an empty context when there is none.
pub fn extract_context(headers: &HeaderMap) -> Context {
    propagation::extract_context(&NatsHeaderExtractor(headers))
}

/// Makes `span` a child of the publisher's context found in `headers`, if any.
///
/// Call it before entering `span`.
pub fn set_parent_from_headers(span: &Span, headers: &HeaderMap) {
    propagation::set_parent_from(span, &NatsHeaderExtractor(headers));
}

/// The trace context of `span` as `(name, value)` pairs, for storing beside a message that is
/// published later (the outbox) and turned back into headers then.
pub fn span_context_entries(span: &Span) -> Vec<(String, String)> {
    let mut headers = HeaderMap::new();
    inject_span_context(span, &mut headers);
    headers
        .iter()
        .flat_map(|(name, values)| {
            values
                .iter()
                .map(move |value| (name.to_string(), value.as_str().to_owned()))
        })
        .collect()
}
