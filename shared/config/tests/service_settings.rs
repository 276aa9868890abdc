//! The shared pieces of services' `[service]` settings, loaded the way the local stack
//! (`deploy/local/start.sh`) and the deployments set them: prefixed environment variables.

#![allow(
    clippy::result_large_err,
    reason = "figment::Jail closures must return figment::Error"
)]

use dti_config::{at_least_one, load, ConfigError, FrameworkDir, ServiceConfig, Validate};
use figment::Jail;
use secrecy::ExposeSecret;
use serde::Deserialize;

/// Settings shaped like a service's: the shared `framework_dir` and an interval.
#[derive(Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
struct Settings {
    framework_dir: FrameworkDir,
    check_interval_secs: u64,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            framework_dir: FrameworkDir::default(),
            check_interval_secs: 60,
        }
    }
}

impl Validate for Settings {
    fn validate(&self) -> Result<(), ConfigError> {
        self.framework_dir.validate()?;
        at_least_one("service.check_interval_secs", self.check_interval_secs)
    }
}

fn jail_error(error: ConfigError) -> figment::Error {
    figment::Error::from(error.to_string())
}

#[test]
fn the_local_stacks_variables_load() {
    Jail::expect_with(|jail| {
        let objects = jail.directory().join("frameworks");
        std::fs::create_dir(&objects).map_err(|e| e.to_string())?;
        let prefix = "DTI_EVIDENCE_";
        jail.set_env(
            format!("{prefix}DATABASE_URL"),
            "postgres://postgres@127.0.0.1:5432/dti_local",
        );
        jail.set_env(format!("{prefix}NATS_URL"), "nats://127.0.0.1:4222");
        jail.set_env(format!("{prefix}NATS_PREFIX"), "dti_local");
        jail.set_env(format!("{prefix}REDIS_URL"), "redis://127.0.0.1:6379");
        jail.set_env(format!("{prefix}REDIS_KEY_PREFIX"), "dti:local:evidence:");
        jail.set_env(format!("{prefix}GRPC_LISTEN_ADDR"), "127.0.0.1:50052");
        jail.set_env(format!("{prefix}METRICS_LISTEN_ADDR"), "127.0.0.1:51052");
        jail.set_env(
            format!("{prefix}AUTH_HS256_SECRET"),
            "a-development-secret-of-32-bytes-or-more",
        );
        jail.set_env(format!("{prefix}TELEMETRY_LOG_FORMAT"), "json");
        jail.set_env(format!("{prefix}SERVICE__FRAMEWORK_DIR"), objects.display());
        jail.set_env(format!("{prefix}SERVICE_CHECK_INTERVAL_SECS"), "5");
        let config: ServiceConfig<Settings> = load(prefix).map_err(jail_error)?;
        assert_eq!(config.nats.prefix, "dti_local");
        assert_eq!(config.grpc.listen_addr.port(), 50052);
        assert_eq!(config.metrics.listen_addr.port(), 51052);
        assert_eq!(config.redis.key_prefix, "dti:local:evidence:");
        assert!(config.auth.hs256_secret.is_some());
        assert_eq!(
            config.database.url.expose_secret(),
            "postgres://postgres@127.0.0.1:5432/dti_local"
        );
        assert_eq!(config.service.framework_dir.path(), Some(objects.as_path()));
        assert_eq!(config.service.check_interval_secs, 5);
        Ok(())
    });
}

#[test]
fn framework_dir_defaults_to_none_and_single_underscore_nests_it_too() {
    Jail::expect_with(|jail| {
        let config: ServiceConfig<Settings> = load("DTI_SUBMISSION_").map_err(jail_error)?;
        assert_eq!(config.service.framework_dir, FrameworkDir(None));
        let dir = jail.directory().to_path_buf();
        jail.set_env("DTI_SUBMISSION_SERVICE_FRAMEWORK_DIR", dir.display());
        let config: ServiceConfig<Settings> = load("DTI_SUBMISSION_").map_err(jail_error)?;
        assert_eq!(config.service.framework_dir.path(), Some(dir.as_path()));
        Ok(())
    });
}

#[test]
fn a_missing_framework_dir_and_a_zero_interval_are_refused_naming_the_field() {
    Jail::expect_with(|jail| {
        jail.set_env(
            "DTI_SCORING_SERVICE__FRAMEWORK_DIR",
            "/nonexistent/frameworks",
        );
        let error = load::<ServiceConfig<Settings>>("DTI_SCORING_")
            .unwrap_err()
            .to_string();
        assert!(error.contains("service.framework_dir"), "{error}");
        jail.clear_env();
        jail.set_env("DTI_SCORING_SERVICE__CHECK_INTERVAL_SECS", "0");
        let error = load::<ServiceConfig<Settings>>("DTI_SCORING_")
            .unwrap_err()
            .to_string();
        assert!(error.contains("service.check_interval_secs"), "{error}");
        assert!(error.contains("must be at least 1"), "{error}");
        Ok(())
    });
}
