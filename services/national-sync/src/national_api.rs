//! The adapter to the national DTI system. Its API is not public, so the service talks to it
//! through the [`NationalApi`] trait; [`HttpNationalApi`] is the HTTP JSON implementation
//! (rustls on ring, CA file configurable); crate `dti-national-receiver` is a reference server
//! of the same contract. The payload ([`PushBody`]) and the answers are documented in
//! `docs/national-sync.md`:
//!
//! `POST <endpoint>/v1/indicator-values` with headers `Idempotency-Key` and (optionally)
//! `Authorization: Bearer <token>`, body [`PushBody`]. Answers: `200` with
//! `{"outcome": "accepted", "receipt": …}` or `{"outcome": "rejected", "reason": …}` (a
//! repeated key gets the first answer again); `408`, `429` and `5xx` (and timeouts, connection
//! failures) are transient and retried; other statuses are refused requests, logged and
//! retried later.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use futures::future::BoxFuture;
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::content::EvidenceRef;

/// Path of the push endpoint under the configured base URL.
pub const PUSH_PATH: &str = "/v1/indicator-values";
/// Header carrying the idempotency key.
pub const IDEMPOTENCY_HEADER: &str = "Idempotency-Key";
/// Schema name of [`PushBody`].
pub const PUSH_SCHEMA: &str = "dti-national-push/1";

/// The JSON body of one push: one item's value version.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PushBody {
    /// Always [`PUSH_SCHEMA`].
    pub schema: String,
    /// The province's code in the national system (the city: `79`).
    pub province: String,
    /// The national set, e.g. `mic-2022-province`.
    pub framework: String,
    /// Year of the national index.
    pub year: u16,
    /// The item.
    pub item: PushItem,
    /// Value version, from 1; grows with every change of the item's content.
    pub value_version: i32,
    /// The combined national value: an object of value fields for an indicator
    /// (`{"amount": 1200000}`), the field's value for general information (`9389720`).
    pub value: Value,
    /// How the owners' parts were combined: `single`, `sum` or `any`.
    pub combine: String,
    /// Each owner's part with its evidence, in framework owner order.
    pub owners: Vec<PushOwnerPart>,
    /// The same key as the `Idempotency-Key` header.
    pub idempotency_key: String,
}

/// The item a push is about.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PushItem {
    /// `indicator` or `general_info`.
    pub kind: String,
    /// Indicator code (`6.22`) or general-information key (`population`).
    pub code: String,
    /// Its name as printed in the set.
    pub name: String,
}

/// One owner's part in a push.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PushOwnerPart {
    /// Department id (unit registry), e.g. `so-tai-chinh`.
    pub department: String,
    /// Department name.
    pub department_name: String,
    /// Its part of the value.
    pub value: Value,
    /// Its evidence.
    pub evidence: Vec<EvidenceRef>,
}

/// The national system's decision, as JSON.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum PushDecision {
    /// The value is recorded; `receipt` is the national system's reference.
    Accepted {
        /// Reference of the record.
        receipt: String,
    },
    /// The value is refused; an owner must correct it.
    Rejected {
        /// Why, in the national system's words.
        reason: String,
    },
}

/// A push answered for good.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PushAnswer {
    /// Accepted or rejected.
    pub decision: PushDecision,
    /// HTTP status of the answer.
    pub http_status: u16,
}

/// A push that got no decision.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PushFailure {
    /// Worth retrying soon: timeout, connection failure, 408, 429, 5xx.
    #[error("transient failure{}: {detail}", status_suffix(*http_status))]
    Transient {
        /// HTTP status, when there was an answer.
        http_status: Option<u16>,
        /// What happened.
        detail: String,
    },
    /// The national system refused the request itself (bad request, authentication,
    /// idempotency key conflict): retried later, after an operator had time to look.
    #[error("request refused with HTTP {http_status}: {detail}")]
    Refused {
        /// HTTP status.
        http_status: u16,
        /// The answer's body, shortened.
        detail: String,
    },
}

