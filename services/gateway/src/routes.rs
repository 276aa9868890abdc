//! The HTTP surface: `POST /v1/{package}.{Service}/{Method}` for every RPC of the catalogue
//! (JSON in, JSON out; a client-streaming RPC takes a JSON array, a server-streaming one answers
//! with one), the evidence upload and download routes ([`crate::evidence`]), `/openapi.json`,
//! and a JSON 404 for everything else; behind the rate limiter, with CORS when configured.
//! Each request is handled in the language its `Accept-Language` asks for ([`in_language`]),
//! which the gateway's own refusals are written in and the services are asked for.

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::extract::{DefaultBodyLimit, Path, Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use dti_i18n::{Lang, Message};
use futures::StreamExt;
use http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use tower_http::cors::{AllowOrigin, CorsLayer};

use crate::catalog::{Catalog, Rpc};
use crate::config::Settings;
use crate::errors::ApiError;
use crate::proxy::{self, CallOptions};
use crate::{evidence, json, limits};

/// What every handler shares.
#[derive(Debug, Clone)]
pub struct AppState {
    /// The RPCs and their channels.
    pub catalog: Arc<Catalog>,
    /// The gateway's settings.
    pub settings: Arc<Settings>,
    /// The OpenAPI document, rendered once.
    pub openapi: Arc<Vec<u8>>,
}

impl AppState {
    /// Call options for a request with `headers`.
    pub fn call_options(&self, headers: &HeaderMap) -> CallOptions {
        CallOptions {
            metadata: proxy::forwarded_metadata(headers),
            timeout: Duration::from_secs(self.settings.request_timeout_secs),
        }
    }
}

/// The gateway's router on `state`, rate limited by `limiter`.
pub fn router(state: AppState, limiter: Arc<limits::Limiter>) -> Router {
    let upload_limit = DefaultBodyLimit::max(state.settings.max_upload_bytes);
    let cors = cors_layer(&state.settings);
    let api = Router::new()
        .route(
            "/v1/evidence/upload",
            post(evidence::upload).layer(upload_limit),
        )
        .route(
            "/v1/evidence/{evidence_id}/content",
            get(evidence::download),
        )
        .route("/v1/{service}/{method}", post(call_rpc))
        .fallback(not_found)
        .layer(axum::middleware::from_fn_with_state(
            limiter,
            limits::rate_limit,
        ));
    let router = Router::new()
        .route("/openapi.json", get(openapi))
        .merge(api)
        .with_state(state)
        .layer(axum::middleware::from_fn(in_language));
    match cors {
        Some(cors) => router.layer(cors),
        None => router,
    }
}

/// Middleware: handles the request in the language its `Accept-Language` header asks for,
/// chosen as the services choose theirs ([`Lang::negotiate`]; Vietnamese when the header names
/// neither Vietnamese nor English, or is absent), so every text the gateway writes while
/// handling it is in that language (the header itself goes on to the services).
pub async fn in_language(request: Request, next: Next) -> Response {
    let lang = request
        .headers()
        .get(header::ACCEPT_LANGUAGE)
        .and_then(|value| value.to_str().ok())
        .map(Lang::negotiate)
        .unwrap_or_default();
    dti_i18n::scope(lang, next.run(request)).await
}

/// CORS for the configured origins; `None` (no CORS headers at all) when there are none.
fn cors_layer(settings: &Settings) -> Option<CorsLayer> {
    if settings.cors_allowed_origins.is_empty() {
        return None;
    }
    let origins: Vec<HeaderValue> = settings
        .cors_allowed_origins
        .iter()
        .filter_map(|origin| HeaderValue::from_str(origin).ok())
        .collect();
    Some(
        CorsLayer::new()
            .allow_origin(AllowOrigin::list(origins))
            .allow_methods([Method::GET, Method::POST])
            .allow_headers([
                header::AUTHORIZATION,
                header::CONTENT_TYPE,
                header::IF_NONE_MATCH,
                http::HeaderName::from_static("traceparent"),
                http::HeaderName::from_static("tracestate"),
            ])
            .expose_headers([
                header::ETAG,
                header::RETRY_AFTER,
                header::CONTENT_DISPOSITION,
            ])
            .max_age(Duration::from_secs(600)),
    )
}

async fn openapi(State(state): State<AppState>) -> Response {
    (
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        )],
        state.openapi.as_ref().clone(),
    )
        .into_response()
}

