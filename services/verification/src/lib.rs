//! The verification service: the Department of Information and Communications verifies units'
//! submitted self-assessments; the chairman's office approves the verified ranking; results are
//! published as immutable, hash-checked revisions; units may object during a provisional
//! period; then the result is final and every change is refused.
//!
//! Modules:
//! - [`config`]: the service's own settings (provisional period, finalizer interval, limits);
//! - [`context`]: the shared dependencies and the lock order (round, then submission);
//! - [`stage`]: when each step is allowed, as pure rules;
//! - [`access`]: who may do what;
//! - [`model`]: the entries, decisions and limits every other module shares (a leaf that
//!   imports nothing else of this crate);
//! - [`inputs`]: a round's cohort inputs, self-assessed and verified, read by the loader the
//!   scoring service uses too (`dti_scores::inputs`);
//! - [`decisions`]: verifiers' decisions: validation, carrying forward, recording batches;
//! - [`versions`]: the per-indicator difference between two submitted versions;
//! - [`evidence`]: the evidence documents that came with a version;
//! - [`scoring`]: the engine's scores of a round's inputs, on the blocking pool;
//! - [`review`]: the verifiers' work on submissions and the side-by-side view (view, validation,
//!   reading, steps);
//! - [`rounds`]: round steps from closed to final, the verified ranking, the finalizer task;
//! - [`snapshot`]: the frozen form of a published result and its content hash;
//! - [`publication`]: publishing, corrections as new revisions, reading revisions back;
//! - [`objections`]: units' objections and their answers;
//! - [`events`]: the outbox messages of this service's events;
//! - [`convert`] and [`api`]: the gRPC edge;
//! - [`error`]: the service's error and its mapping to gRPC statuses.
//!
//! [`build`] wires it on the shared bootstrap: PostgreSQL (migrated), NATS JetStream, the
//! outbox relay, the finalizer, the three gRPC services behind JWT authentication, health,
//! reflection and metrics.

#![warn(missing_docs)]

pub mod access;
pub mod api;
pub mod config;
pub mod context;
pub mod convert;
pub mod decisions;
mod error;
pub mod events;
pub mod evidence;
pub mod inputs;
pub mod model;
pub mod objections;
pub mod publication;
pub mod review;
pub mod rounds;
pub mod scoring;
pub mod snapshot;
pub mod stage;
pub mod versions;

use std::sync::Arc;
use std::time::Duration;

use dti_auth::grpc::AuthInterceptor;
use dti_auth::JwtVerifier;
use dti_bus::outbox::RelaySettings;
use dti_config::ServiceConfig;
use dti_proto::dti::verification::v1::approval_service_server::ApprovalServiceServer;
use dti_proto::dti::verification::v1::publication_service_server::PublicationServiceServer;
use dti_proto::dti::verification::v1::verification_service_server::VerificationServiceServer;
use dti_service_kit::{FirstRun, ServiceKit};

pub use config::Settings;
pub use context::Context;
pub use dti_service_kit::StartError;
pub use error::VerificationError;

/// Builds the service on the kit and returns it ready to serve.
pub async fn build(config: &ServiceConfig<Settings>) -> Result<ServiceKit, StartError> {
    let settings = &config.service;
    let verifier = JwtVerifier::from_config(&config.auth)?;
    let mut kit = ServiceKit::builder("verification", config)
        .with_postgres()
        .with_nats()
        .build()
        .await?;
    let frameworks = kit.framework_catalog(&settings.framework_dir).await?;
    let context = Context {
        pool: kit.pool()?.clone(),
        frameworks,
        nats_prefix: config.nats.prefix.clone(),
        settings: Arc::new(settings.clone()),
    };
    let steps = rounds::RoundSteps::new(context.clone());
    let interceptor = AuthInterceptor::new(verifier);
    kit.add_service(VerificationServiceServer::with_interceptor(
        api::VerificationApi::new(review::Reviews::new(context.clone()), steps.clone()),
        interceptor.clone(),
    ));
    kit.add_service(ApprovalServiceServer::with_interceptor(
        api::ApprovalApi::new(steps.clone()),
        interceptor.clone(),
    ));
    kit.add_service(PublicationServiceServer::with_interceptor(
        api::PublicationApi::new(
            publication::Publications::new(context.clone()),
            objections::Objections::new(context),
            steps.clone(),
        ),
        interceptor,
    ));
    kit.spawn_outbox_relay(RelaySettings::default())?;
    let interval = Duration::from_secs(settings.finalize_check_interval_secs);
    kit.spawn_periodic("finalizer", interval, FirstRun::Immediately, move || {
        let steps = steps.clone();
        async move { steps.finalize_due().await.map(drop) }
    });
    Ok(kit)
}
