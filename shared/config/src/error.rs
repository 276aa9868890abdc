//! The error type of configuration loading and validation.

use std::path::PathBuf;

/// Why a configuration could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The configuration file named by the caller or by `<PREFIX>CONFIG_FILE` does not exist.
    #[error("configuration file {path} does not exist")]
    FileNotFound {
        /// The path that was looked for.
        path: PathBuf,
    },
    /// A field could not be read from one of the layers (unknown field, wrong type, bad TOML).
    #[error("configuration field `{field}` from {origin}: {problem}")]
    Unreadable {
        /// Dotted path of the field, e.g. `database.max_connections`; empty for the whole file.
        field: String,
        /// Which layer it came from, e.g. "`DTI_SUBMISSION_` environment variable(s)".
        origin: String,
        /// What is wrong with it.
        problem: String,
    },
    /// A field was read but its value is not acceptable.
    #[error("configuration field `{field}` is invalid: {problem}")]
    Invalid {
        /// Dotted path of the field, e.g. `nats.prefix`.
        field: String,
        /// What is wrong with it.
        problem: String,
    },
}

impl ConfigError {
    /// An [`ConfigError::Invalid`] for `field` with `problem`.
    pub fn invalid(field: impl Into<String>, problem: impl Into<String>) -> Self {
        Self::Invalid {
            field: field.into(),
            problem: problem.into(),
        }
    }

    /// Converts a figment extraction error into the first problem it reports.
    pub(crate) fn from_figment(error: figment::Error) -> Self {
        let origin = error.metadata.as_ref().map_or_else(
            || "built-in defaults".to_owned(),
            |meta| meta.name.to_string(),
        );
        Self::Unreadable {
            field: error.path.join("."),
            origin,
            problem: error.kind.to_string(),
        }
    }
}
