//! The site's own settings (`[service]` / `DTI_RESULTS_SITE_SERVICE__*`): where it serves
//! HTTP, the verification service it reads published revisions from, the submission service it
//! reads the unit registry in force from, how it authenticates there, and its caches.

use std::net::SocketAddr;

use dti_config::{
    check_readable_file, settings_at_least_one, ConfigError, FrameworkDir, ListenerTlsConfig,
    Validate,
};
use secrecy::SecretString;
use serde::Deserialize;

/// Settings of the results site.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Settings {
    /// Address the HTTP listener binds (port 0 picks a free port).
    pub http_listen_addr: SocketAddr,
    /// TLS of the HTTP listener (certificate and key files, re-read when they change); unset,
    /// it serves plain HTTP.
    pub http_tls: ListenerTlsConfig,
    /// gRPC endpoint of the verification service (its `PublicationService`): `http://…`, or
    /// `https://…` when it serves gRPC over TLS (`grpc.tls`).
    pub verification_endpoint: String,
    /// CA certificate(s), PEM, that an `https://` verification endpoint's certificate must
    /// chain to; unset, the system's roots. Set only with an `https://` endpoint.
    pub verification_ca_file: Option<std::path::PathBuf>,
    /// gRPC endpoint of the submission service (its `RegistryService`), to read the unit
    /// registry in force (units' names, lineage); unset, the registry shipped with the platform.
    pub submission_endpoint: Option<String>,
    /// CA certificate(s), PEM, that an `https://` submission endpoint's certificate must chain
    /// to; unset, the system's roots. Set only with an `https://` endpoint.
    pub submission_ca_file: Option<std::path::PathBuf>,
    /// Seconds between reads of the unit registry in force.
    pub registry_check_interval_secs: u64,
    /// A `public_reader` token to send to the verification service (`Bearer` left out). When
    /// unset, the site mints its own short-lived `public_reader` tokens with the HS256 secret
    /// of the `[auth]` section; deployments on RS256 (whose services hold only the public key)
    /// set this from a secret instead.
    pub reader_token: Option<SecretString>,
    /// Milliseconds a round's list of published revisions is trusted before it is asked for
    /// again (`ListPublications`); 0 asks on every page.
    pub latest_check_interval_ms: u64,
    /// Most published revisions kept in memory (each is one snapshot, about 20 KiB per unit).
    pub cached_revisions: usize,
    /// Seconds a call to the verification service may take before the page answers 503.
    pub request_timeout_secs: u64,
    /// Extra framework files (as the verification service's), for their group and indicator
    /// names.
    pub framework_dir: FrameworkDir,
    /// An Ed25519 private key in PKCS#8 PEM (`openssl genpkey -algorithm ed25519`) that signs
    /// every snapshot download; unset, the site serves no signatures.
    pub signing_key_path: Option<std::path::PathBuf>,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            http_listen_addr: SocketAddr::from(([0, 0, 0, 0], 8090)),
            http_tls: ListenerTlsConfig::default(),
            verification_endpoint: "http://127.0.0.1:50055".into(),
            verification_ca_file: None,
            submission_endpoint: None,
            submission_ca_file: None,
            registry_check_interval_secs: 30,
            reader_token: None,
            latest_check_interval_ms: 1000,
            cached_revisions: 64,
            request_timeout_secs: 10,
            framework_dir: FrameworkDir::default(),
            signing_key_path: None,
        }
    }
}

impl Validate for Settings {
    fn validate(&self) -> Result<(), ConfigError> {
        self.http_tls.validate_at("service.http_tls")?;
        self.framework_dir.validate()?;
        check_endpoint(
            "service.verification_endpoint",
            &self.verification_endpoint,
            "service.verification_ca_file",
            self.verification_ca_file.as_deref(),
        )?;
        if let Some(endpoint) = &self.submission_endpoint {
            check_endpoint(
                "service.submission_endpoint",
                endpoint,
                "service.submission_ca_file",
                self.submission_ca_file.as_deref(),
            )?;
        }
        settings_at_least_one!(
            self,
            registry_check_interval_secs,
            cached_revisions,
            request_timeout_secs
        );
        Ok(())
    }
}

/// A gRPC endpoint `field`: an `http://` or `https://` URL with a host, `https://` when its
/// CA file `ca_field` is set (and readable).
fn check_endpoint(
    field: &'static str,
    endpoint: &str,
    ca_field: &'static str,
    ca_file: Option<&std::path::Path>,
) -> Result<(), ConfigError> {
    let uri: http::Uri = endpoint
        .parse()
        .map_err(|error| ConfigError::invalid(field, format!("not a URI: {error}")))?;
    if !matches!(uri.scheme_str(), Some("http" | "https")) || uri.host().is_none() {
        return Err(ConfigError::invalid(
            field,
            "must be an http:// or https:// URL with a host",
        ));
    }
    check_readable_file(ca_field, ca_file)?;
    if ca_file.is_some() && uri.scheme_str() != Some("https") {
        return Err(ConfigError::invalid(
            field,
            format!("must be https:// when {ca_field} is set"),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_valid_and_a_bad_endpoint_or_zero_cache_names_its_field() {
        assert!(Settings::default().validate().is_ok());
        let settings = Settings {
            verification_endpoint: "verification:50055".into(),
            ..Settings::default()
        };
        let error = settings.validate().unwrap_err().to_string();
        assert!(error.contains("service.verification_endpoint"), "{error}");
        let settings = Settings {
            cached_revisions: 0,
            ..Settings::default()
        };
        let error = settings.validate().unwrap_err().to_string();
        assert!(error.contains("service.cached_revisions"), "{error}");
        let settings = Settings {
            submission_endpoint: Some("submission:50051".into()),
            ..Settings::default()
        };
        let error = settings.validate().unwrap_err().to_string();
        assert!(error.contains("service.submission_endpoint"), "{error}");
        let settings = Settings {
            submission_endpoint: Some("http://submission:50051".into()),
            registry_check_interval_secs: 0,
            ..Settings::default()
        };
        let error = settings.validate().unwrap_err().to_string();
        assert!(
            error.contains("service.registry_check_interval_secs"),
            "{error}"
        );
    }
}
