//! The scoring service: every unit's exact scores for a round, on its self-assessed values and,
//! separately, on its verified values, computed by the one engine (`dti-engine`, the same as
//! `dtictl score`) whenever a unit's input changes, with min-max indicators kept live across the
//! cohort; scorecards with the engine's explanations, and what-if scoring.
//!
//! Modules:
//! - [`config`]: the service's own settings;
//! - [`inputs`]: a unit's current input (self-assessed, verified), read by the loader the
//!   verification service uses too (`dti_scores::inputs`);
//! - [`score_rows`]: a unit's score row as stored, from the engine's scores;
//! - [`store`]: writing the score tables, min-max x values and ranges;
//! - [`ranges`]: a cohort's min-max x rows and the ranges found from them;
//! - [`rescore`]: re-scoring one unit or many in a transaction, announcing each change;
//! - [`events`]: event names, message ids and `scores.updated.v1`;
//! - [`consumers`]: the `submission.submitted` and `verification.values_changed` consumers;
//! - [`reconciler`]: catching up from PostgreSQL alone, at start and on a timer;
//! - [`scorecard`]: reading a scorecard with live min-max scores;
//! - [`what_if`]: scoring a hypothetical change without storing it;
//! - [`api`]: the gRPC handlers;
//! - [`error`]: the service's error and its mapping to gRPC statuses.
//!
//! [`build`] wires it on the shared bootstrap: PostgreSQL (migrated), NATS JetStream, the
//! outbox relay, both consumers, the reconciler, and the gRPC service behind JWT
//! authentication, with health, reflection and metrics.

#![warn(missing_docs)]

pub mod api;
pub mod config;
pub mod consumers;
mod error;
pub mod events;
pub mod inputs;
pub mod ranges;
pub mod reconciler;
pub mod rescore;
pub mod score_rows;
pub mod scorecard;
pub mod store;
pub mod what_if;

use std::sync::Arc;
use std::time::Duration;

use dti_auth::grpc::AuthInterceptor;
use dti_auth::JwtVerifier;
use dti_bus::consumer::ConsumerSettings;
use dti_bus::outbox::RelaySettings;
use dti_config::ServiceConfig;
use dti_proto::dti::scoring::v1::scoring_service_server::ScoringServiceServer;
use dti_service_kit::{FirstRun, ServiceKit};

pub use config::Settings;
pub use dti_service_kit::StartError;
pub use error::ScoringError;

/// Durable consumer of `submission.submitted.v1`.
pub const ON_SUBMISSION_CONSUMER: &str = "scoring-on-submission";

/// Durable consumer of `verification.values_changed.v1`.
pub const ON_VERIFICATION_CONSUMER: &str = "scoring-on-verification";

/// Builds the service on the kit and returns it ready to serve.
pub async fn build(config: &ServiceConfig<Settings>) -> Result<ServiceKit, StartError> {
    let settings = &config.service;
    let verifier = JwtVerifier::from_config(&config.auth)?;
    let mut kit = ServiceKit::builder("scoring", config)
        .with_postgres()
        .with_nats()
        .build()
        .await?;
    let catalog = kit
        .framework_catalog(&settings.framework_dir)
        .await?
        .catalog();
    dti_service_kit::export_counters_at_zero(&[
        consumers::EVENTS_DROPPED,
        consumers::EVENTS_COALESCED,
    ]);
    for basis in [dti_scores::Basis::SelfAssessed, dti_scores::Basis::Verified] {
        metrics::counter!(rescore::UNCHANGED_INPUTS, "basis" => basis.as_str()).increment(0);
    }
    let pool = kit.pool()?.clone();
    let scorer = Arc::new(rescore::Scorer::new(catalog, config.nats.prefix.clone()));
    let reader =
        scorecard::ScoreReader::new(pool.clone(), Arc::clone(&scorer), settings.unit_visibility);
    kit.add_service(ScoringServiceServer::with_interceptor(
        api::ScoringApi::new(reader),
        AuthInterceptor::new(verifier),
    ));
    kit.spawn_outbox_relay(RelaySettings {
        poll_interval: Duration::from_millis(settings.outbox_poll_interval_ms),
        ..RelaySettings::default()
    })?;
    let consumer = |name: &str, event: &str| ConsumerSettings {
        max_deliver: settings.max_deliver,
        max_batch: settings.consumer_batch,
        ..ConsumerSettings::new(name, kit.subject(event))
    };
    kit.spawn_consumer(
        consumer(ON_SUBMISSION_CONSUMER, events::SUBMISSION_SUBMITTED),
        consumers::OnSubmissionSubmitted::new(Arc::clone(&scorer)),
    )
    .await?;
    kit.spawn_consumer(
        consumer(ON_VERIFICATION_CONSUMER, events::VERIFIED_VALUES_CHANGED),
        consumers::OnVerifiedValuesChanged::new(Arc::clone(&scorer)),
    )
    .await?;
    let reconciler = reconciler::Reconciler::new(
        pool,
        scorer,
        Duration::from_secs(settings.reconcile_interval_secs),
        settings.bulk_rescore_threshold,
    );
    let reconciler = Arc::new(reconciler);
    kit.spawn_periodic(
        "score-reconciler",
        reconciler.interval(),
        FirstRun::Immediately,
        move || {
            let reconciler = Arc::clone(&reconciler);
            async move { reconciler.reconcile().await }
        },
    );
    Ok(kit)
}
