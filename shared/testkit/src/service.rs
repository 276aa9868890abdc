//! Configuration and tokens for starting a service under test against the real backing
//! services: its own database, NATS prefix and Redis key prefix, ports 0, and an HS256 key
//! that [`TestBackends::token`] signs with.

use std::time::Duration;

use dti_auth::{Principal, Role, TokenMinter};
use dti_config::{
    AuthConfig, DatabaseConfig, GrpcConfig, MetricsConfig, NatsConfig, RedisConfig, ServiceConfig,
    TelemetryConfig,
};
use secrecy::SecretString;

use crate::tokens::TEST_HS256_SECRET;
use crate::{random_nats_prefix, random_redis_prefix, redis_url, TestDatabase, TestkitError};

/// The part of every test service's configuration that is not about backing services: gRPC
/// and metrics on port 0 of 127.0.0.1 (metrics enabled), logs at `warn`, `service` settings,
/// and every other section at its default (no database, NATS or Redis of a test's own).
pub fn loopback_config<S>(service: S) -> ServiceConfig<S> {
    let local_port_0 = "127.0.0.1:0".parse().expect("a valid socket address");
    ServiceConfig {
        database: DatabaseConfig::default(),
        nats: NatsConfig::default(),
        redis: RedisConfig::default(),
        grpc: GrpcConfig {
            listen_addr: local_port_0,
            ..GrpcConfig::default()
        },
        metrics: MetricsConfig {
            enabled: true,
            listen_addr: local_port_0,
            ..MetricsConfig::default()
        },
        telemetry: TelemetryConfig {
            log_filter: "warn".into(),
            ..TelemetryConfig::default()
        },
        auth: AuthConfig::default(),
        service,
    }
}

/// One test's slice of the backing services: a migrated database, a NATS prefix and a Redis
/// key prefix nobody else uses.
#[derive(Debug)]
pub struct TestBackends {
    /// The test's database.
    pub db: TestDatabase,
    /// The test's NATS subject prefix (and stream name, upper-cased).
    pub nats_prefix: String,
    /// The test's Redis key prefix.
    pub redis_prefix: String,
}

impl TestBackends {
    /// A new database and fresh prefixes.
    pub async fn create() -> Result<Self, TestkitError> {
        Ok(Self {
            db: TestDatabase::create().await?,
            nats_prefix: random_nats_prefix(),
            redis_prefix: random_redis_prefix(),
        })
    }

    /// A service configuration on these backends with `service` settings: gRPC and metrics on
    /// port 0 of 127.0.0.1, Redis configured, quiet logs and the test HS256 key.
    pub fn service_config<S>(&self, service: S) -> ServiceConfig<S> {
        ServiceConfig {
            database: self.db.database_config(),
            nats: NatsConfig {
                url: crate::nats_url(),
                prefix: self.nats_prefix.clone(),
                ..NatsConfig::default()
            },
            redis: RedisConfig {
                url: Some(SecretString::from(redis_url())),
                key_prefix: self.redis_prefix.clone(),
                ..RedisConfig::default()
            },
            auth: AuthConfig {
                hs256_secret: Some(SecretString::from(TEST_HS256_SECRET)),
                ..AuthConfig::default()
            },
            ..loopback_config(service)
        }
    }

