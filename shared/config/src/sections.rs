//! The configuration sections every service shares, their defaults and their validation.

use std::collections::BTreeMap;
use std::net::{Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};

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
        self.grpc.tls.validate_at("grpc.tls")?;
        self.metrics.tls.validate_at("metrics.tls")?;
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
    /// PEM file of the CA that signed PostgreSQL's certificate; set, every connection uses
    /// TLS and verifies the server's certificate and host name against it (`verify-full`).
    pub tls_ca_file: Option<PathBuf>,
}

impl Default for DatabaseConfig {
    fn default() -> Self {
        Self {
            url: SecretString::from("postgres://postgres@127.0.0.1:5432/dti"),
            max_connections: 10,
            acquire_timeout_secs: 5,
            tls_ca_file: None,
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
        check_readable_file("database.tls_ca_file", self.tls_ca_file.as_deref())
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
    /// PEM file of the CA that signed the NATS servers' certificates; set, the connection
    /// requires TLS and trusts only this CA.
    pub tls_ca_file: Option<PathBuf>,
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
            tls_ca_file: None,
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
        check_readable_file("nats.tls_ca_file", self.tls_ca_file.as_deref())
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
    /// PEM file of the CA that signed Redis's certificate, trusted instead of the system's
    /// roots; needs a `rediss://` URL.
    pub tls_ca_file: Option<PathBuf>,
}

impl Default for RedisConfig {
    fn default() -> Self {
        Self {
            url: None,
            key_prefix: "dti:".to_owned(),
            tls_ca_file: None,
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
        if self.tls_ca_file.is_some()
            && !self
                .url
                .as_ref()
                .is_some_and(|url| url.expose_secret().starts_with("rediss://"))
        {
            return Err(ConfigError::invalid(
                "redis.tls_ca_file",
                "needs a rediss:// redis.url (TLS)",
            ));
        }
        check_readable_file("redis.tls_ca_file", self.tls_ca_file.as_deref())
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
    /// TLS of the gRPC listener; unset, it serves plain HTTP/2.
    pub tls: ListenerTlsConfig,
}

impl Default for GrpcConfig {
    fn default() -> Self {
        Self {
            listen_addr: SocketAddr::from((Ipv4Addr::UNSPECIFIED, 50051)),
            reflection: true,
            tls: ListenerTlsConfig::default(),
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
    /// TLS of the `/metrics` listener; unset, it serves plain HTTP.
    pub tls: ListenerTlsConfig,
}

impl Default for MetricsConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            listen_addr: SocketAddr::from((Ipv4Addr::UNSPECIFIED, 9090)),
            tls: ListenerTlsConfig::default(),
        }
    }
}

/// TLS of one listener: its certificate chain and private key as PEM files, both set or
/// neither. The listener re-reads them when either file changes, so a renewed certificate is
/// served without a restart.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ListenerTlsConfig {
    /// PEM file of the certificate chain, the listener's own certificate first.
    pub cert_path: Option<PathBuf>,
    /// PEM file of the certificate's private key (PKCS#8, PKCS#1 or SEC1).
    pub key_path: Option<PathBuf>,
}

impl ListenerTlsConfig {
    /// The certificate and key files when TLS is on; [`ListenerTlsConfig::validate_at`]
    /// ensures both or neither are set.
    pub fn files(&self) -> Option<(&Path, &Path)> {
        Some((self.cert_path.as_deref()?, self.key_path.as_deref()?))
    }

    /// Checks the section found at `section` (e.g. `grpc.tls`): both files or neither, each
    /// a readable file; an error names the field.
    pub fn validate_at(&self, section: &str) -> Result<(), ConfigError> {
        match (&self.cert_path, &self.key_path) {
            (Some(_), None) => {
                return Err(ConfigError::invalid(
                    format!("{section}.key_path"),
                    format!("must be set with {section}.cert_path"),
                ))
            }
            (None, Some(_)) => {
                return Err(ConfigError::invalid(
                    format!("{section}.cert_path"),
                    format!("must be set with {section}.key_path"),
                ))
            }
            _ => {}
        }
        check_readable_file(&format!("{section}.cert_path"), self.cert_path.as_deref())?;
        check_readable_file(&format!("{section}.key_path"), self.key_path.as_deref())
    }
}

/// Refuses a `path` set to something other than a file, naming `field`.
pub fn check_readable_file(field: &str, path: Option<&Path>) -> Result<(), ConfigError> {
    match path {
        Some(path) if !path.is_file() => Err(ConfigError::invalid(
            field,
            format!("{} is not a readable file", path.display()),
        )),
        _ => Ok(()),
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

/// JWT verification settings: exactly one key source — an HS256 secret, an RS256 public key,
/// or the city's OpenID Connect provider (its issuer, found by discovery, or its JWKS URL) —
/// plus the claims that carry a caller's role, unit and department.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AuthConfig {
    /// Shared HS256 secret, at least 32 bytes.
    pub hs256_secret: Option<SecretString>,
    /// Path of the PEM file holding the RS256 public key.
    pub rs256_public_key_pem_path: Option<PathBuf>,
    /// Issuer URL of the OpenID Connect provider, e.g.
    /// `https://sso.example.gov.vn/realms/hcmc`: its keys are found through
    /// `<issuer>/.well-known/openid-configuration` (`jwks_uri`), and tokens must carry it as
    /// `iss`.
    pub oidc_issuer_url: Option<String>,
    /// URL of the provider's JWKS, when it is given directly instead of by discovery.
    pub jwks_url: Option<String>,
    /// Seconds between periodic refreshes of the provider's key set.
    pub jwks_refresh_secs: u64,
    /// Fewest seconds between two fetches of the key set caused by tokens naming an unknown
    /// `kid` (or retrying a failed fetch).
    pub jwks_min_refetch_secs: u64,
    /// Seconds a fetch of the discovery document or the key set may take.
    pub jwks_fetch_timeout_secs: u64,
    /// Signature algorithms accepted from the provider's keys.
    pub allowed_algorithms: Vec<JwsAlgorithm>,
    /// Required `iss` claim (with `oidc_issuer_url`, the issuer URL is required instead; this
    /// field must then be left at its default or equal it).
    pub issuer: String,
    /// Required `aud` claim.
    pub audience: String,
    /// Clock skew in seconds tolerated when checking `exp` and `nbf`.
    pub leeway_secs: u64,
    /// Claim holding the caller's role: a name, or a dotted path into nested objects such as
    /// `realm_access.roles`; the claim may be one string or a list, where the first value that
    /// is (or maps to) a DTI role wins.
    pub role_claim: String,
    /// Claim (name or dotted path) holding a unit submitter's unit id.
    pub unit_claim: String,
    /// Claim (name or dotted path) holding a data owner's department id.
    pub department_claim: String,
    /// Provider role names mapped to DTI role names (e.g. `dti-operator` → `operator`); a
    /// value the map does not name must be a DTI role name itself.
    pub role_map: BTreeMap<String, String>,
}

impl Default for AuthConfig {
    fn default() -> Self {
        Self {
            hs256_secret: None,
            rs256_public_key_pem_path: None,
            oidc_issuer_url: None,
            jwks_url: None,
            jwks_refresh_secs: 300,
            jwks_min_refetch_secs: 10,
            jwks_fetch_timeout_secs: 5,
            allowed_algorithms: vec![JwsAlgorithm::RS256],
            issuer: DEFAULT_ISSUER.to_owned(),
            audience: "dti".to_owned(),
            leeway_secs: 30,
            role_claim: "role".to_owned(),
            unit_claim: "unit_id".to_owned(),
            department_claim: "department_id".to_owned(),
            role_map: BTreeMap::new(),
        }
    }
}

/// The default of [`AuthConfig::issuer`].
const DEFAULT_ISSUER: &str = "dti-platform";

/// The DTI role names, as tokens carry them (the `Role` of `dti-auth`, which checks that the
/// two lists agree).
pub const DTI_ROLE_NAMES: &[&str] = &[
    "unit_submitter",
    "verifier",
    "approver",
    "operator",
    "data_owner",
    "national_sync",
    "public_reader",
];

/// An asymmetric JWS signature algorithm an identity provider's key may use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize)]
pub enum JwsAlgorithm {
    /// RSASSA-PKCS1-v1_5 with SHA-256 (the usual provider default).
    RS256,
    /// RSASSA-PKCS1-v1_5 with SHA-384.
    RS384,
    /// RSASSA-PKCS1-v1_5 with SHA-512.
    RS512,
    /// RSASSA-PSS with SHA-256.
    PS256,
    /// RSASSA-PSS with SHA-384.
    PS384,
    /// RSASSA-PSS with SHA-512.
    PS512,
    /// ECDSA on P-256 with SHA-256.
    ES256,
    /// ECDSA on P-384 with SHA-384.
    ES384,
}

/// Where the keys that verify tokens come from.
#[derive(Debug, Clone, Copy)]
pub enum KeySource<'a> {
    /// No key is configured.
    None,
    /// The shared HS256 secret.
    Hs256(&'a SecretString),
    /// The RS256 public key file.
    Rs256PemPath(&'a std::path::Path),
    /// The provider's discovery document at `<issuer>/.well-known/openid-configuration`.
    OidcIssuer(&'a str),
    /// The provider's JWKS URL.
    JwksUrl(&'a str),
}

impl AuthConfig {
    /// The configured key source; [`Validate::validate`] ensures there is at most one.
    pub fn key_source(&self) -> KeySource<'_> {
        if let Some(secret) = &self.hs256_secret {
            KeySource::Hs256(secret)
        } else if let Some(path) = &self.rs256_public_key_pem_path {
            KeySource::Rs256PemPath(path)
        } else if let Some(issuer) = &self.oidc_issuer_url {
            KeySource::OidcIssuer(issuer)
        } else if let Some(url) = &self.jwks_url {
            KeySource::JwksUrl(url)
        } else {
            KeySource::None
        }
    }

    /// The `iss` tokens must carry: the OpenID Connect issuer URL when set, else `issuer`.
    pub fn required_issuer(&self) -> &str {
        self.oidc_issuer_url.as_deref().unwrap_or(&self.issuer)
    }

    fn validate_key_source(&self) -> Result<(), ConfigError> {
        let set: Vec<&str> = [
            ("auth.hs256_secret", self.hs256_secret.is_some()),
            (
                "auth.rs256_public_key_pem_path",
                self.rs256_public_key_pem_path.is_some(),
            ),
            ("auth.oidc_issuer_url", self.oidc_issuer_url.is_some()),
            ("auth.jwks_url", self.jwks_url.is_some()),
        ]
        .into_iter()
        .filter_map(|(field, is_set)| is_set.then_some(field))
        .collect();
        if let [_, second, ..] = set.as_slice() {
            return Err(ConfigError::invalid(
                *second,
                format!(
                    "set only one of auth.hs256_secret, auth.rs256_public_key_pem_path, \
                     auth.oidc_issuer_url and auth.jwks_url; found {}",
                    set.join(" and ")
                ),
            ));
        }
        match self.key_source() {
            KeySource::Hs256(secret) if secret.expose_secret().len() < MIN_HS256_SECRET_BYTES => {
                Err(ConfigError::invalid(
                    "auth.hs256_secret",
                    format!("must be at least {MIN_HS256_SECRET_BYTES} bytes long"),
                ))
            }
            KeySource::Rs256PemPath(path) if !path.is_file() => Err(ConfigError::invalid(
                "auth.rs256_public_key_pem_path",
                format!("{} is not a readable file", path.display()),
            )),
            KeySource::OidcIssuer(url) => {
                check_http_url("auth.oidc_issuer_url", url)?;
                if self.issuer != DEFAULT_ISSUER && self.issuer != url {
                    return Err(ConfigError::invalid(
                        "auth.issuer",
                        format!(
                            "with auth.oidc_issuer_url tokens must carry {url:?} as `iss`; \
                             leave auth.issuer unset or set it to the same URL, got {:?}",
                            self.issuer
                        ),
                    ));
                }
                self.validate_provider_settings()
            }
            KeySource::JwksUrl(url) => {
                check_http_url("auth.jwks_url", url)?;
                self.validate_provider_settings()
            }
            _ => Ok(()),
        }
    }

    fn validate_provider_settings(&self) -> Result<(), ConfigError> {
        for (field, value) in [
            ("auth.jwks_refresh_secs", self.jwks_refresh_secs),
            ("auth.jwks_min_refetch_secs", self.jwks_min_refetch_secs),
            ("auth.jwks_fetch_timeout_secs", self.jwks_fetch_timeout_secs),
        ] {
            if value == 0 {
                return Err(ConfigError::invalid(field, "must be at least 1"));
            }
        }
        if self.jwks_min_refetch_secs > self.jwks_refresh_secs {
            return Err(ConfigError::invalid(
                "auth.jwks_min_refetch_secs",
                format!(
                    "must not exceed auth.jwks_refresh_secs ({}), got {}",
                    self.jwks_refresh_secs, self.jwks_min_refetch_secs
                ),
            ));
        }
        if self.allowed_algorithms.is_empty() {
            return Err(ConfigError::invalid(
                "auth.allowed_algorithms",
                "must name at least one algorithm, e.g. [\"RS256\"]",
            ));
        }
        Ok(())
    }

    fn validate_claim_mapping(&self) -> Result<(), ConfigError> {
        for (field, path) in [
            ("auth.role_claim", &self.role_claim),
            ("auth.unit_claim", &self.unit_claim),
            ("auth.department_claim", &self.department_claim),
        ] {
            if path.split('.').any(|segment| segment.trim().is_empty()) {
                return Err(ConfigError::invalid(
                    field,
                    format!("must be a claim name or a dotted path of names, got {path:?}"),
                ));
            }
        }
        for (provider_role, role) in &self.role_map {
            if provider_role.trim().is_empty() {
                return Err(ConfigError::invalid(
                    "auth.role_map",
                    "provider role names must not be empty",
                ));
            }
            if !DTI_ROLE_NAMES.contains(&role.as_str()) {
                return Err(ConfigError::invalid(
                    format!("auth.role_map.{provider_role}"),
                    format!(
                        "must be a DTI role ({}), got {role:?}",
                        DTI_ROLE_NAMES.join(", ")
                    ),
                ));
            }
        }
        Ok(())
    }
}

/// Refuses a URL that is not `http://` or `https://`, naming `field`.
fn check_http_url(field: &str, url: &str) -> Result<(), ConfigError> {
    let rest = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"));
    match rest {
        Some(rest) if !rest.is_empty() && !rest.starts_with('/') => Ok(()),
        _ => Err(ConfigError::invalid(
            field,
            format!("must be an http:// or https:// URL with a host, got {url:?}"),
        )),
    }
}

/// Shortest HS256 secret accepted, in bytes (the hash output size).
const MIN_HS256_SECRET_BYTES: usize = 32;

impl Validate for AuthConfig {
    fn validate(&self) -> Result<(), ConfigError> {
        self.validate_key_source()?;
        if self.issuer.trim().is_empty() {
            return Err(ConfigError::invalid("auth.issuer", "must not be empty"));
        }
        if self.audience.trim().is_empty() {
            return Err(ConfigError::invalid("auth.audience", "must not be empty"));
        }
        self.validate_claim_mapping()
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
    fn tls_settings_are_checked_naming_the_field() {
        let dir = std::env::temp_dir();
        let file = dir.join(format!("dti-config-tls-{}.pem", std::process::id()));
        std::fs::write(&file, "pem").unwrap();
        let missing = dir.join("dti-config-tls-missing.pem");
        let field = |config: &ServiceConfig| match config.validate() {
            Err(ConfigError::Invalid { field, .. }) => field,
            other => panic!("expected an invalid field, got {other:?}"),
        };
        let mut config = ServiceConfig::<NoServiceSettings>::default();
        config.grpc.tls.cert_path = Some(file.clone());
        assert_eq!(field(&config), "grpc.tls.key_path");
        config.grpc.tls.key_path = Some(file.clone());
        assert!(config.validate().is_ok());
        config.grpc.tls.cert_path = None;
        assert_eq!(field(&config), "grpc.tls.cert_path");
        config.grpc.tls.cert_path = Some(missing.clone());
        assert_eq!(field(&config), "grpc.tls.cert_path");

        let mut config = ServiceConfig::<NoServiceSettings>::default();
        config.metrics.tls.key_path = Some(file.clone());
        assert_eq!(field(&config), "metrics.tls.cert_path");

        let mut config = ServiceConfig::<NoServiceSettings>::default();
        config.database.tls_ca_file = Some(missing.clone());
        assert_eq!(field(&config), "database.tls_ca_file");
        config.database.tls_ca_file = Some(file.clone());
        config.nats.tls_ca_file = Some(missing.clone());
        assert_eq!(field(&config), "nats.tls_ca_file");
        config.nats.tls_ca_file = Some(file.clone());
        config.redis.tls_ca_file = Some(file.clone());
        assert_eq!(field(&config), "redis.tls_ca_file", "no rediss:// URL");
        config.redis.url = Some(SecretString::from("rediss://127.0.0.1:6380"));
        assert!(config.validate().is_ok());
        std::fs::remove_file(file).unwrap();
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

    fn oidc(issuer: &str) -> AuthConfig {
        AuthConfig {
            oidc_issuer_url: Some(issuer.to_owned()),
            ..AuthConfig::default()
        }
    }

    fn invalid_field(auth: &AuthConfig) -> String {
        match auth.validate() {
            Err(ConfigError::Invalid { field, .. }) => field,
            other => panic!("expected an invalid field, got {other:?}"),
        }
    }

    #[test]
    fn oidc_issuer_is_a_key_source_and_the_required_issuer() {
        let auth = oidc("https://sso.example.gov.vn/realms/hcmc");
        assert!(auth.validate().is_ok());
        assert!(matches!(
            auth.key_source(),
            KeySource::OidcIssuer("https://sso.example.gov.vn/realms/hcmc")
        ));
        assert_eq!(
            auth.required_issuer(),
            "https://sso.example.gov.vn/realms/hcmc"
        );
        let other_issuer = AuthConfig {
            issuer: "someone-else".into(),
            ..oidc("https://sso.example.gov.vn/realms/hcmc")
        };
        assert_eq!(invalid_field(&other_issuer), "auth.issuer");
    }

    #[test]
    fn key_sources_are_exclusive() {
        let both = AuthConfig {
            hs256_secret: Some(SecretString::from("0123456789abcdef0123456789abcdef")),
            jwks_url: Some("https://sso.example.gov.vn/certs".into()),
            ..AuthConfig::default()
        };
        assert_eq!(invalid_field(&both), "auth.jwks_url");
        let issuer_and_url = AuthConfig {
            jwks_url: Some("https://sso.example.gov.vn/certs".into()),
            ..oidc("https://sso.example.gov.vn/realms/hcmc")
        };
        assert_eq!(invalid_field(&issuer_and_url), "auth.jwks_url");
    }

    #[test]
    fn bad_provider_settings_name_their_field() {
        let cases = [
            (
                AuthConfig {
                    jwks_url: Some("ftp://sso/certs".into()),
                    ..AuthConfig::default()
                },
                "auth.jwks_url",
            ),
            (oidc("https:///realms/hcmc"), "auth.oidc_issuer_url"),
            (
                AuthConfig {
                    jwks_refresh_secs: 0,
                    ..oidc("https://sso")
                },
                "auth.jwks_refresh_secs",
            ),
            (
                AuthConfig {
                    jwks_min_refetch_secs: 600,
                    ..oidc("https://sso")
                },
                "auth.jwks_min_refetch_secs",
            ),
            (
                AuthConfig {
                    allowed_algorithms: vec![],
                    ..oidc("https://sso")
                },
                "auth.allowed_algorithms",
            ),
            (
                AuthConfig {
                    role_claim: "realm_access..roles".into(),
                    ..oidc("https://sso")
                },
                "auth.role_claim",
            ),
            (
                AuthConfig {
                    unit_claim: String::new(),
                    ..oidc("https://sso")
                },
                "auth.unit_claim",
            ),
            (
                AuthConfig {
                    role_map: BTreeMap::from([("dti-admin".to_owned(), "admin".to_owned())]),
                    ..oidc("https://sso")
                },
                "auth.role_map.dti-admin",
            ),
        ];
        for (auth, field) in cases {
            assert_eq!(invalid_field(&auth), field);
        }
    }

    #[test]
    fn role_map_to_dti_roles_is_valid() {
        let auth = AuthConfig {
            role_map: BTreeMap::from([("dti-operator".to_owned(), "operator".to_owned())]),
            role_claim: "realm_access.roles".into(),
            ..oidc("https://sso")
        };
        assert!(auth.validate().is_ok());
    }
}