fn status_suffix(status: Option<u16>) -> String {
    status.map(|s| format!(" (HTTP {s})")).unwrap_or_default()
}

impl PushFailure {
    /// Whether retrying at once may help.
    pub fn is_transient(&self) -> bool {
        matches!(self, PushFailure::Transient { .. })
    }

    /// HTTP status of the answer, if any.
    pub fn http_status(&self) -> Option<u16> {
        match self {
            PushFailure::Transient { http_status, .. } => *http_status,
            PushFailure::Refused { http_status, .. } => Some(*http_status),
        }
    }
}

/// The national DTI system as the push workers see it.
pub trait NationalApi: Send + Sync + std::fmt::Debug {
    /// Sends one value version with its idempotency key.
    fn push<'a>(
        &'a self,
        idempotency_key: &'a str,
        body: &'a Value,
    ) -> BoxFuture<'a, Result<PushAnswer, PushFailure>>;
}

/// Why the HTTP client could not be built.
#[derive(Debug, thiserror::Error)]
pub enum ClientSetupError {
    /// The CA file could not be read or holds no certificate.
    #[error("reading CA file {path}: {message}")]
    CaFile {
        /// The file.
        path: String,
        /// What went wrong.
        message: String,
    },
    /// The TLS configuration or HTTP client could not be built.
    #[error("building the HTTP client: {0}")]
    Build(String),
}

/// Settings of [`HttpNationalApi`].
#[derive(Debug, Clone)]
pub struct HttpSettings {
    /// Base URL, e.g. `https://dti.example.vn/api`.
    pub endpoint: String,
    /// PEM file of the CA(s) to trust instead of the system's roots.
    pub ca_file: Option<std::path::PathBuf>,
    /// Bearer token for the national API.
    pub api_token: Option<SecretString>,
    /// Whole-request timeout.
    pub request_timeout: Duration,
    /// Connection timeout.
    pub connect_timeout: Duration,
}

/// The HTTP JSON implementation of [`NationalApi`].
#[derive(Debug, Clone)]
pub struct HttpNationalApi {
    client: reqwest::Client,
    url: String,
    api_token: Option<SecretString>,
}

impl HttpNationalApi {
    /// A client of `settings.endpoint`, trusting the CA file's certificates (or else the
    /// system's roots) with rustls on ring.
    pub fn new(settings: &HttpSettings) -> Result<Self, ClientSetupError> {
        let tls = tls_config(settings.ca_file.as_deref())?;
        let client = reqwest::Client::builder()
            .tls_backend_preconfigured(tls)
            .timeout(settings.request_timeout)
            .connect_timeout(settings.connect_timeout)
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("dti-national-sync/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| ClientSetupError::Build(e.to_string()))?;
        Ok(Self {
            client,
            url: format!("{}{PUSH_PATH}", settings.endpoint.trim_end_matches('/')),
            api_token: settings.api_token.clone(),
        })
    }

    async fn send(&self, idempotency_key: &str, body: &Value) -> Result<PushAnswer, PushFailure> {
        let bytes = serde_json::to_vec(body).map_err(|e| PushFailure::Refused {
            http_status: 0,
            detail: format!("encoding the body: {e}"),
        })?;
        let mut request = self
            .client
            .post(&self.url)
            .header(http::header::CONTENT_TYPE, "application/json")
            .header(IDEMPOTENCY_HEADER, idempotency_key)
            .body(bytes);
        if let Some(token) = &self.api_token {
            request = request.bearer_auth(token.expose_secret());
        }
        let response = request
            .send()
            .await
            .map_err(|error| PushFailure::Transient {
                http_status: None,
                detail: describe_send_error(&error),
            })?;
        let status = response.status().as_u16();
        let text = response
            .text()
            .await
            .map_err(|error| PushFailure::Transient {
                http_status: Some(status),
                detail: format!("reading the answer: {}", describe_send_error(&error)),
            })?;
        classify(status, &text)
    }
}

impl NationalApi for HttpNationalApi {
    fn push<'a>(
        &'a self,
        idempotency_key: &'a str,
        body: &'a Value,
    ) -> BoxFuture<'a, Result<PushAnswer, PushFailure>> {
        Box::pin(self.send(idempotency_key, body))
    }
}

