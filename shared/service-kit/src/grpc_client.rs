//! Endpoints of the platform's own gRPC services for those that call them — the gateway, the
//! results site and `dtictl`: an `http://` endpoint is plain HTTP/2; an `https://` endpoint is
//! TLS (rustls on ring) verifying the service's certificate and host name against the CA file
//! when one is set, or the system's roots when none is. A CA file with an `http://` endpoint is
//! refused rather than ignored, so a caller never believes it verifies what it sends in the
//! clear.

use std::path::Path;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::CertificateDer;
use tonic::transport::{Certificate, ClientTlsConfig, Endpoint};

/// Why an endpoint could not be set up; `field` names the setting at fault.
#[derive(Debug, thiserror::Error)]
#[error("{field}: {message}")]
pub struct EndpointError {
    /// The setting at fault, e.g. `service.backends.scoring` or `service.backends_ca_file`.
    pub field: String,
    /// What is wrong with it.
    pub message: String,
}

/// The endpoint `url`, set up from the setting `field`, over TLS trusting `ca_file` (setting
/// `ca_field`) when `url` is `https://`. Nothing connects yet.
pub fn grpc_endpoint(
    field: &str,
    url: &str,
    ca_field: &str,
    ca_file: Option<&Path>,
) -> Result<Endpoint, EndpointError> {
    let refuse = |field: &str, message: String| EndpointError {
        field: field.to_owned(),
        message,
    };
    let endpoint = Endpoint::from_shared(url.to_owned())
        .map_err(|error| refuse(field, format!("{url:?} is not a URL: {error}")))?;
    match endpoint.uri().scheme_str() {
        Some("http") => match ca_file {
            None => Ok(endpoint),
            Some(_) => Err(refuse(
                ca_field,
                format!("is set, but {field} ({url}) is plain http://; use https://"),
            )),
        },
        Some("https") => {
            let tls = match ca_file {
                Some(path) => ClientTlsConfig::new()
                    .ca_certificate(read_ca(path).map_err(|message| refuse(ca_field, message))?),
                None => ClientTlsConfig::new().with_native_roots(),
            };
            endpoint
                .tls_config(tls)
                .map_err(|error| refuse(field, format!("TLS cannot be set up: {error}")))
        }
        _ => Err(refuse(
            field,
            format!("{url:?} must start with http:// or https://"),
        )),
    }
}

/// The CA certificates of the PEM file at `path`, checked to hold at least one.
fn read_ca(path: &Path) -> Result<Certificate, String> {
    let pem = std::fs::read(path).map_err(|error| format!("{}: {error}", path.display()))?;
    let certificates = CertificateDer::pem_slice_iter(&pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|error| format!("{}: {error}", path.display()))?;
    if certificates.is_empty() {
        return Err(format!("{}: holds no PEM certificate", path.display()));
    }
    Ok(Certificate::from_pem(pem))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_mistake_names_its_setting() {
        let field = |url: &str, ca: Option<&Path>| {
            grpc_endpoint("service.backends.scoring", url, "service.ca_file", ca)
                .expect_err("refused")
                .field
        };
        assert_eq!(field("not a url", None), "service.backends.scoring");
        assert_eq!(
            field("ftp://scoring:50051", None),
            "service.backends.scoring"
        );
        let here = Path::new(file!());
        assert_eq!(field("http://scoring:50051", Some(here)), "service.ca_file");
        // A file that is not PEM, and one that is missing.
        assert_eq!(
            field("https://scoring:50051", Some(here)),
            "service.ca_file"
        );
        let missing = Path::new("/nonexistent/ca.pem");
        assert_eq!(
            field("https://scoring:50051", Some(missing)),
            "service.ca_file"
        );
    }

    #[tokio::test]
    async fn plain_and_system_roots_endpoints_are_made() {
        assert!(grpc_endpoint("a", "http://127.0.0.1:50051", "b", None).is_ok());
        assert!(grpc_endpoint("a", "https://scoring.dti.svc:50051", "b", None).is_ok());
    }
}
