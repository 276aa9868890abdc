//! The configuration sections every service shares, their defaults and their validation.
//!
//! This module holds the whole configuration ([`ServiceConfig`]); each section lives in a
//! module of its own: `database`, `nats`, `redis`, `listeners` (gRPC, metrics, a listener's
//! TLS), `telemetry` and `auth`.

mod auth;
mod database;
mod listeners;
mod nats;
mod redis;
mod telemetry;

use serde::Deserialize;

use crate::{ConfigError, Validate};

pub use auth::{is_tenant_id, AuthConfig, JwsAlgorithm, KeySource, DTI_ROLE_NAMES};
pub use database::DatabaseConfig;
pub use listeners::{check_readable_file, GrpcConfig, ListenerTlsConfig, MetricsConfig};
pub use nats::NatsConfig;
pub use redis::RedisConfig;
pub use telemetry::{LogFormat, TelemetryConfig};

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

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use secrecy::SecretString;

    use super::nats::name_token_problem;
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
    fn a_tenant_must_be_a_tenant_id() {
        let with = |tenant: &str| AuthConfig {
            hs256_secret: Some(SecretString::from("0123456789abcdef0123456789abcdef")),
            tenant: Some(tenant.to_owned()),
            ..AuthConfig::default()
        };
        for good in ["hcm", "ha-noi", "t2"] {
            assert!(with(good).validate().is_ok(), "{good}");
        }
        for bad in ["", "HCM", "2t", "hcm_1", "hcm city", &"a".repeat(33)] {
            let error = with(bad).validate().unwrap_err().to_string();
            assert!(error.contains("auth.tenant"), "{bad}: {error}");
        }
        let empty_claim = AuthConfig {
            tenant_claim: "dti.".into(),
            ..with("hcm")
        };
        let error = empty_claim.validate().unwrap_err().to_string();
        assert!(error.contains("auth.tenant_claim"), "{error}");
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
