//! The listeners' sections: the gRPC server (`[grpc]`), the metrics endpoint (`[metrics]`),
//! the TLS of a listener, and the check that a configured path is a readable file.

use std::net::{Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::ConfigError;

/// gRPC server settings.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct GrpcConfig {
    /// Address to listen on; port 0 picks a free port.
    pub listen_addr: SocketAddr,
    /// Serve gRPC server reflection (every service and message of the platform, for tools such
    /// as grpcurl). On for development; the chart turns it off in production.
    pub reflection: bool,
    /// TLS of the gRPC listener; unset, it serves plain HTTP/2.
    pub tls: ListenerTlsConfig,
}

impl Default for GrpcConfig {
    fn default() -> Self {
        Self {
            listen_addr: SocketAddr::from((Ipv4Addr::UNSPECIFIED, 50051)),
            reflection: true,
            tls: ListenerTlsConfig::default(),
        }
    }
}

/// Prometheus metrics endpoint settings.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MetricsConfig {
    /// Whether to serve `/metrics` at all.
    pub enabled: bool,
    /// Address of the HTTP `/metrics` endpoint; port 0 picks a free port.
    pub listen_addr: SocketAddr,
    /// TLS of the `/metrics` listener; unset, it serves plain HTTP.
    pub tls: ListenerTlsConfig,
}

impl Default for MetricsConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            listen_addr: SocketAddr::from((Ipv4Addr::UNSPECIFIED, 9090)),
            tls: ListenerTlsConfig::default(),
        }
    }
}

/// TLS of one listener: its certificate chain and private key as PEM files, both set or
/// neither. The listener re-reads them when either file changes, so a renewed certificate is
/// served without a restart.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ListenerTlsConfig {
    /// PEM file of the certificate chain, the listener's own certificate first.
    pub cert_path: Option<PathBuf>,
    /// PEM file of the certificate's private key (PKCS#8, PKCS#1 or SEC1).
    pub key_path: Option<PathBuf>,
}

impl ListenerTlsConfig {
    /// The certificate and key files when TLS is on; [`ListenerTlsConfig::validate_at`]
    /// ensures both or neither are set.
    pub fn files(&self) -> Option<(&Path, &Path)> {
        Some((self.cert_path.as_deref()?, self.key_path.as_deref()?))
    }

    /// Checks the section found at `section` (e.g. `grpc.tls`): both files or neither, each
    /// a readable file; an error names the field.
    pub fn validate_at(&self, section: &str) -> Result<(), ConfigError> {
        match (&self.cert_path, &self.key_path) {
            (Some(_), None) => {
                return Err(ConfigError::invalid(
                    format!("{section}.key_path"),
                    format!("must be set with {section}.cert_path"),
                ))
            }
            (None, Some(_)) => {
                return Err(ConfigError::invalid(
                    format!("{section}.cert_path"),
                    format!("must be set with {section}.key_path"),
                ))
            }
            _ => {}
        }
        check_readable_file(&format!("{section}.cert_path"), self.cert_path.as_deref())?;
        check_readable_file(&format!("{section}.key_path"), self.key_path.as_deref())
    }
}

/// Refuses a `path` set to something other than a file, naming `field`.
pub fn check_readable_file(field: &str, path: Option<&Path>) -> Result<(), ConfigError> {
    match path {
        Some(path) if !path.is_file() => Err(ConfigError::invalid(
            field,
            format!("{} is not a readable file", path.display()),
        )),
        _ => Ok(()),
    }
}
