//! Loading configuration from defaults, a TOML file and prefixed environment variables.

#![allow(
    clippy::result_large_err,
    reason = "figment::Jail closures must return figment::Error"
)]

use dti_config::{
    load, load_from, ConfigError, LogFormat, NoServiceSettings, ServiceConfig, Validate,
};
use figment::Jail;
use secrecy::ExposeSecret;
use serde::Deserialize;

type Config = ServiceConfig<NoServiceSettings>;

/// Settings of an imaginary service, to check the `[service]` section.
#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
struct ScoringSettings {
    batch_size: u32,
}

impl Validate for ScoringSettings {
    fn validate(&self) -> Result<(), ConfigError> {
        if self.batch_size > 500 {
            return Err(ConfigError::invalid(
                "service.batch_size",
                "must be at most 500",
            ));
        }
        Ok(())
    }
}

fn jail_error(error: ConfigError) -> figment::Error {
    figment::Error::from(error.to_string())
}

#[test]
fn defaults_apply_without_file_or_environment() {
    Jail::expect_with(|_| {
        let config: Config = load("DTI_TEST_").map_err(jail_error)?;
        assert_eq!(config.nats.prefix, "dti");
        assert_eq!(config.database.max_connections, 10);
        assert_eq!(config.telemetry.log_format, LogFormat::Pretty);
        assert!(config.redis.url.is_none());
        Ok(())
    });
}

#[test]
fn environment_overrides_the_file_which_overrides_defaults() {
    Jail::expect_with(|jail| {
        jail.create_file(
            "submission.toml",
            r#"
            [database]
            url = "postgres://file@db/dti"
            max_connections = 20
            [nats]
            prefix = "fromfile"
            [telemetry]
            log_format = "json"
            "#,
        )?;
        jail.set_env("DTI_SUBMISSION_CONFIG_FILE", "submission.toml");
        jail.set_env("DTI_SUBMISSION_DATABASE_URL", "postgres://env@db/dti");
        jail.set_env("DTI_SUBMISSION_NATS__PREFIX", "fromenv");
        jail.set_env("DTI_SUBMISSION_GRPC_LISTEN_ADDR", "127.0.0.1:7000");
        let config: Config = load("DTI_SUBMISSION_").map_err(jail_error)?;
        assert_eq!(config.database.url.expose_secret(), "postgres://env@db/dti");
        assert_eq!(config.database.max_connections, 20, "from the file");
        assert_eq!(config.nats.prefix, "fromenv");
        assert_eq!(config.telemetry.log_format, LogFormat::Json);
        assert_eq!(config.grpc.listen_addr.port(), 7000);
        Ok(())
    });
}

#[test]
fn service_settings_nest_under_service() {
    Jail::expect_with(|jail| {
        jail.set_env("DTI_SCORING_SERVICE__BATCH_SIZE", "64");
        let config: ServiceConfig<ScoringSettings> = load("DTI_SCORING_").map_err(jail_error)?;
        assert_eq!(config.service.batch_size, 64);

        jail.set_env("DTI_SCORING_SERVICE_BATCH_SIZE", "900");
        let error = load::<ServiceConfig<ScoringSettings>>("DTI_SCORING_").unwrap_err();
        assert!(error.to_string().contains("service.batch_size"), "{error}");
        Ok(())
    });
}

#[test]
fn unknown_fields_are_rejected_naming_them() {
    Jail::expect_with(|jail| {
        jail.create_file("typo.toml", "[database]\nmax_conections = 5\n")?;
        let error = load_from::<Config>("DTI_TEST_", Some("typo.toml".as_ref())).unwrap_err();
        let message = error.to_string();
        assert!(message.contains("max_conections"), "{message}");
        assert!(matches!(error, ConfigError::Unreadable { .. }));

        let error = load_from::<Config>("DTI_TEST_", None);
        assert!(error.is_ok());
        jail.set_env("DTI_TEST_NATS_PREFIXX", "x");
        let message = load::<Config>("DTI_TEST_").unwrap_err().to_string();
        assert!(message.contains("prefixx"), "{message}");
        Ok(())
    });
}

