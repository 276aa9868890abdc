//! Layering of defaults, an optional TOML file and prefixed environment variables.

use std::path::{Path, PathBuf};

use figment::providers::{Env, Format, Toml};
use figment::value::{Uncased, UncasedStr};
use figment::Figment;
use serde::de::DeserializeOwned;

use crate::{ConfigError, Validate};

/// Top-level sections of [`crate::ServiceConfig`]; after the prefix, `<SECTION>_<FIELD>` nests
/// as `<section>.<field>` even without `__`.
pub const COMMON_SECTIONS: &[&str] = &[
    "database",
    "nats",
    "redis",
    "grpc",
    "metrics",
    "telemetry",
    "auth",
    "service",
];

/// Suffix of the variable, after the prefix, that names the configuration file.
const CONFIG_FILE_VAR: &str = "CONFIG_FILE";

/// Loads and validates `C` from defaults, the file named by `<env_prefix>CONFIG_FILE` (if set)
/// and environment variables starting with `env_prefix` (e.g. `"DTI_SUBMISSION_"`).
pub fn load<C: DeserializeOwned + Validate>(env_prefix: &str) -> Result<C, ConfigError> {
    let file = std::env::var_os(format!("{env_prefix}{CONFIG_FILE_VAR}")).map(PathBuf::from);
    load_from(env_prefix, file.as_deref())
}

/// Loads and validates `C` from defaults, the TOML file at `file` (if given; it must exist)
/// and environment variables starting with `env_prefix`.
pub fn load_from<C: DeserializeOwned + Validate>(
    env_prefix: &str,
    file: Option<&Path>,
) -> Result<C, ConfigError> {
    let mut figment = Figment::new();
    if let Some(path) = file {
        if !path.is_file() {
            return Err(ConfigError::FileNotFound {
                path: path.to_path_buf(),
            });
        }
        figment = figment.merge(Toml::file_exact(path));
    }
    let config: C = figment
        .merge(prefixed_env(env_prefix))
        .extract()
        .map_err(ConfigError::from_figment)?;
    config.validate()?;
    Ok(config)
}

/// The environment layer: variables starting with `prefix`, keys nested by [`nest_key`].
fn prefixed_env(prefix: &str) -> Env {
    Env::prefixed(prefix)
        .ignore(&[CONFIG_FILE_VAR])
        .map(nest_key)
}

/// Turns an environment key (prefix removed) into a dotted figment key path.
fn nest_key(key: &UncasedStr) -> Uncased<'_> {
    let lower = key.as_str().to_ascii_lowercase();
    if lower.contains("__") {
        return lower.replace("__", ".").into();
    }
    for section in COMMON_SECTIONS {
        if let Some(field) = lower
            .strip_prefix(section)
            .and_then(|rest| rest.strip_prefix('_'))
        {
            return format!("{section}.{field}").into();
        }
    }
    lower.into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn double_underscore_nests_at_every_level() {
        let key = nest_key(UncasedStr::new("SERVICE__LIMITS__MAX_ITEMS"));
        assert_eq!(key.as_str(), "service.limits.max_items");
    }

    #[test]
    fn single_underscore_after_a_section_nests_once() {
        let key = nest_key(UncasedStr::new("DATABASE_MAX_CONNECTIONS"));
        assert_eq!(key.as_str(), "database.max_connections");
    }

    #[test]
    fn tls_settings_have_environment_names() {
        for (variable, key) in [
            ("GRPC__TLS__CERT_PATH", "grpc.tls.cert_path"),
            ("METRICS__TLS__KEY_PATH", "metrics.tls.key_path"),
            ("SERVICE__HTTP_TLS__CERT_PATH", "service.http_tls.cert_path"),
            ("DATABASE_TLS_CA_FILE", "database.tls_ca_file"),
            ("NATS_TLS_CA_FILE", "nats.tls_ca_file"),
            ("REDIS_TLS_CA_FILE", "redis.tls_ca_file"),
        ] {
            assert_eq!(nest_key(UncasedStr::new(variable)).as_str(), key);
        }
    }

    #[test]
    fn unknown_top_level_key_stays_flat() {
        let key = nest_key(UncasedStr::new("DATABASEX_URL"));
        assert_eq!(key.as_str(), "databasex_url");
    }
}
