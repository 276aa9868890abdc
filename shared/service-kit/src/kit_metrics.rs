//! The metrics every service exports through the kit, whatever it does:
//! - [`BUILD_INFO`] `{service, version, revision}` = 1: which build each service runs, so a
//!   dashboard shows version skew between services (and pods) during a rollout;
//! - [`DB_POOL_CONNECTIONS_IN_USE`], [`DB_POOL_CONNECTIONS_IDLE`] and
//!   [`DB_POOL_MAX_CONNECTIONS`]: the PostgreSQL pool of a service that asked for one, read
//!   from the pool every [`POOL_EXPORT_INTERVAL`] (in-memory counters, no query).

use std::time::Duration;

use dti_db::PgPool;

/// Gauge, always 1, whose labels name the service and its build.
pub const BUILD_INFO: &str = "dti_build_info";
/// Gauge of the pool's connections checked out by the service.
pub const DB_POOL_CONNECTIONS_IN_USE: &str = "dti_db_pool_connections_in_use";
/// Gauge of the pool's open connections waiting to be used.
pub const DB_POOL_CONNECTIONS_IDLE: &str = "dti_db_pool_connections_idle";
/// Gauge of the most connections the pool opens (`database.max_connections`).
pub const DB_POOL_MAX_CONNECTIONS: &str = "dti_db_pool_max_connections";

/// Time between two reads of the pool's counters.
pub const POOL_EXPORT_INTERVAL: Duration = Duration::from_secs(2);

/// The workspace version every service is built with.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

/// The source revision the binary was built from: `DTI_BUILD_REVISION` at compile time (the
/// image build sets it from `git rev-parse HEAD`), else `unknown`.
pub fn revision() -> &'static str {
    match option_env!("DTI_BUILD_REVISION") {
        Some(revision) if !revision.trim().is_empty() => revision.trim_ascii(),
        _ => "unknown",
    }
}

/// Sets [`BUILD_INFO`] of `service` to 1.
pub(crate) fn export_build_info(service: &str) {
    metrics::gauge!(
        BUILD_INFO,
        "service" => service.to_owned(),
        "version" => VERSION,
        "revision" => revision()
    )
    .set(1.0);
}

/// Sets the pool gauges from `pool`'s counters.
pub(crate) fn export_pool(pool: &PgPool) {
    let open = pool.size();
    let idle = u32::try_from(pool.num_idle()).unwrap_or(u32::MAX).min(open);
    metrics::gauge!(DB_POOL_CONNECTIONS_IN_USE).set(f64::from(open - idle));
    metrics::gauge!(DB_POOL_CONNECTIONS_IDLE).set(f64::from(idle));
    metrics::gauge!(DB_POOL_MAX_CONNECTIONS).set(f64::from(pool.options().get_max_connections()));
}