/// The decision or failure an HTTP answer means.
pub fn classify(status: u16, body: &str) -> Result<PushAnswer, PushFailure> {
    let short = shorten(body);
    match status {
        200 | 201 => match serde_json::from_str::<PushDecision>(body) {
            Ok(decision) => Ok(PushAnswer {
                decision,
                http_status: status,
            }),
            Err(error) => Err(PushFailure::Refused {
                http_status: status,
                detail: format!("unreadable answer ({error}): {short}"),
            }),
        },
        408 | 429 | 500..=599 => Err(PushFailure::Transient {
            http_status: Some(status),
            detail: short,
        }),
        _ => Err(PushFailure::Refused {
            http_status: status,
            detail: short,
        }),
    }
}

fn shorten(text: &str) -> String {
    const LIMIT: usize = 500;
    match text.char_indices().nth(LIMIT) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text.to_owned(),
    }
}

fn describe_send_error(error: &reqwest::Error) -> String {
    let kind = if error.is_timeout() {
        "timed out"
    } else if error.is_connect() {
        "connection failed"
    } else {
        "request failed"
    };
    let mut detail = format!("{kind}: {error}");
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        detail.push_str(&format!(": {cause}"));
        source = cause.source();
    }
    detail
}

/// rustls client configuration on ring: the CA file's certificates when given, otherwise the
/// system's roots.
fn tls_config(ca_file: Option<&Path>) -> Result<rustls::ClientConfig, ClientSetupError> {
    let mut roots = rustls::RootCertStore::empty();
    match ca_file {
        Some(path) => {
            let ca_error = |message: String| ClientSetupError::CaFile {
                path: path.display().to_string(),
                message,
            };
            let certificates = read_certificates(path).map_err(ca_error)?;
            for certificate in certificates {
                roots
                    .add(certificate)
                    .map_err(|e| ca_error(format!("not a usable CA certificate: {e}")))?;
            }
        }
        None => {
            let native = rustls_native_certs::load_native_certs();
            for error in &native.errors {
                tracing::warn!(%error, "could not load a system root certificate");
            }
            let (added, ignored) = roots.add_parsable_certificates(native.certs);
            tracing::debug!(added, ignored, "system root certificates loaded");
        }
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| ClientSetupError::Build(e.to_string()))?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(config)
}

/// Every certificate of a PEM file; an error when there is none.
pub fn read_certificates(
    path: &Path,
) -> Result<Vec<rustls::pki_types::CertificateDer<'static>>, String> {
    use rustls::pki_types::pem::PemObject;
    let certificates = rustls::pki_types::CertificateDer::pem_file_iter(path)
        .map_err(|e| e.to_string())?
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| e.to_string())?;
    if certificates.is_empty() {
        return Err("holds no PEM certificate".into());
    }
    Ok(certificates)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_are_classified() {
        let accepted = classify(200, r#"{"outcome":"accepted","receipt":"R-1"}"#).unwrap();
        assert_eq!(
            accepted.decision,
            PushDecision::Accepted {
                receipt: "R-1".into()
            }
        );
        let rejected = classify(200, r#"{"outcome":"rejected","reason":"too high"}"#).unwrap();
        assert!(matches!(rejected.decision, PushDecision::Rejected { .. }));
        assert!(classify(503, "busy").unwrap_err().is_transient());
        assert!(classify(429, "").unwrap_err().is_transient());
        let refused = classify(422, "key reused").unwrap_err();
        assert!(!refused.is_transient());
        assert_eq!(refused.http_status(), Some(422));
        assert!(!classify(200, "not json").unwrap_err().is_transient());
    }

    #[test]
    fn a_missing_ca_file_is_a_setup_error() {
        let error = tls_config(Some(Path::new("/nonexistent/ca.pem"))).unwrap_err();
        assert!(error.to_string().contains("/nonexistent/ca.pem"));
    }
}
