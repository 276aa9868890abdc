//! `dti-db` owns the platform's PostgreSQL access: the connection pool built from
//! [`dti_config::DatabaseConfig`] (over TLS verified against `database.tls_ca_file` when it is
//! set, every TCP connection with `TCP_NODELAY`), the ONE embedded migration set of the whole
//! platform, a transaction helper, and which tenant a database belongs to ([`tenancy`]).
//!
//! Migrations live in `shared/db/migrations/`, one SQL file per change, named
//! `<UTC timestamp YYYYMMDDHHMMSS>_<what>.sql`; every service adds its tables there. They are
//! compiled into this crate and applied by [`migrate`] at service start (and by `dtictl migrate`).
//! A migration file is never edited once merged: add a new one instead.
//!
//! The first migration creates the messaging tables used by `dti-bus`: `outbox_messages` (the
//! transactional outbox) and `inbox_messages` (message ids each consumer already processed).

#![warn(missing_docs)]

use std::str::FromStr;
use std::time::Duration;

use futures::future::BoxFuture;
use secrecy::ExposeSecret;
use sqlx::migrate::Migrator;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions, PgSslMode};

use dti_config::DatabaseConfig;

pub mod nodelay;
pub mod tenancy;

pub use sqlx::{PgPool, Postgres, Transaction};

/// A PostgreSQL transaction as handed to transactional code (outbox, consumers, services).
pub type PgTransaction = sqlx::Transaction<'static, sqlx::Postgres>;

/// The platform's migrations, embedded at compile time from `shared/db/migrations/`.
pub static MIGRATOR: Migrator = sqlx::migrate!("./migrations");

/// Why a database operation of this crate failed.
#[derive(Debug, thiserror::Error)]
pub enum DbError {
    /// The pool could not open its first connection.
    #[error("connecting to PostgreSQL: {0}")]
    Connect(#[source] sqlx::Error),
    /// A migration failed or the database holds migrations this build does not know.
    #[error("applying database migrations: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    /// A transaction could not be started.
    #[error("beginning a transaction: {0}")]
    Begin(#[source] sqlx::Error),
    /// A transaction could not be committed; its changes are lost.
    #[error("committing a transaction: {0}")]
    Commit(#[source] sqlx::Error),
}

/// Opens a connection pool as configured and checks that the server answers.
pub async fn connect(config: &DatabaseConfig) -> Result<PgPool, DbError> {
    connect_url(config.url.expose_secret(), config).await
}

/// Opens a connection pool to `url` with the pool and TLS settings of `config` (every TCP
/// connection with `TCP_NODELAY`, see the `nodelay` module): with
/// `tls_ca_file`, every connection uses TLS and verifies the server's certificate and host name
/// against that CA (`sslmode=verify-full`), whatever the URL says; without it, the URL's
/// `sslmode` applies (by default TLS when the server offers it, unverified).
pub async fn connect_url(url: &str, config: &DatabaseConfig) -> Result<PgPool, DbError> {
    let mut options = PgConnectOptions::from_str(url).map_err(DbError::Connect)?;
    if let Some(ca_file) = &config.tls_ca_file {
        options = options
            .ssl_mode(PgSslMode::VerifyFull)
            .ssl_root_cert(ca_file.clone());
    }
    PgPoolOptions::new()
        .max_connections(config.max_connections)
        .acquire_timeout(Duration::from_secs(config.acquire_timeout_secs))
        .after_connect(|connection, _| Box::pin(nodelay::set_on(connection)))
        .connect_with(options)
        .await
        .map_err(DbError::Connect)
}

/// Applies every embedded migration not yet applied to the database of `pool`.
pub async fn migrate(pool: &PgPool) -> Result<(), DbError> {
    MIGRATOR.run(pool).await?;
    tracing::info!(
        migrations = MIGRATOR.iter().count(),
        "database schema is up to date"
    );
    Ok(())
}

/// Runs `work` inside a transaction: commits when it returns `Ok`, rolls back when it returns
/// `Err` (the error is returned unchanged).
///
/// ```text
/// let id = dti_db::with_transaction(&pool, |tx| Box::pin(async move {
///     let id = insert_submission(tx, &draft).await?;
///     dti_bus::outbox::enqueue(tx, &event).await?;
///     Ok::<_, SubmissionError>(id)
/// })).await?;
/// ```
pub async fn with_transaction<T, E, F>(pool: &PgPool, work: F) -> Result<T, E>
where
    F: for<'t> FnOnce(&'t mut PgTransaction) -> BoxFuture<'t, Result<T, E>>,
    E: From<DbError>,
{
    let mut tx = pool.begin().await.map_err(DbError::Begin)?;
    match work(&mut tx).await {
        Ok(value) => {
            tx.commit().await.map_err(DbError::Commit)?;
            Ok(value)
        }
        Err(error) => {
            if let Err(rollback) = tx.rollback().await {
                tracing::warn!(error = %rollback, "rolling back a failed transaction");
            }
            Err(error)
        }
    }
}
