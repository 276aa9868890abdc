//! The optional Redis section (`[redis]`): connection and key naming.

use std::path::PathBuf;

use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;

use super::check_readable_file;
use crate::{ConfigError, Validate};

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
