//! The configuration sections every service shares, their defaults and their validation.

use std::net::{Ipv4Addr, SocketAddr};
use std::path::PathBuf;

use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;

use crate::{ConfigError, Validate};

/// The whole configuration of one service: shared sections plus its own settings `S`.
#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ServiceConfig<S = NoServiceSettings> {
    /// PostgreSQL connection pool.
    pub database: DatabaseConfig,
    /// NATS JetStream connection and naming.
    pub nats: NatsConfig,
    /// Optional Redis connection and key naming.
    pub redis: RedisConfig,
    /// gRPC server.
    pub grpc: GrpcConfig,
    /// Prometheus `/metrics` endpoint.
    pub metrics: MetricsConfig,
    /// Logs and trace export.
    pub telemetry: TelemetryConfig,
    /// JWT verification.
    pub auth: AuthConfig,
    /// Settings of this service only, under `[service]`.
    pub service: S,
}

impl<S: Validate> Validate for ServiceConfig<S> {
    fn validate(&self) -> Result<(), ConfigError> {
        self.database.validate()?;
        self.nats.validate()?;
        self.redis.validate()?;
        self.telemetry.validate()?;
        self.auth.validate()?;
        self.service.validate()
    }
}

/// Service settings of a service that has none; rejects any field under `[service]`.
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NoServiceSettings {}

impl Validate for NoServiceSettings {
    fn validate(&self) -> Result<(), ConfigError> {
        Ok(())
    }
}

/// PostgreSQL connection pool settings.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DatabaseConfig {
    /// Connection URL, e.g. `postgres://user:password@host:5432/dti`; secret (may hold a password).
    pub url: SecretString,
    /// Upper bound of pooled connections.
    pub max_connections: u32,
    /// Seconds to wait for a free connection before failing.
    pub acquire_timeout_secs: u64,
}

impl Default for DatabaseConfig {
    fn default() -> Self {
        Self {
            url: SecretString::from("postgres://postgres@127.0.0.1:5432/dti"),
            max_connections: 10,
            acquire_timeout_secs: 5,
        }
    }
}

impl Validate for DatabaseConfig {
    fn validate(&self) -> Result<(), ConfigError> {
        let url = self.url.expose_secret();
        if !(url.starts_with("postgres://") || url.starts_with("postgresql://")) {
            return Err(ConfigError::invalid(
                "database.url",
                "must start with postgres:// or postgresql://",
            ));
        }
        if !(1..=1000).contains(&self.max_connections) {
            return Err(ConfigError::invalid(
                "database.max_connections",
                format!("must be between 1 and 1000, got {}", self.max_connections),
            ));
        }
        if self.acquire_timeout_secs == 0 {
            return Err(ConfigError::invalid(
                "database.acquire_timeout_secs",
                "must be at least 1",
            ));
        }
        Ok(())
    }
}

/// NATS JetStream connection and naming.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct NatsConfig {
    /// Server URL, e.g. `nats://127.0.0.1:4222`.
    pub url: String,
    /// Root of every subject (`<prefix>.>`) and base of the stream name; letters, digits,
    /// `-` and `_` only.
    pub prefix: String,
    /// Window in seconds within which JetStream drops a re-published `Nats-Msg-Id`.
    pub duplicate_window_secs: u64,
    /// How long a consumer remembers a processed message id (its inbox row), in seconds;
    /// older rows are pruned. Must exceed `duplicate_window_secs` (beyond the window a
    /// re-published id is stored again and only the inbox stops it being applied twice).
    pub inbox_retention_secs: u64,
    /// Oldest message the stream keeps, in seconds; 0 keeps every message.
    pub stream_max_age_secs: u64,
    /// Most bytes the stream keeps (oldest messages go first); 0 sets no limit.
    pub stream_max_bytes: u64,
    /// Copies of the stream in a JetStream cluster (1 on a single server, 3 in production).
    pub stream_replicas: u8,
}

impl Default for NatsConfig {
    fn default() -> Self {
        Self {
            url: "nats://127.0.0.1:4222".to_owned(),
            prefix: "dti".to_owned(),
            duplicate_window_secs: 120,
            inbox_retention_secs: 7 * 24 * 3600,
            stream_max_age_secs: 0,
            stream_max_bytes: 0,
            stream_replicas: 1,
        }
    }
}

