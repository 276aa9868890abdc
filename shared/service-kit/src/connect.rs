//! Connecting to the backing services at start-up, retrying briefly while they come up.

use std::time::Duration;

use backon::{ExponentialBuilder, Retryable};
use dti_config::{DatabaseConfig, NatsConfig, RedisConfig};
use secrecy::ExposeSecret;

use crate::{KitError, RedisStore};

/// How long start-up keeps retrying a backing service: about 30 s in total.
fn startup_backoff() -> ExponentialBuilder {
    ExponentialBuilder::default()
        .with_min_delay(Duration::from_millis(200))
        .with_max_delay(Duration::from_secs(5))
        .with_max_times(8)
}

/// Connects the PostgreSQL pool and applies the platform's migrations.
pub(crate) async fn postgres(config: &DatabaseConfig) -> Result<dti_db::PgPool, KitError> {
    let pool = (|| dti_db::connect(config))
        .retry(startup_backoff())
        .notify(|error, delay| tracing::warn!(%error, ?delay, "PostgreSQL not reachable yet"))
        .await?;
    dti_db::migrate(&pool).await?;
    Ok(pool)
}

/// Connects to NATS and ensures the JetStream stream of the configured prefix.
pub(crate) async fn jetstream(
    config: &NatsConfig,
) -> Result<async_nats::jetstream::Context, KitError> {
    let js = (|| dti_bus::connect_with_ca(&config.url, config.tls_ca_file.as_deref()))
        .retry(startup_backoff())
        .notify(|error, delay| tracing::warn!(%error, ?delay, "NATS not reachable yet"))
        .await?;
    dti_bus::stream::ensure_stream_with(&js, &config.prefix, &stream_settings(config)).await?;
    Ok(js)
}

/// The stream's retention and replicas from the `nats` settings.
fn stream_settings(config: &NatsConfig) -> dti_bus::stream::StreamSettings {
    dti_bus::stream::StreamSettings {
        duplicate_window: Duration::from_secs(config.duplicate_window_secs),
        max_age: Duration::from_secs(config.stream_max_age_secs),
        // Validated to fit (`NatsConfig::validate`); 0 sets no limit.
        max_bytes: i64::try_from(config.stream_max_bytes)
            .ok()
            .filter(|bytes| *bytes > 0),
        replicas: usize::from(config.stream_replicas),
    }
}

/// How the Redis connection manager reconnects after a loss: one attempt, bounded in time, each
/// time a command finds the connection lost, instead of the client's default backoff (it grows
/// by a factor of 100 and left a service without Redis for a minute after Redis restarted). A
/// command meanwhile fails at once, so callers fall back or retry, and the next command makes
/// the next attempt.
pub(crate) fn redis_reconnection() -> redis::aio::ConnectionManagerConfig {
    redis::aio::ConnectionManagerConfig::new()
        .set_number_of_retries(0)
        .set_connection_timeout(Duration::from_secs(1))
        .set_response_timeout(Duration::from_secs(2))
}

/// Opens a Redis connection manager (it reconnects by itself afterwards, as
/// [`redis_reconnection`] says). A `rediss://` URL connects over TLS, trusting only
/// `redis.tls_ca_file` when it is set.
pub(crate) async fn redis(config: &RedisConfig) -> Result<RedisStore, KitError> {
    let url = config.url.as_ref().ok_or(KitError::RedisNotConfigured)?;
    let client = match &config.tls_ca_file {
        None => redis::Client::open(url.expose_secret()),
        Some(ca_file) => {
            let root_cert = std::fs::read(ca_file).map_err(|source| KitError::ReadFile {
                field: "redis.tls_ca_file",
                path: ca_file.clone(),
                source,
            })?;
            let certificates = redis::TlsCertificates {
                client_tls: None,
                root_cert: Some(root_cert),
            };
            redis::Client::build_with_tls(url.expose_secret(), certificates)
        }
    }
    .map_err(KitError::Redis)?;
    let manager = (|| client.get_connection_manager_with_config(redis_reconnection()))
        .retry(startup_backoff())
        .notify(|error, delay| tracing::warn!(%error, ?delay, "Redis not reachable yet"))
        .await
        .map_err(KitError::Redis)?;
    Ok(RedisStore::new(manager, config.key_prefix.clone()))
}
