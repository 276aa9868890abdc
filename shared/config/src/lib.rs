//! `dti-config` owns how a DTI service reads its configuration.
//!
//! A service's configuration is one typed struct, normally [`ServiceConfig<S>`]: the sections
//! every service shares ([`DatabaseConfig`], [`NatsConfig`], [`RedisConfig`], [`GrpcConfig`],
//! [`MetricsConfig`], [`TelemetryConfig`], [`AuthConfig`]) plus the service's own settings `S`
//! under `[service]`. [`load`] builds it from three layers, later ones winning:
//!
//! 1. built-in defaults (each section's `Default`, good for a local development machine);
//! 2. an optional TOML file, from an explicit path or `<PREFIX>CONFIG_FILE`;
//! 3. environment variables starting with the service's prefix, e.g. `DTI_SUBMISSION_`:
//!    `__` nests (`DTI_SUBMISSION_DATABASE__MAX_CONNECTIONS`), and a single `_` after a known
//!    section name nests too (`DTI_SUBMISSION_DATABASE_URL` → `database.url`).
//!
//! Unknown fields are rejected, secrets are [`secrecy::SecretString`] so they never print, and
//! the result is checked by [`Validate`] before it is returned. Every error names the field and
//! the problem ([`ConfigError`]).
//!
//! Pieces the services' own settings share live here too: the `framework_dir` setting
//! ([`FrameworkDir`]) and the "must be at least 1" check ([`at_least_one`], or
//! [`settings_at_least_one!`] for several fields of a `[service]` table at once).

#![warn(missing_docs)]

mod error;
mod loader;
mod sections;
mod service_settings;

pub use error::ConfigError;
pub use loader::{load, load_from, COMMON_SECTIONS};
pub use sections::{
    check_readable_file, is_tenant_id, AuthConfig, DatabaseConfig, GrpcConfig, JwsAlgorithm,
    KeySource, ListenerTlsConfig, LogFormat, MetricsConfig, NatsConfig, NoServiceSettings,
    RedisConfig, ServiceConfig, TelemetryConfig, DTI_ROLE_NAMES,
};
pub use service_settings::{at_least_one, FrameworkDir, FRAMEWORK_DIR_FIELD};

/// Checks a loaded configuration; runs at load, before the service uses it.
pub trait Validate {
    /// Returns the first problem found, naming the field (dotted path) and what is wrong.
    fn validate(&self) -> Result<(), ConfigError>;
}
