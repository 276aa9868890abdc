//! Round trips of the W3C trace context through tonic metadata and NATS headers.

use dti_telemetry::{grpc, local_trace_subscriber, nats, trace_id_of};
use tonic::metadata::MetadataMap;
use tonic::service::Interceptor;

#[test]
fn grpc_metadata_round_trip_keeps_the_trace_id() {
    let _subscriber = tracing::subscriber::set_default(local_trace_subscriber("test"));
    let caller = tracing::info_span!("caller");
    let caller_trace = trace_id_of(&caller).expect("caller span has a trace id");

    let mut metadata = MetadataMap::new();
    grpc::inject_span_context(&caller, &mut metadata);
    assert!(metadata.get("traceparent").is_some());

    let handler = tracing::info_span!("handler");
    grpc::set_parent_from_metadata(&handler, &metadata);
    assert_eq!(trace_id_of(&handler), Some(caller_trace));
}

#[test]
fn client_interceptor_injects_the_current_span() {
    let _subscriber = tracing::subscriber::set_default(local_trace_subscriber("test"));
    let caller = tracing::info_span!("caller");
    let caller_trace = trace_id_of(&caller).expect("caller span has a trace id");

    let request = caller
        .in_scope(|| grpc::TraceContextInterceptor.call(tonic::Request::new(())))
        .expect("the interceptor never rejects");
    let traceparent = request
        .metadata()
        .get("traceparent")
        .expect("traceparent set");
    let traceparent = traceparent.to_str().expect("ASCII");
    assert!(
        traceparent.contains(&caller_trace.to_string()),
        "{traceparent}"
    );
}

#[test]
fn nats_header_round_trip_keeps_the_trace_id() {
    let _subscriber = tracing::subscriber::set_default(local_trace_subscriber("test"));
    let publisher = tracing::info_span!("publisher");
    let publisher_trace = trace_id_of(&publisher).expect("publisher span has a trace id");

    let mut headers = async_nats::HeaderMap::new();
    nats::inject_span_context(&publisher, &mut headers);
    let extracted = nats::extract_context(&headers);
    use opentelemetry::trace::TraceContextExt;
    assert_eq!(extracted.span().span_context().trace_id(), publisher_trace);

    let consumer = tracing::info_span!("consumer");
    nats::set_parent_from_headers(&consumer, &headers);
    assert_eq!(trace_id_of(&consumer), Some(publisher_trace));
}

#[test]
fn stored_entries_rebuild_the_same_context() {
    let _subscriber = tracing::subscriber::set_default(local_trace_subscriber("test"));
    let span = tracing::info_span!("enqueue");
    let trace = trace_id_of(&span).expect("span has a trace id");

    let entries = nats::span_context_entries(&span);
    assert!(entries.iter().any(|(name, _)| name == "traceparent"));
    let mut headers = async_nats::HeaderMap::new();
    for (name, value) in entries {
        headers.insert(name.as_str(), value);
    }
    let child = tracing::info_span!("relay");
    nats::set_parent_from_headers(&child, &headers);
    assert_eq!(trace_id_of(&child), Some(trace));
}

#[test]
fn missing_context_leaves_a_new_root() {
    let _subscriber = tracing::subscriber::set_default(local_trace_subscriber("test"));
    let unrelated = tracing::info_span!("unrelated");
    let handler = tracing::info_span!("handler");
    grpc::set_parent_from_metadata(&handler, &MetadataMap::new());
    assert!(trace_id_of(&handler).is_some());
    assert_ne!(trace_id_of(&handler), trace_id_of(&unrelated));
}
