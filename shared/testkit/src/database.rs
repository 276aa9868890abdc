//! Throw-away migrated PostgreSQL databases for tests.

use std::str::FromStr;

use secrecy::SecretString;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{AssertSqlSafe, Connection, PgConnection, PgPool};

use dti_config::DatabaseConfig;

/// Pool size of each service a test starts (see [`TestDatabase::database_config`]).
pub const TEST_POOL_CONNECTIONS: u32 = 6;

/// Why a test database could not be set up or removed.
#[derive(Debug, thiserror::Error)]
pub enum TestkitError {
    /// The server URL does not parse as a PostgreSQL URL.
    #[error("invalid database server URL: {0}")]
    InvalidUrl(#[source] sqlx::Error),
    /// Creating, connecting to or dropping the test database failed.
    #[error("{action} test database {name}: {source}")]
    Database {
        /// What was being done.
        action: &'static str,
        /// Name of the test database.
        name: String,
        /// The database error.
        source: sqlx::Error,
    },
    /// Migrating the new database failed.
    #[error("migrating test database: {0}")]
    Migrate(#[from] dti_db::DbError),
}

/// How long [`TestDatabase::close`] waits for checked-out connections to come back.
const POOL_CLOSE_GRACE: std::time::Duration = std::time::Duration::from_secs(3);

/// A freshly created, migrated database that is dropped with this guard.
///
/// Prefer [`TestDatabase::close`] at the end of a test (it reports errors); dropping the guard
/// without closing still drops the database, from a helper thread.
#[derive(Debug)]
pub struct TestDatabase {
    pool: PgPool,
    name: String,
    url: String,
    server: PgConnectOptions,
    closed: bool,
}

impl TestDatabase {
    /// Creates and migrates a database on the server of `DTI_TEST_DATABASE_URL`.
    pub async fn create() -> Result<Self, TestkitError> {
        let server = std::env::var("DTI_TEST_DATABASE_URL")
            .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".to_owned());
        Self::create_on(&server).await
    }

    /// Creates and migrates a randomly named database on the server of `server_url` (any
    /// existing database of that server, used only to issue `CREATE DATABASE`).
    pub async fn create_on(server_url: &str) -> Result<Self, TestkitError> {
        let server = PgConnectOptions::from_str(server_url).map_err(TestkitError::InvalidUrl)?;
        let name = format!("dti_test_{}", uuid::Uuid::new_v4().simple());
        let fail = |action| database_error(action, &name);
        let mut admin = PgConnection::connect_with(&server)
            .await
            .map_err(fail("connecting to the server for"))?;
        sqlx::query(AssertSqlSafe(format!("CREATE DATABASE \"{name}\"")))
            .execute(&mut admin)
            .await
            .map_err(fail("creating"))?;
        let _ = admin.close().await;
        let pool = PgPoolOptions::new()
            .max_connections(8)
            .connect_with(server.clone().database(&name))
            .await
            .map_err(fail("connecting to"))?;
        let database = Self {
            url: database_url(server_url, &name),
            pool,
            name,
            server,
            closed: false,
        };
        dti_db::migrate(&database.pool).await?;
        Ok(database)
    }

    /// Pool connected to the test database.
    pub fn pool(&self) -> &PgPool {
        &self.pool
    }

    /// Name of the test database.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Connection URL of the test database.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// A [`DatabaseConfig`] pointing at the test database, for starting a service under test:
    /// at most [`TEST_POOL_CONNECTIONS`] connections per service, so parallel tests that each
    /// start the whole platform stay well inside PostgreSQL's default 100 connections.
    pub fn database_config(&self) -> DatabaseConfig {
        DatabaseConfig {
            url: SecretString::from(self.url.clone()),
            max_connections: TEST_POOL_CONNECTIONS,
            ..DatabaseConfig::default()
        }
    }

    /// Closes the pool and drops the database, reporting any failure. Connections still
    /// checked out after a few seconds are cut off by the forced drop.
    pub async fn close(mut self) -> Result<(), TestkitError> {
        self.closed = true;
        let _ = tokio::time::timeout(POOL_CLOSE_GRACE, self.pool.close()).await;
        drop_database(&self.server, &self.name).await
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        if self.closed {
            return;
        }
        let (server, name) = (self.server.clone(), self.name.clone());
        let dropped = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .map_err(|error| error.to_string())?;
            runtime
                .block_on(drop_database(&server, &name))
                .map_err(|error| error.to_string())
        })
        .join();
        if let Ok(Err(error)) = dropped {
            eprintln!("dropping test database: {error}");
        }
    }
}

/// Drops `name` on `server`, disconnecting any session still using it.
async fn drop_database(server: &PgConnectOptions, name: &str) -> Result<(), TestkitError> {
    let fail = |action| database_error(action, name);
    let mut admin = PgConnection::connect_with(server)
        .await
        .map_err(fail("connecting to the server to drop"))?;
    sqlx::query(AssertSqlSafe(format!(
        "DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"
    )))
    .execute(&mut admin)
    .await
    .map_err(fail("dropping"))?;
    let _ = admin.close().await;
    Ok(())
}

/// Maps a database error of `action` on test database `name`.
fn database_error(action: &'static str, name: &str) -> impl FnOnce(sqlx::Error) -> TestkitError {
    let name = name.to_owned();
    move |source| TestkitError::Database {
        action,
        name,
        source,
    }
}

/// `server_url` with its database replaced by `database` (query parameters kept).
fn database_url(server_url: &str, database: &str) -> String {
    let (base, query) = match server_url.split_once('?') {
        Some((base, query)) => (base, Some(query)),
        None => (server_url, None),
    };
    let authority_start = base.find("://").map_or(0, |at| at + 3);
    let root = match base[authority_start..].find('/') {
        Some(slash) => &base[..authority_start + slash],
        None => base,
    };
    match query {
        Some(query) => format!("{root}/{database}?{query}"),
        None => format!("{root}/{database}"),
    }
}

#[cfg(test)]
mod tests {
    use super::database_url;

    #[test]
    fn database_url_replaces_only_the_database() {
        assert_eq!(
            database_url("postgres://postgres@127.0.0.1:5432/test", "x"),
            "postgres://postgres@127.0.0.1:5432/x"
        );
        assert_eq!(
            database_url("postgres://u:p@h/test?sslmode=disable", "x"),
            "postgres://u:p@h/x?sslmode=disable"
        );
        assert_eq!(
            database_url("postgres://h:5432", "x"),
            "postgres://h:5432/x"
        );
    }
}