    /// The command that starts a service's binary as a process of its own on these backends,
    /// configured through its `env_prefix` variables (e.g. `DTI_SCORING_`) as an operator would:
    /// the test's database, NATS prefix and Redis keys (under `<redis prefix><env_prefix>`), the
    /// test HS256 key, logs at `warn`, gRPC on `grpc_addr` and metrics on 127.0.0.1:`metrics_port`.
    /// Variables under that prefix in the caller's environment are removed, so only these (and
    /// what the caller adds) apply. Its output is dropped, its errors shown; it is killed when
    /// dropped.
    pub fn service_process(
        &self,
        binary: impl AsRef<std::ffi::OsStr>,
        env_prefix: &str,
        grpc_addr: &str,
        metrics_port: u16,
    ) -> tokio::process::Command {
        let settings = [
            ("DATABASE_URL", self.db.url().to_owned()),
            ("NATS_URL", crate::nats_url()),
            ("NATS_PREFIX", self.nats_prefix.clone()),
            ("REDIS_URL", redis_url()),
            (
                "REDIS_KEY_PREFIX",
                format!("{}{}", self.redis_prefix, env_prefix.to_lowercase()),
            ),
            ("GRPC_LISTEN_ADDR", grpc_addr.to_owned()),
            ("METRICS_LISTEN_ADDR", format!("127.0.0.1:{metrics_port}")),
            ("AUTH_HS256_SECRET", TEST_HS256_SECRET.to_owned()),
            ("TELEMETRY_LOG_FILTER", "warn".to_owned()),
        ];
        let mut command = tokio::process::Command::new(binary);
        for (variable, _) in std::env::vars() {
            if variable.starts_with(env_prefix) {
                command.env_remove(variable);
            }
        }
        for (variable, value) in settings {
            command.env(format!("{env_prefix}{variable}"), value);
        }
        command
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::inherit())
            .kill_on_drop(true);
        command
    }

    /// A minter of tokens the test services accept.
    pub fn minter(&self) -> TokenMinter {
        let auth = AuthConfig::default();
        TokenMinter::hs256(TEST_HS256_SECRET.as_bytes(), &auth.issuer, &auth.audience)
    }

    /// `Bearer <token>` for `principal`, valid for an hour.
    pub fn bearer(&self, principal: &Principal) -> String {
        let token = self
            .minter()
            .mint(principal, Duration::from_secs(3600))
            .expect("signing a test token");
        format!("Bearer {token}")
    }

    /// `Bearer <token>` for a city-wide role (verifier, approver, operator, national_sync).
    pub fn token(&self, role: Role) -> String {
        self.bearer(&crate::tokens::city(role))
    }

    /// `Bearer <token>` for the unit submitter of `unit_id`.
    pub fn unit_token(&self, unit_id: &str) -> String {
        self.bearer(&crate::tokens::unit_submitter(unit_id))
    }

    /// `Bearer <token>` for the data owner of `department_id`.
    pub fn department_token(&self, department_id: &str) -> String {
        self.bearer(&crate::tokens::data_owner(department_id))
    }

    /// Rows of `table` in the test's database (for "nothing was stored" checks).
    pub async fn count_rows(&self, table: &str) -> anyhow::Result<i64> {
        let sql = format!("SELECT count(*) FROM {table}");
        Ok(sqlx::query_scalar(sqlx::AssertSqlSafe(sql))
            .fetch_one(self.db.pool())
            .await?)
    }

    /// Waits until the outbox of the test's database has no pending row.
    pub async fn wait_outbox_drained(&self) -> anyhow::Result<()> {
        crate::events::wait_outbox_drained(self.db.pool()).await
    }

    /// The `Nats-Msg-Id`s of every message on `event` in the test's stream, sorted.
    pub async fn published_ids(&self, event: &str) -> anyhow::Result<Vec<String>> {
        crate::events::published_ids(&self.nats_prefix, event).await
    }

    /// Deletes every Redis key of the test's prefix (as a flush or a restart without
    /// persistence would); returns how many there were.
    pub async fn delete_redis_keys(&self) -> anyhow::Result<usize> {
        let client = redis::Client::open(crate::redis_url())?;
        let mut conn = client.get_multiplexed_async_connection().await?;
        let keys: Vec<String> = redis::cmd("KEYS")
            .arg(format!("{}*", self.redis_prefix))
            .query_async(&mut conn)
            .await?;
        if !keys.is_empty() {
            let () = redis::cmd("DEL").arg(&keys).query_async(&mut conn).await?;
        }
        Ok(keys.len())
    }

    /// Drops the database, deletes the NATS stream of the prefix (if one was created) and the
    /// Redis keys of the prefix.
    pub async fn close(self) -> Result<(), TestkitError> {
        if let Err(error) = self.delete_redis_keys().await {
            tracing::warn!(%error, "could not delete the test's Redis keys");
        }
        if let Ok(client) = async_nats::connect(crate::nats_url()).await {
            let js = async_nats::jetstream::new(client);
            let _ = js
                .delete_stream(crate::events::stream_name(&self.nats_prefix))
                .await;
        }
        self.db.close().await
    }
}

/// Adds `authorization: <bearer>` to a request, and `accept-language: en`: tests read the
/// services' messages in English (without the metadata a service answers in Vietnamese; a
/// test of that removes it, or sets another with [`in_language`]).
pub fn with_auth<T>(message: T, bearer: &str) -> tonic::Request<T> {
    let mut request = tonic::Request::new(message);
    request.metadata_mut().insert(
        "authorization",
        bearer.parse().expect("a bearer token is ASCII"),
    );
    in_language(request, Some("en"))
}

/// The request with `accept-language: <languages>`, or without that metadata for `None`.
pub fn in_language<T>(
    mut request: tonic::Request<T>,
    languages: Option<&str>,
) -> tonic::Request<T> {
    match languages {
        Some(languages) => {
            let value = languages.parse().expect("accept-language is ASCII");
            request.metadata_mut().insert("accept-language", value);
        }
        None => {
            request.metadata_mut().remove("accept-language");
        }
    }
    request
}