impl Validate for NatsConfig {
    fn validate(&self) -> Result<(), ConfigError> {
        if self.url.trim().is_empty() {
            return Err(ConfigError::invalid("nats.url", "must not be empty"));
        }
        if let Some(problem) = name_token_problem(&self.prefix) {
            return Err(ConfigError::invalid("nats.prefix", problem));
        }
        if self.duplicate_window_secs == 0 {
            return Err(ConfigError::invalid(
                "nats.duplicate_window_secs",
                "must be at least 1",
            ));
        }
        if self.inbox_retention_secs <= self.duplicate_window_secs {
            return Err(ConfigError::invalid(
                "nats.inbox_retention_secs",
                format!(
                    "must exceed nats.duplicate_window_secs ({})",
                    self.duplicate_window_secs
                ),
            ));
        }
        if self.stream_max_age_secs != 0 && self.stream_max_age_secs < self.duplicate_window_secs {
            return Err(ConfigError::invalid(
                "nats.stream_max_age_secs",
                "must be 0 (no limit) or at least nats.duplicate_window_secs",
            ));
        }
        if i64::try_from(self.stream_max_bytes).is_err() {
            return Err(ConfigError::invalid(
                "nats.stream_max_bytes",
                format!("must be at most {}", i64::MAX),
            ));
        }
        if !(1..=5).contains(&self.stream_replicas) {
            return Err(ConfigError::invalid(
                "nats.stream_replicas",
                "must be between 1 and 5 (JetStream's limit)",
            ));
        }
        Ok(())
    }
}

/// Why `name` cannot be a NATS subject token and stream name, if it cannot.
fn name_token_problem(name: &str) -> Option<String> {
    if name.is_empty() || name.len() > 32 {
        return Some(format!("must be 1 to 32 characters, got {}", name.len()));
    }
    let allowed = |c: char| c.is_ascii_alphanumeric() || c == '-' || c == '_';
    if !name.chars().all(allowed) {
        return Some(format!(
            "may hold only ASCII letters, digits, '-' and '_', got {name:?}"
        ));
    }
    None
}

/// Optional Redis connection and key naming.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RedisConfig {
    /// Connection URL, e.g. `redis://127.0.0.1:6379`; unset means the service runs without
    /// Redis. Secret (may hold a password).
    pub url: Option<SecretString>,
    /// Prefix of every key the service writes, e.g. `dti:submission:`.
    pub key_prefix: String,
}

impl Default for RedisConfig {
    fn default() -> Self {
        Self {
            url: None,
            key_prefix: "dti:".to_owned(),
        }
    }
}

impl Validate for RedisConfig {
    fn validate(&self) -> Result<(), ConfigError> {
        if let Some(url) = &self.url {
            let url = url.expose_secret();
            if !(url.starts_with("redis://") || url.starts_with("rediss://")) {
                return Err(ConfigError::invalid(
                    "redis.url",
                    "must start with redis:// or rediss://",
                ));
            }
        }
        if self.key_prefix.is_empty() {
            return Err(ConfigError::invalid(
                "redis.key_prefix",
                "must not be empty",
            ));
        }
        Ok(())
    }
}

/// gRPC server settings.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct GrpcConfig {
    /// Address to listen on; port 0 picks a free port.
    pub listen_addr: SocketAddr,
    /// Serve gRPC server reflection (every service and message of the platform, for tools such
    /// as grpcurl). On for development; the chart turns it off in production.
    pub reflection: bool,
}

impl Default for GrpcConfig {
    fn default() -> Self {
        Self {
            listen_addr: SocketAddr::from((Ipv4Addr::UNSPECIFIED, 50051)),
            reflection: true,
        }
    }
}

/// Prometheus metrics endpoint settings.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MetricsConfig {
    /// Whether to serve `/metrics` at all.
    pub enabled: bool,
    /// Address of the HTTP `/metrics` endpoint; port 0 picks a free port.
    pub listen_addr: SocketAddr,
}

impl Default for MetricsConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            listen_addr: SocketAddr::from((Ipv4Addr::UNSPECIFIED, 9090)),
        }
    }
}

/// Format of log lines on standard output.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// One JSON object per line, for log collectors.
    Json,
    /// Human-readable multi-line output, for development.
    #[default]
    Pretty,
}

/// Logs and trace export settings.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TelemetryConfig {
    /// OTLP/gRPC collector endpoint, e.g. `http://127.0.0.1:4317`; unset means spans are not
    /// exported (trace context is still propagated).
    pub otlp_endpoint: Option<String>,
    /// Format of log lines.
    pub log_format: LogFormat,
    /// `tracing` filter directives, e.g. `info,dti_bus=debug`; `RUST_LOG` overrides it.
    pub log_filter: String,
}

