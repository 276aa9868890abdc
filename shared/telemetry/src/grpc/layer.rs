//! Tower layer for the gRPC server: one span per request, child of the caller's W3C context,
//! and the standard request counter and latency histogram.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Instant;

use http_body::{Body, Frame, SizeHint};
use pin_project_lite::pin_project;
use tonic::Code;
use tower::{Layer, Service};
use tracing::{Instrument, Span};

use super::metadata::HeaderExtractor;
use crate::{metrics, propagation};

/// Layer producing [`GrpcServerTelemetry`]; add it with `tonic::transport::Server::layer`.
#[derive(Debug, Clone, Copy, Default)]
pub struct GrpcServerTelemetryLayer;

impl<S> Layer<S> for GrpcServerTelemetryLayer {
    type Service = GrpcServerTelemetry<S>;

    fn layer(&self, inner: S) -> Self::Service {
        GrpcServerTelemetry { inner }
    }
}

/// Service wrapper that traces and measures every gRPC request it passes on.
#[derive(Debug, Clone)]
pub struct GrpcServerTelemetry<S> {
    inner: S,
}

/// The boxed response future of [`GrpcServerTelemetry`].
type ResponseFuture<T, E> = Pin<Box<dyn Future<Output = Result<T, E>> + Send>>;

impl<S, ReqBody, ResBody> Service<http::Request<ReqBody>> for GrpcServerTelemetry<S>
where
    S: Service<http::Request<ReqBody>, Response = http::Response<ResBody>>,
    S::Future: Send + 'static,
    S::Error: 'static,
    ResBody: 'static,
{
    type Response = http::Response<RecordedBody<ResBody>>;
    type Error = S::Error;
    type Future = ResponseFuture<Self::Response, Self::Error>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: http::Request<ReqBody>) -> Self::Future {
        let method = request.uri().path().to_owned();
        let span = request_span(&method, request.headers());
        let record = RequestRecord::start(method, span.clone());
        let response = span.in_scope(|| self.inner.call(request)).instrument(span);
        Box::pin(async move {
            match response.await {
                Ok(response) => Ok(record.attach(response)),
                Err(error) => {
                    record.finish(Code::Unknown);
                    Err(error)
                }
            }
        })
    }
}

/// The span of one incoming request, made a child of the caller's context in `headers`.
fn request_span(method: &str, headers: &http::HeaderMap) -> Span {
    let span = tracing::info_span!(
        "grpc.server",
        otel.name = %method,
        otel.kind = "server",
        rpc.system = "grpc",
        rpc.method = %method,
        rpc.grpc.status_code = tracing::field::Empty,
    );
    propagation::set_parent_from(&span, &HeaderExtractor(headers));
    span
}

/// The gRPC status code in `headers` (response headers or trailers), if present.
fn grpc_code(headers: &http::HeaderMap) -> Option<Code> {
    let status = headers.get("grpc-status")?.to_str().ok()?;
    status.parse::<i32>().ok().map(Code::from_i32)
}

/// What is known about a request until its status is seen; records it exactly once.
#[derive(Debug)]
struct RequestRecord {
    method: String,
    started: Instant,
    span: Span,
    finished: bool,
}

impl RequestRecord {
    fn start(method: String, span: Span) -> Self {
        Self {
            method,
            started: Instant::now(),
            span,
            finished: false,
        }
    }

    /// Wraps the response body; records now if the status is already in the headers.
    fn attach<B>(self, response: http::Response<B>) -> http::Response<RecordedBody<B>> {
        let (parts, body) = response.into_parts();
        let pending = match grpc_code(&parts.headers) {
            Some(code) => {
                self.finish(code);
                None
            }
            None => Some(self),
        };
        http::Response::from_parts(
            parts,
            RecordedBody {
                inner: body,
                request: pending,
            },
        )
    }

    fn finish(mut self, code: Code) {
        self.record(code);
    }

    fn record(&mut self, code: Code) {
        self.finished = true;
        self.span.record("rpc.grpc.status_code", code as i32);
        let method = if code == Code::Unimplemented {
            "unknown"
        } else {
            self.method.as_str()
        };
        metrics::record_grpc_request(method, code, self.started.elapsed());
    }
}

impl Drop for RequestRecord {
    /// A body dropped before its trailers means the client went away.
    fn drop(&mut self) {
        if !self.finished {
            self.record(Code::Cancelled);
        }
    }
}

pin_project! {
    /// Response body that records the request when the gRPC status trailers pass through.
    pub struct RecordedBody<B> {
        #[pin]
        inner: B,
        request: Option<RequestRecord>,
    }
}

impl<B: Body> Body for RecordedBody<B> {
    type Data = B::Data;
    type Error = B::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Self::Data>, Self::Error>>> {
        let this = self.project();
        let polled = this.inner.poll_frame(cx);
        let code = match &polled {
            Poll::Ready(Some(Ok(frame))) => frame
                .trailers_ref()
                .map(|trailers| grpc_code(trailers).unwrap_or(Code::Unknown)),
            Poll::Ready(Some(Err(_))) => Some(Code::Internal),
            Poll::Ready(None) => Some(Code::Unknown),
            Poll::Pending => None,
        };
        if let Some(code) = code {
            if let Some(request) = this.request.take() {
                request.finish(code);
            }
        }
        polled
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}
