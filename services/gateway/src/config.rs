//! The gateway's own settings (`[service]` / `DTI_GATEWAY_SERVICE__*`): where it serves HTTP,
//! the six services' gRPC endpoints it forwards to, and its limits (body sizes, per-token rate,
//! timeout, CORS).

use std::net::SocketAddr;
use std::path::PathBuf;

use dti_config::{
    check_readable_file, settings_at_least_one, ConfigError, ListenerTlsConfig, Validate,
};
use serde::Deserialize;

/// Settings of the gateway.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Settings {
    /// Address the HTTP/JSON listener binds (port 0 picks a free port).
    pub http_listen_addr: SocketAddr,
    /// TLS of the HTTP listener (certificate and key files, re-read when they change); unset,
    /// it serves plain HTTP.
    pub http_tls: ListenerTlsConfig,
    /// gRPC endpoints of the services, e.g. `http://submission:50051`, or `https://…` when
    /// the services serve gRPC over TLS (`grpc.tls`).
    pub backends: Backends,
    /// CA certificate(s), PEM, that the `https://` backends' certificates must chain to; unset,
    /// the system's roots. Set only with `https://` backends.
    pub backends_ca_file: Option<PathBuf>,
    /// Largest JSON request body, in bytes.
    pub max_body_bytes: usize,
    /// Largest evidence upload (`multipart/form-data`), in bytes; the evidence service enforces
    /// its own limit as the bytes stream.
    pub max_upload_bytes: usize,
    /// Requests per second each bearer token (or, without one, each client address) may make
    /// on average.
    pub rate_limit_per_second: u32,
    /// Requests a token may make at once above the average rate.
    pub rate_limit_burst: u32,
    /// Seconds a forwarded call may take before the gateway answers 504.
    pub request_timeout_secs: u64,
    /// Browser origins allowed by CORS (e.g. `https://dti.hochiminhcity.gov.vn`); empty turns
    /// CORS off (no browser on another origin may call the gateway).
    pub cors_allowed_origins: Vec<String>,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            http_listen_addr: SocketAddr::from(([0, 0, 0, 0], 8080)),
            http_tls: ListenerTlsConfig::default(),
            backends: Backends::default(),
            backends_ca_file: None,
            max_body_bytes: 1024 * 1024,
            max_upload_bytes: 64 * 1024 * 1024,
            rate_limit_per_second: 50,
            rate_limit_burst: 100,
            request_timeout_secs: 30,
            cors_allowed_origins: Vec::new(),
        }
    }
}

/// gRPC endpoint of each service the gateway forwards to.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Backends {
    /// `dti.submission.v1` (submissions and round operators).
    pub submission: String,
    /// `dti.evidence.v1`.
    pub evidence: String,
    /// `dti.scoring.v1`.
    pub scoring: String,
    /// `dti.ranking.v1`.
    pub ranking: String,
    /// `dti.verification.v1` (verification, approval, publication).
    pub verification: String,
    /// `dti.nationalsync.v1` (owner data and national sync).
    pub national_sync: String,
}

impl Default for Backends {
    fn default() -> Self {
        let local = |port: u16| format!("http://127.0.0.1:{port}");
        Self {
            submission: local(50051),
            evidence: local(50052),
            scoring: local(50053),
            ranking: local(50054),
            verification: local(50055),
            national_sync: local(50056),
        }
    }
}

impl Backends {
    /// Each backend's setting name and endpoint.
    pub fn named(&self) -> [(&'static str, &str); 6] {
        [
            ("submission", &self.submission),
            ("evidence", &self.evidence),
            ("scoring", &self.scoring),
            ("ranking", &self.ranking),
            ("verification", &self.verification),
            ("national_sync", &self.national_sync),
        ]
    }

    /// The endpoint serving proto package `package` (e.g. `dti.ranking.v1`), if any.
    pub fn for_package(&self, package: &str) -> Option<&str> {
        let service = package.strip_prefix("dti.")?.split('.').next()?;
        let endpoint = match service {
            "submission" => &self.submission,
            "evidence" => &self.evidence,
            "scoring" => &self.scoring,
            "ranking" => &self.ranking,
            "verification" => &self.verification,
            "nationalsync" => &self.national_sync,
            _ => return None,
        };
        Some(endpoint)
    }
}

impl Validate for Settings {
    fn validate(&self) -> Result<(), ConfigError> {
        self.http_tls.validate_at("service.http_tls")?;
        check_readable_file("service.backends_ca_file", self.backends_ca_file.as_deref())?;
        for (name, endpoint) in self.backends.named() {
            let field = format!("service.backends.{name}");
            let uri: http::Uri = endpoint
                .parse()
                .map_err(|error| ConfigError::invalid(&field, format!("not a URI: {error}")))?;
            if !matches!(uri.scheme_str(), Some("http" | "https")) || uri.host().is_none() {
                return Err(ConfigError::invalid(
                    &field,
                    "must be an http:// or https:// URL with a host",
                ));
            }
            if self.backends_ca_file.is_some() && uri.scheme_str() != Some("https") {
                return Err(ConfigError::invalid(
                    &field,
                    "must be https:// when service.backends_ca_file is set",
                ));
            }
        }
        settings_at_least_one!(
            self,
            max_body_bytes,
            max_upload_bytes,
            rate_limit_per_second,
            rate_limit_burst,
            request_timeout_secs
        );
        for origin in &self.cors_allowed_origins {
            let uri: Option<http::Uri> = origin.parse().ok();
            let plain_origin = uri.as_ref().is_some_and(|uri| {
                matches!(uri.scheme_str(), Some("http" | "https"))
                    && uri.host().is_some()
                    && uri.path_and_query().is_none_or(|path| path.as_str() == "/")
                    && !origin.ends_with('/')
            });
            if !plain_origin {
                return Err(ConfigError::invalid(
                    "service.cors_allowed_origins",
                    format!("{origin:?} is not an origin like https://dti.example.vn"),
                ));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_valid_and_every_service_package_has_a_backend() {
        let settings = Settings::default();
        assert!(settings.validate().is_ok());
        assert_eq!(
            settings.backends.for_package("dti.nationalsync.v1"),
            Some("http://127.0.0.1:50056")
        );
        assert_eq!(settings.backends.for_package("dti.events.v1"), None);
        assert_eq!(settings.backends.for_package("google.protobuf"), None);
    }

    #[test]
    fn a_bad_backend_or_origin_or_zero_limit_is_refused_naming_the_field() {
        let mut settings = Settings::default();
        settings.backends.ranking = "ranking:50054".into();
        let error = settings.validate().unwrap_err().to_string();
        assert!(error.contains("service.backends.ranking"), "{error}");

        let mut settings = Settings {
            cors_allowed_origins: vec!["https://dti.example.vn/app".into()],
            ..Settings::default()
        };
        let error = settings.validate().unwrap_err().to_string();
        assert!(error.contains("service.cors_allowed_origins"), "{error}");
        settings.cors_allowed_origins = vec!["https://dti.example.vn".into()];
        assert!(settings.validate().is_ok());

        let settings = Settings {
            rate_limit_burst: 0,
            ..Settings::default()
        };
        let error = settings.validate().unwrap_err().to_string();
        assert!(error.contains("service.rate_limit_burst"), "{error}");
    }
}