impl Default for TelemetryConfig {
    fn default() -> Self {
        Self {
            otlp_endpoint: None,
            log_format: LogFormat::Pretty,
            log_filter: "info".to_owned(),
        }
    }
}

impl Validate for TelemetryConfig {
    fn validate(&self) -> Result<(), ConfigError> {
        if let Some(endpoint) = &self.otlp_endpoint {
            if !(endpoint.starts_with("http://") || endpoint.starts_with("https://")) {
                return Err(ConfigError::invalid(
                    "telemetry.otlp_endpoint",
                    "must start with http:// or https://",
                ));
            }
        }
        if self.log_filter.trim().is_empty() {
            return Err(ConfigError::invalid(
                "telemetry.log_filter",
                "must not be empty",
            ));
        }
        Ok(())
    }
}

/// JWT verification settings: exactly one of an HS256 secret or an RS256 public key.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AuthConfig {
    /// Shared HS256 secret, at least 32 bytes.
    pub hs256_secret: Option<SecretString>,
    /// Path of the PEM file holding the RS256 public key.
    pub rs256_public_key_pem_path: Option<PathBuf>,
    /// Required `iss` claim.
    pub issuer: String,
    /// Required `aud` claim.
    pub audience: String,
    /// Clock skew in seconds tolerated when checking `exp` and `nbf`.
    pub leeway_secs: u64,
}

impl Default for AuthConfig {
    fn default() -> Self {
        Self {
            hs256_secret: None,
            rs256_public_key_pem_path: None,
            issuer: "dti-platform".to_owned(),
            audience: "dti".to_owned(),
            leeway_secs: 30,
        }
    }
}

/// Shortest HS256 secret accepted, in bytes (the hash output size).
const MIN_HS256_SECRET_BYTES: usize = 32;

impl Validate for AuthConfig {
    fn validate(&self) -> Result<(), ConfigError> {
        match (&self.hs256_secret, &self.rs256_public_key_pem_path) {
            (Some(_), Some(_)) => {
                return Err(ConfigError::invalid(
                    "auth.rs256_public_key_pem_path",
                    "set either auth.hs256_secret or auth.rs256_public_key_pem_path, not both",
                ))
            }
            (Some(secret), None) if secret.expose_secret().len() < MIN_HS256_SECRET_BYTES => {
                return Err(ConfigError::invalid(
                    "auth.hs256_secret",
                    format!("must be at least {MIN_HS256_SECRET_BYTES} bytes long"),
                ))
            }
            (None, Some(path)) if !path.is_file() => {
                return Err(ConfigError::invalid(
                    "auth.rs256_public_key_pem_path",
                    format!("{} is not a readable file", path.display()),
                ))
            }
            _ => {}
        }
        if self.issuer.trim().is_empty() {
            return Err(ConfigError::invalid("auth.issuer", "must not be empty"));
        }
        if self.audience.trim().is_empty() {
            return Err(ConfigError::invalid("auth.audience", "must not be empty"));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_valid() {
        let config = ServiceConfig::<NoServiceSettings>::default();
        assert!(config.validate().is_ok());
    }

    #[test]
    fn stream_and_inbox_limits_are_checked_naming_the_field() {
        let refused = |nats: NatsConfig| nats.validate().unwrap_err().to_string();
        let defaults = NatsConfig::default();
        let short_inbox = NatsConfig {
            inbox_retention_secs: 120,
            ..defaults.clone()
        };
        assert!(refused(short_inbox).contains("nats.inbox_retention_secs"));
        let short_age = NatsConfig {
            stream_max_age_secs: 60,
            ..defaults.clone()
        };
        assert!(refused(short_age).contains("nats.stream_max_age_secs"));
        let replicas = NatsConfig {
            stream_replicas: 7,
            ..defaults.clone()
        };
        assert!(refused(replicas).contains("nats.stream_replicas"));
        let production = NatsConfig {
            stream_max_age_secs: 30 * 24 * 3600,
            stream_max_bytes: 50 << 30,
            stream_replicas: 3,
            ..defaults
        };
        assert!(production.validate().is_ok());
    }

    #[test]
    fn prefix_with_a_dot_is_rejected() {
        assert!(name_token_problem("dti.x").is_some());
        assert!(name_token_problem("").is_some());
        assert!(name_token_problem("dti_test-1").is_none());
    }

    #[test]
    fn short_hs256_secret_is_rejected_naming_the_field() {
        let auth = AuthConfig {
            hs256_secret: Some(SecretString::from("short")),
            ..AuthConfig::default()
        };
        let error = auth.validate().unwrap_err().to_string();
        assert!(error.contains("auth.hs256_secret"), "{error}");
    }
}
