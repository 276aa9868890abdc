//! The HTTP/JSON gateway: one HTTP service in front of the six, built on the proto descriptors
//! the project compiles, so every public RPC is reachable as JSON over HTTP with no
//! hand-written route (`POST /v1/{package}.{Service}/{Method}`, canonical proto3 JSON).
//!
//! Modules:
//! - [`config`]: the gateway's settings (listener, backends, limits, CORS);
//! - [`catalog`]: the public RPCs from the descriptors, each with its backend channel;
//! - [`codec`]: the tonic codec for dynamic messages;
//! - [`json`]: bodies in the canonical JSON mapping, problems named by field path;
//! - [`proxy`]: forwarding a call with the caller's token and trace context;
//! - [`errors`]: gRPC statuses as HTTP answers with one JSON error body;
//! - [`limits`]: per-token rate limiting;
//! - [`evidence`]: evidence uploads and downloads, streamed;
//! - [`routes`]: the router;
//! - [`openapi`]: the OpenAPI 3.1 document from the same descriptors.
//!
//! [`build`] runs it on the shared bootstrap (telemetry, `/metrics`, its own gRPC health) and
//! serves HTTP on its own listener as a task of the kit; the services authenticate every call
//! (the bearer token passes through unchanged).

#![warn(missing_docs)]

pub mod catalog;
pub mod codec;
pub mod config;
pub mod errors;
pub mod evidence;
pub mod json;
pub mod limits;
pub mod openapi;
pub mod proxy;
pub mod routes;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use dti_config::ServiceConfig;
use dti_service_kit::{FirstRun, ServiceKit};

pub use config::Settings;
pub use dti_service_kit::StartError;

/// Calls answered, by `rpc` and HTTP `status`.
pub const REQUESTS: &str = "dti_gateway_requests_total";
/// Seconds from request to answer (headers), by `rpc`.
pub const REQUEST_DURATION: &str = "dti_gateway_request_duration_seconds";
/// Requests refused by the rate limiter.
pub const RATE_LIMITED: &str = "dti_gateway_rate_limited_total";

/// The gateway built: its kit and the address its HTTP listener is bound to.
#[derive(Debug)]
pub struct BuiltGateway {
    /// The kit, ready to serve (the HTTP listener already serves).
    pub kit: ServiceKit,
    /// Where the HTTP/JSON API listens.
    pub http_addr: SocketAddr,
}

/// Builds the gateway on the kit and returns it ready to serve.
pub async fn build(config: &ServiceConfig<Settings>) -> Result<ServiceKit, StartError> {
    Ok(build_gateway(config).await?.kit)
}

/// Builds the gateway and also returns its HTTP address.
pub async fn build_gateway(config: &ServiceConfig<Settings>) -> Result<BuiltGateway, StartError> {
    let settings = Arc::new(config.service.clone());
    let catalog = Arc::new(
        catalog::Catalog::load(&settings.backends, settings.backends_ca_file.as_deref())
            .map_err(StartError::step("reading the RPC catalogue"))?,
    );
    let openapi = serde_json::to_vec(&openapi::document(catalog.pool()))
        .map_err(StartError::step("rendering the OpenAPI document"))?;
    let kit = ServiceKit::builder("gateway", config).build().await?;
    dti_service_kit::export_counters_at_zero(&[RATE_LIMITED]);
    let limiter = limits::limiter(&settings);
    let forget = limiter.clone();
    kit.spawn_periodic(
        "rate-limit-cleanup",
        Duration::from_secs(60),
        FirstRun::AfterOneInterval,
        move || {
            forget.retain_recent();
            forget.shrink_to_fit();
            std::future::ready(Ok::<(), std::convert::Infallible>(()))
        },
    );
    let state = routes::AppState {
        catalog,
        settings: settings.clone(),
        openapi: Arc::new(openapi),
    };
    let app = routes::router(state, limiter);
    let http_addr = kit
        .serve_http(
            settings.http_listen_addr,
            &settings.http_tls,
            app,
            "HTTP/JSON gateway listening",
        )
        .await?;
    Ok(BuiltGateway { kit, http_addr })
}
