//! The NATS JetStream section (`[nats]`): connection, naming and retention.

use std::path::PathBuf;

use serde::Deserialize;

use super::check_readable_file;
use crate::{ConfigError, Validate};

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
pub(super) fn name_token_problem(name: &str) -> Option<String> {
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
