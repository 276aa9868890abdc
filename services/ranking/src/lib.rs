//! The ranking service: every round's cohort ranked by total and by each group, on
//! self-assessed and on verified scores, with standard competition ranks exactly as
//! `dtictl score`; served from Redis sorted sets kept equal to the score tables in PostgreSQL
//! (the source of truth), and rebuilt from them whenever Redis lost them.
//!
//! Modules:
//! - [`config`]: the service's own settings;
//! - [`answers`]: what a ranking read answers (a page, a position), from Redis or the mirror;
//! - [`mirror`]: one cohort's scores in memory, following the score tables by version;
//! - [`sorted_sets`]: the rankings in Redis: keys, rebuild, updates, page and position reads;
//! - [`cohort_sync`]: bringing a cohort's sets up to the tables, incrementally or by rebuild;
//! - [`consumer`]: the `scores.updated` consumer;
//! - [`reconciler`]: catching up from PostgreSQL alone, at start and on a timer;
//! - [`movement`]: movement against the previous year's published ranking;
//! - [`rankings`]: reading pages and positions for authorised callers;
//! - [`page_token`]: page tokens, opaque and bound to the query they continue;
//! - [`api`]: the gRPC handlers;
//! - [`error`]: the service's error and its mapping to gRPC statuses.
//!
//! [`build`] wires it on the shared bootstrap: PostgreSQL (migrated), NATS JetStream, Redis, the
//! consumer, the reconciler, and the gRPC service behind JWT authentication, with health,
//! reflection and metrics.

#![warn(missing_docs)]
// The layout of a read's future (API → rankings → Redis or the mirror → rebuild) nests deeper
// than rustc's default query depth of 128 in release builds.
#![recursion_limit = "256"]

pub mod answers;
pub mod api;
pub mod cohort_sync;
pub mod config;
pub mod consumer;
mod error;
pub mod mirror;
pub mod movement;
pub mod page_token;
pub mod rankings;
pub mod reconciler;
pub mod sorted_sets;

use std::sync::Arc;
use std::time::Duration;

use dti_auth::grpc::AuthInterceptor;
use dti_auth::JwtVerifier;
use dti_bus::consumer::ConsumerSettings;
use dti_config::ServiceConfig;
use dti_proto::dti::ranking::v1::ranking_service_server::RankingServiceServer;
use dti_service_kit::{FirstRun, ServiceKit};

pub use config::Settings;
pub use dti_service_kit::StartError;
pub use error::RankingError;

/// Durable consumer of `scores.updated.v1`.
pub const ON_SCORES_CONSUMER: &str = "ranking-on-scores";

/// The service built and its synchronisation, for callers that drive it directly (benches).
#[derive(Debug)]
pub struct BuiltRanking {
    /// The kit, ready to serve.
    pub kit: ServiceKit,
    /// The synchronisation of sorted sets with the score tables.
    pub sync: Arc<cohort_sync::RankingSync>,
}

/// Builds the service on the kit and returns it ready to serve.
pub async fn build(config: &ServiceConfig<Settings>) -> Result<ServiceKit, StartError> {
    Ok(build_with_sync(config).await?.kit)
}

/// Builds the service and also returns its synchronisation handle.
pub async fn build_with_sync(config: &ServiceConfig<Settings>) -> Result<BuiltRanking, StartError> {
    let settings = &config.service;
    let verifier = JwtVerifier::from_config(&config.auth)?;
    let mut kit = ServiceKit::builder("ranking", config)
        .with_postgres()
        .with_nats()
        .with_redis()
        .build()
        .await?;
    let catalog = kit
        .framework_catalog(&settings.framework_dir)
        .await?
        .catalog();
    dti_service_kit::export_counters_at_zero(&[
        consumer::EVENTS_DROPPED,
        rankings::READS_FROM_POSTGRES,
    ]);
    let pool = kit.pool()?.clone();
    let registry = kit.unit_registry().await?;
    let sync = Arc::new(cohort_sync::RankingSync::new(
        pool.clone(),
        kit.redis()?.clone(),
        Arc::clone(&catalog),
    ));
    let limits = rankings::PageLimits {
        default_size: settings.default_page_size,
        max_size: settings.max_page_size,
    };
    let rankings = rankings::Rankings::new(
        pool.clone(),
        Arc::clone(&sync),
        catalog,
        registry,
        settings.unit_visibility,
        limits,
    );
    kit.add_service(RankingServiceServer::with_interceptor(
        api::RankingApi::new(rankings),
        AuthInterceptor::new(verifier),
    ));
    let consumer = ConsumerSettings {
        max_deliver: settings.max_deliver,
        ..ConsumerSettings::new(ON_SCORES_CONSUMER, kit.subject(consumer::SCORES_UPDATED))
    };
    kit.spawn_consumer(consumer, consumer::OnScoresUpdated::new(Arc::clone(&sync)))
        .await?;
    let reconciler = reconciler::Reconciler::new(
        pool,
        Arc::clone(&sync),
        Duration::from_secs(settings.reconcile_interval_secs),
    );
    let reconciler = Arc::new(reconciler);
    let watched = Arc::clone(&sync);
    let rebuilder = Arc::clone(&reconciler);
    kit.spawn_periodic(
        "ranking-redis-watch",
        Duration::from_millis(settings.redis_check_interval_ms),
        FirstRun::Immediately,
        move || {
            let sync = Arc::clone(&watched);
            let reconciler = Arc::clone(&rebuilder);
            async move {
                sync.watch_redis(|| async move { reconciler.pass().await })
                    .await
            }
        },
    );
    kit.spawn_periodic(
        "ranking-reconciler",
        reconciler.interval(),
        FirstRun::Immediately,
        move || {
            let reconciler = Arc::clone(&reconciler);
            async move { reconciler.pass().await.map(drop) }
        },
    );
    Ok(BuiltRanking { kit, sync })
}
