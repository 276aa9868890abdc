//! `dti-national-sync`: the city's provincial indicators (Phụ lục III of Quyết định
//! 79/QĐ-UBND, framework data `mic-2022-province`) collected from the departments that own them
//! and pushed to the national DTI system.
//!
//! Modules:
//! - [`config`]: the `[service]` settings (`DTI_NATIONAL_SYNC_`), defaults and validation;
//! - [`error`]: the service's error and its one mapping to `tonic::Status`;
//! - [`access`]: who may do what (roles, a data owner's own department);
//! - [`national_set`]: the framework data routed: items, owners, combine rules, checked years;
//! - [`combine`]: combining owners' parts into the national value (`single`, `sum`, `any`);
//! - [`content`]: value-version content, canonical JSON, content hash, idempotency keys;
//! - [`owner_values`]: owners' parts: ownership, validation, storage, audit, disputes;
//! - [`value_versions`]: recombining an item into immutable value versions;
//! - [`snapshot`]: a year's whole state read at once;
//! - [`completeness`]: complete / missing / disputed per item and per owner;
//! - [`plan`]: the dry run: payloads, diffs against the last accepted values, plan digest;
//! - [`sync_runs`]: starting runs (pushes into the push outbox), progress, finishing;
//! - [`sync_metrics`]: the push backlog and its oldest push (gauges read from PostgreSQL on a
//!   timer), finished runs by outcome and their duration;
//! - [`national_api`]: the adapter trait to the national system, its HTTP JSON client and payload;
//! - [`dispatch`]: the push workers draining the push outbox, with retries and the push log;
//! - [`push_log`]: the per-item, per-owner push log;
//! - [`schedule`]: the scheduled sync (off by default);
//! - [`report`]: the reconciliation report behind `dtictl sync report`;
//! - [`events`]: the events published through the outbox;
//! - [`wire`]: conversions between gRPC messages and domain types;
//! - [`api`]: the gRPC handlers.

#![warn(missing_docs)]

pub mod access;
pub mod api;
pub mod combine;
pub mod completeness;
pub mod config;
pub mod content;
pub mod dispatch;
pub mod error;
pub mod events;
pub mod national_api;
pub mod national_set;
pub mod owner_values;
pub mod plan;
pub mod push_log;
pub mod report;
pub mod schedule;
pub mod snapshot;
pub mod sync_metrics;
pub mod sync_runs;
pub mod value_versions;
pub mod wire;

use std::sync::Arc;
use std::time::Duration;

use dti_auth::grpc::AuthInterceptor;
use dti_auth::JwtVerifier;
use dti_bus::outbox::RelaySettings;
use dti_config::ServiceConfig;
use dti_proto::dti::nationalsync::v1::national_sync_service_server::NationalSyncServiceServer;
use dti_proto::dti::nationalsync::v1::owner_data_service_server::OwnerDataServiceServer;
use dti_service_kit::{FirstRun, ServiceKit};

pub use config::Settings;
pub use dti_service_kit::StartError;
pub use error::NationalSyncError;
pub use report::{Report, ReportError, ReportRequest};

/// The service's name in the kit, health and telemetry.
pub const SERVICE_NAME: &str = "national-sync";

/// Builds the kit, mounts both gRPC services behind the token check, and spawns the outbox
/// relay, the push workers (with their reconciler), the export of the push backlog and, when
/// configured, the scheduled sync.
/// Returns the kit unserved.
pub async fn build(config: &ServiceConfig<Settings>) -> Result<ServiceKit, StartError> {
    let settings = &config.service;
    let mut kit = ServiceKit::builder(SERVICE_NAME, config)
        .with_postgres()
        .with_nats()
        .build()
        .await?;
    // The departments that own the national set's data, and their names, as the registry in
    // force when the service starts says.
    let registry = dti_service_kit::registry::RegistryCache::load(kit.pool()?.clone())
        .await
        .map_err(StartError::step("loading the unit registry"))?
        .current();
    let set = Arc::new(
        national_set::NationalSet::with_registry(&settings.framework, registry)
            .map_err(StartError::service)?,
    );
    dti_service_kit::export_counters_at_zero(&[dispatch::ATTEMPT_FAILURES, dispatch::PUT_BACK]);
    sync_metrics::export_runs_finished_at_zero();
    let pool = kit.pool()?.clone();
    let backlog_pool = pool.clone();
    let framework = set.framework_id().to_string();
    kit.spawn_periodic(
        "national-push-backlog",
        sync_metrics::EXPORT_INTERVAL,
        FirstRun::Immediately,
        move || {
            let (pool, framework) = (backlog_pool.clone(), framework.clone());
            async move { sync_metrics::export_backlog(&pool, &framework).await }
        },
    );
    let subjects = events::EventSubjects::new(config.nats.prefix.clone());
    let http = settings.national.http();
    let province = settings.national.province_code.trim().to_owned();
    let api = api::NationalSyncApi::new(api::ApiState {
        pool: pool.clone(),
        set: set.clone(),
        subjects: subjects.clone(),
        province: province.clone(),
        can_push: http.is_some(),
    });
    let interceptor = AuthInterceptor::new(JwtVerifier::from_config(&config.auth)?);
    kit.add_service(OwnerDataServiceServer::with_interceptor(
        api.clone(),
        interceptor.clone(),
    ));
    kit.add_service(NationalSyncServiceServer::with_interceptor(
        api,
        interceptor,
    ));
    kit.spawn_outbox_relay(RelaySettings::default())?;
    if let (Some(http), true) = (http, settings.push.workers > 0) {
        let client =
            Arc::new(national_api::HttpNationalApi::new(&http).map_err(StartError::service)?);
        let dispatcher = dispatch::Dispatcher::new(
            pool.clone(),
            set.clone(),
            subjects.clone(),
            client,
            settings.push.retry_policy(),
            Duration::from_millis(settings.push.poll_interval_ms),
        );
        let workers = settings.push.workers;
        kit.spawn_task("national-push", move |shutdown| {
            dispatcher.run(workers, shutdown)
        });
    }
    if settings.schedule.interval_secs > 0 {
        let scheduler = Arc::new(schedule::Scheduler {
            pool,
            set,
            subjects,
            province,
            interval: Duration::from_secs(settings.schedule.interval_secs),
        });
        tracing::info!(interval = ?scheduler.interval, "scheduled national sync started");
        kit.spawn_periodic(
            "national-schedule",
            scheduler.interval,
            FirstRun::AfterOneInterval,
            move || {
                let scheduler = Arc::clone(&scheduler);
                async move { scheduler.look().await }
            },
        );
    }
    Ok(kit)
}