async fn not_found() -> ApiError {
    ApiError::not_found(Message::new("gateway-no-route"))
}

/// `POST /v1/{service}/{method}`.
async fn call_rpc(
    State(state): State<AppState>,
    Path((service, method)): Path<(String, String)>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let Some(rpc) = state.catalog.rpc(&service, &method) else {
        return ApiError::not_found(no_rpc(&service, &method)).into_response();
    };
    let started = Instant::now();
    let result = match read_body(body, &headers, state.settings.max_body_bytes).await {
        Ok(bytes) => {
            let options = state.call_options(&headers);
            let call = forward(rpc, &options, &bytes);
            match tokio::time::timeout(options.timeout, call).await {
                Ok(result) => result,
                Err(_) => Err(ApiError::new(
                    tonic::Code::DeadlineExceeded,
                    Message::new("gateway-timeout")
                        .arg("rpc", rpc.name())
                        .arg("timeout", format!("{:?}", options.timeout)),
                )),
            }
        }
        Err(error) => Err(error),
    };
    let response = match result {
        Ok(json) => json_response(json),
        Err(error) => error.into_response(),
    };
    record(rpc.name(), response.status(), started);
    response
}

/// The refusal of an RPC the catalogue does not have.
pub fn no_rpc(service: &str, method: &str) -> Message {
    Message::new("gateway-no-rpc").arg("rpc", format!("{service}/{method}"))
}

/// A 200 answer with a JSON body.
pub fn json_response(json: Vec<u8>) -> Response {
    (
        StatusCode::OK,
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        )],
        json,
    )
        .into_response()
}

/// Counts an answered call and its duration.
pub fn record(rpc: &str, status: StatusCode, started: Instant) {
    let labels = [
        ("rpc", rpc.to_owned()),
        ("status", status.as_u16().to_string()),
    ];
    metrics::counter!(crate::REQUESTS, &labels).increment(1);
    metrics::histogram!(crate::REQUEST_DURATION, "rpc" => rpc.to_owned())
        .record(started.elapsed().as_secs_f64());
}

/// Reads the body, at most `limit` bytes; larger or unreadable is a bad request naming `body`.
async fn read_body(
    body: Body,
    headers: &HeaderMap,
    limit: usize,
) -> Result<bytes::Bytes, ApiError> {
    let too_large = || {
        ApiError::invalid_field(
            "body",
            Message::new("gateway-body-too-large").arg("max", limit),
        )
    };
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.parse::<u64>().ok());
    if declared.is_some_and(|length| length > limit as u64) {
        return Err(too_large());
    }
    axum::body::to_bytes(body, limit).await.map_err(|error| {
        let error = error.into_inner();
        if error.is::<http_body_util::LengthLimitError>() {
            too_large()
        } else {
            ApiError::invalid_field(
                "body",
                Message::new("gateway-unreadable").arg("error", error.to_string()),
            )
        }
    })
}

/// Reads the body as the RPC's input (an array for a client stream), calls it and renders the
/// answer (an array for a server stream).
async fn forward(rpc: &Rpc, options: &CallOptions, body: &[u8]) -> Result<Vec<u8>, ApiError> {
    let input = rpc.method.input();
    let method = &rpc.method;
    let rendered = match (method.is_client_streaming(), method.is_server_streaming()) {
        (false, false) => {
            let message = json::parse_message(input, body)?;
            json::render(&proxy::unary(rpc, options, message).await?)
        }
        (false, true) => {
            let message = json::parse_message(input, body)?;
            let stream = proxy::server_streaming(rpc, options, message).await?;
            render_all(&proxy::collect(stream).await?)
        }
        (true, false) => {
            let messages = json::parse_messages(input, body)?;
            let stream = futures::stream::iter(messages).map(crate::codec::Outbound::Message);
            json::render(&proxy::client_streaming(rpc, options, stream).await?)
        }
        (true, true) => {
            let messages = json::parse_messages(input, body)?;
            let stream = proxy::streaming(rpc, options, messages).await?;
            render_all(&proxy::collect(stream).await?)
        }
    };
    Ok(rendered)
}

fn render_all(messages: &[prost_reflect::DynamicMessage]) -> Vec<u8> {
    serde_json::to_vec(messages).expect("dynamic messages serialize to JSON")
}
