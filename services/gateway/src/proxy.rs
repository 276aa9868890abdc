//! Forwarding one call to the service that serves it, over `tonic::client::Grpc` with the
//! [`DynamicCodec`]: the caller's bearer token, W3C trace context (`traceparent`,
//! `tracestate`) and languages (`Accept-Language`) go into the gRPC metadata unchanged (the
//! services authenticate, continue the trace and answer in Vietnamese or English); the
//! gateway's timeout goes along as `grpc-timeout`.

use std::time::Duration;

use futures::{Stream, StreamExt};
use http::HeaderMap;
use prost_reflect::DynamicMessage;
use tonic::metadata::{MetadataMap, MetadataValue};
use tonic::{Extensions, Request, Status, Streaming};

use crate::catalog::Rpc;
use crate::codec::{DynamicCodec, Outbound};

/// Request headers passed to the services as gRPC metadata, unchanged.
pub const FORWARDED_HEADERS: [&str; 4] = [
    "authorization",
    "traceparent",
    "tracestate",
    "accept-language",
];

/// The gRPC metadata of a call made for an HTTP request with `headers`.
pub fn forwarded_metadata(headers: &HeaderMap) -> MetadataMap {
    let mut metadata = MetadataMap::new();
    for name in FORWARDED_HEADERS {
        if let Some(value) = headers.get(name) {
            if let Ok(value) = MetadataValue::try_from(value.as_bytes()) {
                metadata.insert(name, value);
            }
        }
    }
    metadata
}

/// How a call is made: its metadata and how long it may take.
#[derive(Debug, Clone)]
pub struct CallOptions {
    /// Metadata sent with the call ([`forwarded_metadata`]).
    pub metadata: MetadataMap,
    /// Deadline of the call, sent as `grpc-timeout`.
    pub timeout: Duration,
}

impl CallOptions {
    fn request<T>(&self, message: T) -> Request<T> {
        let mut request =
            Request::from_parts(self.metadata.clone(), Extensions::default(), message);
        request.set_timeout(self.timeout);
        request
    }
}

async fn ready(rpc: &Rpc) -> Result<tonic::client::Grpc<tonic::transport::Channel>, Status> {
    let mut grpc = tonic::client::Grpc::new(rpc.channel.clone());
    grpc.ready().await.map_err(|error| {
        Status::unavailable(
            dti_i18n::Message::new("gateway-unreachable")
                .arg("service", rpc.method.parent_service().full_name())
                .arg("error", error.to_string())
                .localized(),
        )
    })?;
    Ok(grpc)
}

/// Calls unary `rpc` with `message`.
pub async fn unary(
    rpc: &Rpc,
    options: &CallOptions,
    message: DynamicMessage,
) -> Result<DynamicMessage, Status> {
    let mut grpc = ready(rpc).await?;
    let codec = DynamicCodec::new(rpc.method.output());
    let request = options.request(Outbound::Message(message));
    Ok(grpc
        .unary(request, rpc.grpc_path.clone(), codec)
        .await?
        .into_inner())
}

/// Calls server-streaming `rpc` with `message`; its response messages as they come.
pub async fn server_streaming(
    rpc: &Rpc,
    options: &CallOptions,
    message: DynamicMessage,
) -> Result<Streaming<DynamicMessage>, Status> {
    let mut grpc = ready(rpc).await?;
    let codec = DynamicCodec::new(rpc.method.output());
    let request = options.request(Outbound::Message(message));
    Ok(grpc
        .server_streaming(request, rpc.grpc_path.clone(), codec)
        .await?
        .into_inner())
}

/// Calls client-streaming `rpc` with the messages of `stream` (an [`Outbound::Abort`] resets
/// the call).
pub async fn client_streaming<S>(
    rpc: &Rpc,
    options: &CallOptions,
    stream: S,
) -> Result<DynamicMessage, Status>
where
    S: Stream<Item = Outbound> + Send + 'static,
{
    let mut grpc = ready(rpc).await?;
    let codec = DynamicCodec::new(rpc.method.output());
    let request = options.request(stream);
    Ok(grpc
        .client_streaming(request, rpc.grpc_path.clone(), codec)
        .await?
        .into_inner())
}

/// Calls bidirectional-streaming `rpc` with `messages`; its response messages as they come.
pub async fn streaming(
    rpc: &Rpc,
    options: &CallOptions,
    messages: Vec<DynamicMessage>,
) -> Result<Streaming<DynamicMessage>, Status> {
    let mut grpc = ready(rpc).await?;
    let codec = DynamicCodec::new(rpc.method.output());
    let stream = futures::stream::iter(messages).map(Outbound::Message);
    Ok(grpc
        .streaming(options.request(stream), rpc.grpc_path.clone(), codec)
        .await?
        .into_inner())
}

/// Every message of a response stream, or its first error.
pub async fn collect(mut stream: Streaming<DynamicMessage>) -> Result<Vec<DynamicMessage>, Status> {
    let mut messages = Vec::new();
    while let Some(message) = stream.message().await? {
        messages.push(message);
    }
    Ok(messages)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_token_trace_context_and_languages_pass_and_nothing_else() {
        let mut headers = HeaderMap::new();
        headers.insert("authorization", "Bearer abc".parse().unwrap());
        headers.insert("accept-language", "en-US,en;q=0.9".parse().unwrap());
        headers.insert(
            "traceparent",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
                .parse()
                .unwrap(),
        );
        headers.insert("cookie", "session=1".parse().unwrap());
        let metadata = forwarded_metadata(&headers);
        assert_eq!(metadata.get("authorization").unwrap(), "Bearer abc");
        assert_eq!(
            metadata.get("traceparent").unwrap(),
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
        );
        assert_eq!(metadata.get("accept-language").unwrap(), "en-US,en;q=0.9");
        assert!(metadata.get("cookie").is_none());
    }
}
