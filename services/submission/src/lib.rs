//! The submission service: units fill in and submit their self-assessment for a round;
//! operators open and close rounds, reopen a round for one unit and keep the unit registry.
//!
//! Modules:
//! - [`config`]: the service's own settings;
//! - [`submissions`]: drafts, values, submitted versions and the `submission.submitted.v1`
//!   event, each change in one transaction with its audit entry, over domain values;
//! - [`rounds`]: opening (with the cohort), closing, reopening for a unit, and the task that
//!   closes rounds whose deadline passed;
//! - [`registry`]: the unit registry's revisions (export, an operator's checked import, the
//!   seed of the first start);
//! - [`frameworks`]: frameworks operators store (checked, content-hashed, announced) and the
//!   list of the known ones;
//! - [`window`]: the one rule for when a unit may change its submission;
//! - [`access`]: who may touch which submission;
//! - [`round_metrics`]: every round's progress as gauges (units per stage, state, deadline);
//! - [`api`]: the gRPC handlers and the conversion between protobuf and domain values;
//! - [`error`]: the service's error and its mapping to gRPC statuses.
//!
//! [`build`] wires it on the shared bootstrap: PostgreSQL (migrated), NATS JetStream, the outbox
//! relay, the deadline closer, the round-progress gauges, both gRPC services behind JWT
//! authentication, health, reflection and metrics.

#![warn(missing_docs)]

pub mod access;
pub mod api;
pub mod config;
mod error;
pub mod frameworks;
pub mod registry;
pub mod round_metrics;
pub mod rounds;
pub mod submissions;
pub mod window;

use std::sync::Arc;
use std::time::Duration;

use dti_auth::grpc::AuthInterceptor;
use dti_auth::JwtVerifier;
use dti_bus::outbox::RelaySettings;
use dti_config::ServiceConfig;
use dti_proto::dti::submission::v1::registry_service_server::RegistryServiceServer;
use dti_proto::dti::submission::v1::round_operator_service_server::RoundOperatorServiceServer;
use dti_proto::dti::submission::v1::submission_service_server::SubmissionServiceServer;
use dti_service_kit::{FirstRun, ServiceKit};

pub use config::Settings;
pub use dti_service_kit::StartError;
pub use error::SubmissionError;

/// Builds the service on the kit and returns it ready to serve.
pub async fn build(config: &ServiceConfig<Settings>) -> Result<ServiceKit, StartError> {
    let settings = &config.service;
    let verifier = JwtVerifier::from_config(&config.auth)?;
    let mut kit = ServiceKit::builder("submission", config)
        .with_postgres()
        .with_nats()
        .build()
        .await?;
    let pool = kit.pool()?.clone();
    let prefix = config.nats.prefix.clone();
    let framework_cache = kit.framework_catalog(&settings.framework_dir).await?;
    let catalog = framework_cache.catalog();
    let submissions = submissions::Submissions::new(
        pool.clone(),
        framework_cache.clone(),
        prefix.clone(),
        settings.max_values_per_request,
    );
    let cache = kit.unit_registry().await?;
    let registry = registry::Registry::new(
        pool.clone(),
        Arc::clone(&catalog),
        cache.clone(),
        prefix.clone(),
    );
    let seed = match &settings.registry_seed_file {
        Some(path) => std::fs::read_to_string(path)
            .map_err(StartError::step("reading service.registry_seed_file"))?,
        None => dti_domain::units::BUILTIN_FILE.1.to_owned(),
    };
    registry
        .store_seed(&seed)
        .await
        .map_err(StartError::step("storing the seed unit registry"))?;
    let rounds = rounds::Rounds::new(pool.clone(), framework_cache.clone(), cache, prefix.clone());
    let frameworks = frameworks::Frameworks::new(pool.clone(), framework_cache, prefix);
    let interceptor = AuthInterceptor::new(verifier);
    kit.add_service(SubmissionServiceServer::with_interceptor(
        api::SubmissionApi::new(submissions),
        interceptor.clone(),
    ));
    kit.add_service(RoundOperatorServiceServer::with_interceptor(
        api::RoundOperatorApi::new(rounds.clone()),
        interceptor.clone(),
    ));
    kit.add_service(RegistryServiceServer::with_interceptor(
        api::RegistryApi::new(registry, frameworks),
        interceptor,
    ));
    kit.spawn_outbox_relay(RelaySettings::default())?;
    let interval = Duration::from_secs(settings.deadline_check_interval_secs);
    kit.spawn_periodic(
        "deadline-closer",
        interval,
        FirstRun::Immediately,
        move || {
            let rounds = rounds.clone();
            async move { rounds.close_past_deadline().await.map(drop) }
        },
    );
    kit.spawn_periodic(
        "round-metrics",
        round_metrics::EXPORT_INTERVAL,
        FirstRun::Immediately,
        move || {
            let pool = pool.clone();
            async move { round_metrics::export_round_progress(&pool).await }
        },
    );
    Ok(kit)
}