#[test]
fn wrong_types_and_invalid_values_name_the_field() {
    Jail::expect_with(|jail| {
        jail.set_env("DTI_TEST_DATABASE__MAX_CONNECTIONS", "many");
        let error = load::<Config>("DTI_TEST_").unwrap_err();
        match &error {
            ConfigError::Unreadable { field, .. } => assert_eq!(field, "database.max_connections"),
            other => panic!("unexpected error {other}"),
        }

        jail.set_env("DTI_TEST_DATABASE__MAX_CONNECTIONS", "0");
        let error = load::<Config>("DTI_TEST_").unwrap_err();
        assert!(
            matches!(&error, ConfigError::Invalid { field, .. } if field == "database.max_connections"),
            "{error}"
        );

        jail.set_env("DTI_TEST_DATABASE__MAX_CONNECTIONS", "5");
        jail.set_env("DTI_TEST_NATS_PREFIX", "has.dot");
        let error = load::<Config>("DTI_TEST_").unwrap_err();
        assert!(
            matches!(&error, ConfigError::Invalid { field, .. } if field == "nats.prefix"),
            "{error}"
        );
        Ok(())
    });
}

#[test]
fn missing_config_file_is_an_error() {
    Jail::expect_with(|jail| {
        jail.set_env("DTI_TEST_CONFIG_FILE", "nowhere.toml");
        let error = load::<Config>("DTI_TEST_").unwrap_err();
        assert!(matches!(error, ConfigError::FileNotFound { .. }), "{error}");
        Ok(())
    });
}

#[test]
fn secrets_never_print() {
    Jail::expect_with(|jail| {
        jail.set_env(
            "DTI_TEST_DATABASE_URL",
            "postgres://u:hunter2hunter2@db/dti",
        );
        jail.set_env(
            "DTI_TEST_AUTH_HS256_SECRET",
            "s3cr3t-s3cr3t-s3cr3t-s3cr3t-s3cr3t",
        );
        jail.set_env("DTI_TEST_REDIS_URL", "redis://:redispass@cache:6379");
        let config: Config = load("DTI_TEST_").map_err(jail_error)?;
        let printed = format!("{config:?}");
        for secret in ["hunter2hunter2", "s3cr3t", "redispass"] {
            assert!(!printed.contains(secret), "{secret} leaked in {printed}");
        }
        Ok(())
    });
}

#[test]
fn both_auth_keys_are_rejected() {
    Jail::expect_with(|jail| {
        jail.create_file("key.pem", "not really a key")?;
        jail.set_env(
            "DTI_TEST_AUTH_HS256_SECRET",
            "s3cr3t-s3cr3t-s3cr3t-s3cr3t-s3cr3t",
        );
        jail.set_env("DTI_TEST_AUTH_RS256_PUBLIC_KEY_PEM_PATH", "key.pem");
        let error = load::<Config>("DTI_TEST_").unwrap_err();
        assert!(
            error.to_string().contains("auth.rs256_public_key_pem_path"),
            "{error}"
        );
        Ok(())
    });
}

/// The identity provider's settings as the chart renders them (`auth.algorithm: oidc`).
#[test]
fn identity_provider_settings_come_from_the_environment() {
    Jail::expect_with(|jail| {
        jail.set_env(
            "DTI_TEST_AUTH_OIDC_ISSUER_URL",
            "https://sso.example.gov.vn/realms/hcmc",
        );
        jail.set_env("DTI_TEST_AUTH_JWKS_REFRESH_SECS", "600");
        jail.set_env("DTI_TEST_AUTH_ALLOWED_ALGORITHMS", "[RS256, ES256]");
        jail.set_env("DTI_TEST_AUTH_ROLE_CLAIM", "realm_access.roles");
        jail.set_env("DTI_TEST_AUTH_UNIT_CLAIM", "dti_unit");
        jail.set_env(
            "DTI_TEST_AUTH_ROLE_MAP",
            r#"{"dti-operator"="operator", "Unit Submitter"="unit_submitter"}"#,
        );
        let config: Config = load("DTI_TEST_").map_err(jail_error)?;
        let auth = &config.auth;
        assert!(matches!(
            auth.key_source(),
            dti_config::KeySource::OidcIssuer("https://sso.example.gov.vn/realms/hcmc")
        ));
        assert_eq!(
            auth.allowed_algorithms,
            [
                dti_config::JwsAlgorithm::RS256,
                dti_config::JwsAlgorithm::ES256
            ]
        );
        assert_eq!(auth.role_claim, "realm_access.roles");
        assert_eq!(auth.unit_claim, "dti_unit");
        assert_eq!(auth.department_claim, "department_id", "default");
        assert_eq!(auth.role_map["dti-operator"], "operator");
        assert_eq!(auth.role_map["Unit Submitter"], "unit_submitter");
        assert_eq!(auth.jwks_refresh_secs, 600);
        assert_eq!(auth.jwks_min_refetch_secs, 10, "default");

        jail.set_env("DTI_TEST_AUTH_ROLE_MAP", r#"{"dti-operator"="root"}"#);
        let error = load::<Config>("DTI_TEST_").unwrap_err().to_string();
        assert!(error.contains("auth.role_map.dti-operator"), "{error}");
        Ok(())
    });
}
