//! The evidence service: the documents ("tài liệu kiểm chứng") units attach to the indicators
//! of their self-assessment, which verifiers judge the reported values against.
//!
//! Modules:
//! - [`config`]: the service's own settings (limits, accepted types, storage backend);
//! - [`evidence`]: attaching, removing, listing and downloading evidence — each change in one
//!   transaction with its audit entry and its event;
//! - [`upload`]: receiving an upload into the staging area under the size limit, hashing it
//!   and judging its type;
//! - [`content_type`]: what a document is, from its bytes only;
//! - [`file_name`]: sanitised file names;
//! - [`storage`]: the content-addressed object store (local directory or S3-compatible bucket);
//! - [`records`]: evidence metadata in PostgreSQL;
//! - [`assessment`]: the round, unit and indicator checks and when evidence may change;
//! - [`access`]: who may touch which unit's evidence;
//! - [`lease`]: which service instances are alive, so leftovers of dead ones can be told apart;
//! - [`sweep`]: clearing dead instances' staged uploads and unreferenced objects;
//! - [`usage`]: the stored documents' count and bytes, as gauges;
//! - [`events`]: the `evidence.attached.v1` and `evidence.removed.v1` events;
//! - [`api`]: the gRPC handlers;
//! - [`error`]: the service's error and its mapping to gRPC statuses.
//!
//! [`build`] wires it on the shared bootstrap: PostgreSQL (migrated), NATS JetStream, the
//! outbox relay, the object store, a sweep of leftovers before serving and then on a timer,
//! the export of the stored documents' size, and the gRPC service behind JWT authentication,
//! with health, reflection and metrics.

#![warn(missing_docs)]

pub mod access;
pub mod api;
pub mod assessment;
pub mod config;
pub mod content_type;
mod error;
pub mod events;
pub mod evidence;
pub mod file_name;
pub mod lease;
pub mod records;
pub mod storage;
pub mod sweep;
pub mod upload;
pub mod usage;

use std::sync::Arc;
use std::time::Duration;

use dti_auth::grpc::AuthInterceptor;
use dti_auth::JwtVerifier;
use dti_bus::outbox::RelaySettings;
use dti_config::ServiceConfig;
use dti_proto::dti::evidence::v1::evidence_service_server::EvidenceServiceServer;
use dti_service_kit::{FirstRun, ServiceKit};

pub use config::Settings;
pub use dti_service_kit::StartError;
pub use error::EvidenceError;

use crate::evidence::EvidenceStore;
use crate::lease::InstanceLease;
use crate::storage::ObjectStorage;
use crate::sweep::Sweeper;
use crate::upload::UploadLimits;

/// The start-up step of taking the instance lease and sweeping leftovers.
const PREPARING_STORAGE: &str = "preparing evidence storage";

/// Builds the service on the kit and returns it ready to serve. Leftovers of dead instances
/// (partial uploads) are removed before it returns.
pub async fn build(config: &ServiceConfig<Settings>) -> Result<ServiceKit, StartError> {
    let settings = &config.service;
    let verifier = JwtVerifier::from_config(&config.auth)?;
    let storage = ObjectStorage::open(&settings.storage).map_err(StartError::service)?;
    let mut kit = ServiceKit::builder("evidence", config)
        .with_postgres()
        .with_nats()
        .build()
        .await?;
    let frameworks = kit.framework_catalog(&settings.framework_dir).await?;
    dti_service_kit::export_counters_at_zero(&[evidence::REMOVED, sweep::DELETED_OBJECTS]);
    let pool = kit.pool()?.clone();
    let usage_pool = pool.clone();
    kit.spawn_periodic(
        "evidence-usage",
        usage::EXPORT_INTERVAL,
        FirstRun::Immediately,
        move || {
            let pool = usage_pool.clone();
            async move { usage::export_usage(&pool).await }
        },
    );
    let lease = Arc::new(
        InstanceLease::acquire(&pool)
            .await
            .map_err(StartError::step(PREPARING_STORAGE))?,
    );
    tracing::info!(storage = %storage.describe(), instance = lease.name(), "evidence storage ready");
    let sweeper = Sweeper::new(
        pool.clone(),
        storage.clone(),
        lease.name().to_owned(),
        Duration::from_secs(settings.orphan_min_age_secs),
    )
    .with_own_staging_max_age(Duration::from_secs(settings.upload_idle_timeout_secs));
    sweeper
        .sweep()
        .await
        .map_err(StartError::step(PREPARING_STORAGE))?;
    let limits = UploadLimits {
        max_bytes: settings.max_upload_bytes,
        allowed_content_types: settings.allowed_content_types.clone(),
        idle_timeout: Duration::from_secs(settings.upload_idle_timeout_secs),
    };
    let store = EvidenceStore::new(
        pool,
        storage,
        frameworks,
        limits,
        config.nats.prefix.clone(),
        lease,
    );
    kit.add_service(EvidenceServiceServer::with_interceptor(
        api::EvidenceApi::new(store),
        AuthInterceptor::new(verifier),
    ));
    kit.spawn_outbox_relay(RelaySettings::default())?;
    let interval = Duration::from_secs(settings.sweep_interval_secs);
    kit.spawn_periodic(
        "evidence-sweeper",
        interval,
        FirstRun::AfterOneInterval,
        move || {
            let sweeper = sweeper.clone();
            async move { sweeper.sweep().await.map(drop) }
        },
    );
    Ok(kit)
}
