//! The PostgreSQL connection pool section (`[database]`).

use std::path::PathBuf;

use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;

use super::check_readable_file;
use crate::{ConfigError, Validate};

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
