//! `dti-service-kit` is the ONE bootstrap every DTI service uses.
//!
//! [`ServiceKit::builder`] takes the service name and its loaded [`dti_config::ServiceConfig`]
//! and, in [`ServiceKitBuilder::build`]:
//! 1. installs logging/tracing ([`dti_telemetry::init_tracing`]) and the Prometheus recorder,
//!    and serves `/metrics`;
//! 2. connects what the service asked for — PostgreSQL (and applies the migrations), NATS
//!    JetStream (and ensures the prefix's stream), Redis — retrying briefly while they start;
//!    A service of a tenant (`auth.tenant`) first checks that its NATS prefix and Redis key
//!    prefix carry the tenant, and claims its database for the tenant (or refuses a database
//!    of another tenant): the tenancy rules of `docs/tenants.md`;
//! 3. binds the gRPC listener and prepares tonic-health (SERVING per service name) and
//!    tonic-reflection (from [`dti_proto::FILE_DESCRIPTOR_SET`]).
//!
//! The service then registers its gRPC services ([`ServiceKit::add_service`]) and background
//! work ([`ServiceKit::spawn_outbox_relay`], [`ServiceKit::spawn_consumer`],
//! [`ServiceKit::spawn_task`]) and calls [`ServiceKit::serve`], which runs until SIGTERM/SIGINT
//! (or [`ServiceKit::shutdown_token`] is cancelled) and then shuts down gracefully: health goes
//! NOT_SERVING, the listener stops accepting, in-flight requests and background tasks finish
//! (bounded by a grace period), connections close and spans are flushed.
//!
//! A service binary's whole `main` is [`run_main`]: load the typed configuration, build, serve,
//! with one exit code and message per way it can end; every start-up failure is a
//! [`StartError`]. [`frameworks`] loads the framework catalogue (with the `framework_dir`
//! setting), [`registry`] keeps the unit registry of the database current
//! ([`ServiceKit::unit_registry`]), and [`ServiceKit::spawn_periodic`] runs a
//! service's step on a timer (deadline closer, finalizer, reconcilers, sweeper, schedule).
//!
//! [`kit_metrics`] are the metrics every service exports through the kit: its build
//! (`dti_build_info`) and its PostgreSQL pool's connections.
//!
//! [`status`] turns a caller's mistakes into `InvalidArgument` with `BadRequest` details, the
//! same way in every service: its [`status::RequestCheck`] collects the field errors of
//! [`dti_proto::request`]'s parsers, and [`status::Fault`] is each service error's one mapping
//! to a status. [`service_error`] holds the cases every service error shares (an invalid
//! request, a failed database statement) and [`service_error!`] their constructors;
//! [`handler::serve`] is the one shape of a gRPC handler (authenticate, parse, call, render).
//!
//! Every request passes [`dti_telemetry::grpc::GrpcServerTelemetryLayer`]: its span is a child
//! of the caller's W3C trace context and it is counted in the standard gRPC metrics. Then
//! [`text_guard`] refuses, before any handler, a request with a control character in a text or
//! a text or list beyond the platform's bounds, naming each field. Between them [`language`]
//! chooses the request's language from its `accept-language` metadata (Vietnamese by default):
//! every message of the answer — refusals, field violations, errors, warnings — is in it.
//!
//! [`tls`] puts optional TLS (rustls) on every listener — gRPC (`grpc.tls`), `/metrics`
//! (`metrics.tls`) and the HTTP sites through [`tls::serve_http`] — with certificates read from
//! files and re-read when they change.
//!
//! Every binary that links the kit — each service, `dtictl`, and the tests and benches that
//! run services in-process — allocates with mimalloc ([`ALLOCATOR`]). With glibc's allocator a
//! scoring pass over a 10,000-unit cohort spent about half its time in the kernel, clearing
//! pages that the per-thread heaps of the tokio and rayon workers had handed back and took again
//! (`docs/performance.md`).

#![warn(missing_docs)]

/// The allocator of every binary that links the kit: mimalloc, which keeps freed memory for
/// reuse by its thread instead of trimming and faulting it in again on every large pass.
#[global_allocator]
pub static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

mod connect;
mod error;
pub mod frameworks;
pub mod grpc_client;
pub mod handler;
mod http;
mod kit;
pub mod kit_metrics;
pub mod language;
mod periodic;
pub mod readiness;
pub mod registry;

/// Exports each of `counters` at 0 (no labels) unless it already has a value: counters of rare
/// events (a dropped event, a failed push) then exist from the start, so dashboards and alerts
/// see the series and `rate()` works before the first event.
pub fn export_counters_at_zero(counters: &[&'static str]) {
    for name in counters {
        metrics::counter!(*name).increment(0);
    }
}
mod redis_store;
mod serve;
pub mod service_error;
mod start;
pub mod status;
mod tenancy;
pub mod text_guard;
pub mod tls;

pub use error::KitError;
pub use kit::{ServiceKit, ServiceKitBuilder};
pub use periodic::FirstRun;
pub use redis_store::RedisStore;
pub use serve::RunningService;
pub use start::{run_main, BuildFuture, StartError};
