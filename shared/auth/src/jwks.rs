//! The city identity provider's signing keys: fetched from its JWKS (found by OpenID Connect
//! discovery, `<issuer>/.well-known/openid-configuration` → `jwks_uri`, or configured
//! directly), cached, chosen by `kid`, refreshed periodically and on tokens naming an unknown
//! `kid`.
//!
//! One background task per verifier (shared by its clones) owns the fetching; verification
//! only reads the cached set and never waits on the network, so the synchronous tonic
//! interceptor does not block the runtime. Its rules:
//!
//! - the first fetch starts at once; until one succeeds the service runs but refuses tokens
//!   with [`AuthError::KeysUnavailable`] (gRPC `UNAVAILABLE`), retrying every
//!   `jwks_min_refetch_secs` and logging each failure;
//! - after a success the set is refreshed every `jwks_refresh_secs`; a failed refresh keeps
//!   the old set and is retried after `jwks_min_refetch_secs`;
//! - a token naming a `kid` the set lacks is refused ([`AuthError::UnknownKey`]) and asks the
//!   task for a refetch, which happens at most once per `jwks_min_refetch_secs` however many
//!   such tokens arrive; the caller's retry after the refetch succeeds when the provider has
//!   rotated to that key.
//!
//! The task ends when the last clone of the verifier is dropped.

use std::sync::{Arc, RwLock, Weak};
use std::time::Duration;

use dti_config::{AuthConfig, JwsAlgorithm};
use jsonwebtoken::jwk::{AlgorithmParameters, EllipticCurve, Jwk, KeyAlgorithm, PublicKeyUse};
use jsonwebtoken::{Algorithm, DecodingKey, Header};
use serde_json::Value;
use tokio::sync::{watch, Notify};
use tokio::time::Instant;

use crate::AuthError;

/// Largest discovery document or key set accepted, in bytes.
const MAX_DOCUMENT_BYTES: usize = 1 << 20;

/// Path of the discovery document under the issuer URL.
const DISCOVERY_PATH: &str = "/.well-known/openid-configuration";

/// The provider's keys as the verifier sees them; clones share one cache and one task.
#[derive(Clone)]
pub(crate) struct ProviderKeys {
    inner: Arc<Inner>,
    /// Completed fetch attempts, successful or not (for [`ProviderKeys::wait_for_keys`]).
    attempts: watch::Receiver<u64>,
}

struct Inner {
    keys: RwLock<Option<Arc<KeySet>>>,
    wake: Arc<Notify>,
    source: String,
}

impl Drop for Inner {
    fn drop(&mut self) {
        // Wakes the task so that it sees the verifier is gone and ends.
        self.wake.notify_one();
    }
}

/// One usable signing key of the provider.
struct ProviderKey {
    kid: Option<String>,
    key: DecodingKey,
    algorithms: Vec<Algorithm>,
}

/// The provider's usable signing keys at one fetch.
struct KeySet {
    keys: Vec<ProviderKey>,
}

impl ProviderKeys {
    /// Starts the cache and its fetching task for the provider configured in `config`
    /// (`field` names the setting, for errors); needs a Tokio runtime.
    pub(crate) fn start(
        config: &AuthConfig,
        field: &'static str,
        location: Location,
        allowed: Vec<Algorithm>,
    ) -> Result<Self, AuthError> {
        let runtime = tokio::runtime::Handle::try_current().map_err(|_| AuthError::Key {
            field,
            problem: "fetching the identity provider's keys needs a Tokio runtime".into(),
        })?;
        let client = http_client(Duration::from_secs(config.jwks_fetch_timeout_secs))
            .map_err(|problem| AuthError::Key { field, problem })?;
        let source = location.to_string();
        let wake = Arc::new(Notify::new());
        let inner = Arc::new(Inner {
            keys: RwLock::new(None),
            wake: Arc::clone(&wake),
            source,
        });
        let (attempts_tx, attempts) = watch::channel(0);
        let fetcher = Fetcher {
            client,
            location,
            jwks_uri: None,
            allowed,
        };
        let timing = Timing {
            refresh: Duration::from_secs(config.jwks_refresh_secs),
            min_refetch: Duration::from_secs(config.jwks_min_refetch_secs),
        };
        runtime.spawn(run(
            Arc::downgrade(&inner),
            wake,
            fetcher,
            timing,
            attempts_tx,
        ));
        Ok(Self { inner, attempts })
    }

    /// Where the keys come from, for logs and `Debug`.
    pub(crate) fn source(&self) -> &str {
        &self.inner.source
    }

    /// The key that verifies a token with `header`: the one named by its `kid`, or the only
    /// key when the token names none; its algorithm must be one the key signs with.
    pub(crate) fn key_for(&self, header: &Header) -> Result<DecodingKey, AuthError> {
        let set = self
            .inner
            .keys
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
            .ok_or(AuthError::KeysUnavailable)?;
        let key = match &header.kid {
            Some(kid) => match set.keys.iter().find(|key| key.kid.as_deref() == Some(kid)) {
                Some(key) => key,
                None => {
                    self.inner.wake.notify_one();
                    return Err(AuthError::UnknownKey(kid.clone()));
                }
            },
            None => match set.keys.as_slice() {
                [only] => only,
                keys => {
                    return Err(AuthError::Malformed(format!(
                        "the token names no `kid` and the identity provider publishes {} keys",
                        keys.len()
                    )))
                }
            },
        };
        if !key.algorithms.contains(&header.alg) {
            return Err(AuthError::Malformed(format!(
                "the identity provider's key does not sign with {:?}",
                header.alg
            )));
        }
        Ok(key.key.clone())
    }

    /// Waits until the next fetch attempt ends (at most `timeout`) when no key set is loaded
    /// yet; `Ok` once keys are loaded.
    pub(crate) async fn wait_for_keys(&self, timeout: Duration) -> Result<(), AuthError> {
        let mut attempts = self.attempts.clone();
        let loaded = || {
            self.inner
                .keys
                .read()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .is_some()
        };
        let wait = async {
            while !loaded() {
                if attempts.changed().await.is_err() {
                    break;
                }
            }
        };
        let _ = tokio::time::timeout(timeout, wait).await;
        if loaded() {
            Ok(())
        } else {
            Err(AuthError::KeysUnavailable)
        }
    }
}

/// Where the key set is found.
#[derive(Debug, Clone)]
pub(crate) enum Location {
    /// By discovery under this issuer URL.
    Issuer(String),
    /// At this JWKS URL.
    Jwks(String),
}

impl std::fmt::Display for Location {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Issuer(issuer) => write!(f, "issuer {issuer}"),
            Self::Jwks(url) => write!(f, "JWKS {url}"),
        }
    }
}

/// The algorithms of `config.allowed_algorithms` in `jsonwebtoken`'s terms.
pub(crate) fn allowed_algorithms(config: &AuthConfig) -> Vec<Algorithm> {
    config
        .allowed_algorithms
        .iter()
        .map(|algorithm| match algorithm {
            JwsAlgorithm::RS256 => Algorithm::RS256,
            JwsAlgorithm::RS384 => Algorithm::RS384,
            JwsAlgorithm::RS512 => Algorithm::RS512,
            JwsAlgorithm::PS256 => Algorithm::PS256,
            JwsAlgorithm::PS384 => Algorithm::PS384,
            JwsAlgorithm::PS512 => Algorithm::PS512,
            JwsAlgorithm::ES256 => Algorithm::ES256,
            JwsAlgorithm::ES384 => Algorithm::ES384,
        })
        .collect()
}

struct Timing {
    refresh: Duration,
    min_refetch: Duration,
}

/// The fetching task: fetches at once, then on the refresh period, after failures and on
/// unknown-`kid` requests, never twice within `min_refetch` for a request or a retry.
async fn run(
    inner: Weak<Inner>,
    wake: Arc<Notify>,
    mut fetcher: Fetcher,
    timing: Timing,
    attempts: watch::Sender<u64>,
) {
    let mut last_attempt: Option<Instant> = None;
    let mut next_due = Instant::now();
    let mut requested = false;
    loop {
        let due = match (requested, last_attempt) {
            (true, Some(last)) => next_due.min(last + timing.min_refetch),
            _ => next_due,
        };
        if due > Instant::now() {
            tokio::select! {
                () = tokio::time::sleep_until(due) => {}
                () = wake.notified() => {
                    if inner.strong_count() == 0 {
                        return;
                    }
                    requested = true;
                    continue;
                }
            }
        }
        if inner.strong_count() == 0 {
            return;
        }
        let started = Instant::now();
        last_attempt = Some(started);
        requested = false;
        let fetched = fetcher.fetch().await;
        let Some(cache) = inner.upgrade() else {
            return;
        };
        match fetched {
            Ok(set) => {
                let kids: Vec<_> = set.keys.iter().filter_map(|key| key.kid.clone()).collect();
                tracing::info!(source = %cache.source, ?kids, "identity provider keys loaded");
                *cache
                    .keys
                    .write()
                    .unwrap_or_else(std::sync::PoisonError::into_inner) = Some(Arc::new(set));
                next_due = started + timing.refresh;
            }
            Err(error) => {
                let loaded = cache
                    .keys
                    .read()
                    .unwrap_or_else(std::sync::PoisonError::into_inner)
                    .is_some();
                tracing::warn!(
                    source = %cache.source,
                    %error,
                    keeping_previous_keys = loaded,
                    retry_in_secs = timing.min_refetch.as_secs(),
                    "fetching the identity provider's keys failed"
                );
                next_due = started + timing.min_refetch;
            }
        }
        drop(cache);
        attempts.send_modify(|count| *count += 1);
    }
}

/// Fetches the discovery document (once, again after a failed key fetch) and the key set.
struct Fetcher {
    client: reqwest::Client,
    location: Location,
    jwks_uri: Option<String>,
    allowed: Vec<Algorithm>,
}

impl Fetcher {
    async fn fetch(&mut self) -> Result<KeySet, String> {
        let jwks_uri = match (&self.location, &self.jwks_uri) {
            (Location::Jwks(url), _) => url.clone(),
            (Location::Issuer(_), Some(uri)) => uri.clone(),
            (Location::Issuer(issuer), None) => {
                let uri = self.discover(issuer).await?;
                self.jwks_uri = Some(uri.clone());
                uri
            }
        };
        let fetched = async {
            let document = self.get_json(&jwks_uri).await?;
            key_set(&document, &self.allowed)
        }
        .await;
        if fetched.is_err() {
            // The provider may have moved its keys: discover again next time.
            self.jwks_uri = None;
        }
        fetched.map_err(|error| format!("{jwks_uri}: {error}"))
    }

    /// The `jwks_uri` of the issuer's discovery document, whose `issuer` must be `issuer`.
    async fn discover(&self, issuer: &str) -> Result<String, String> {
        let url = format!("{}{DISCOVERY_PATH}", issuer.trim_end_matches('/'));
        let document = self
            .get_json(&url)
            .await
            .map_err(|error| format!("{url}: {error}"))?;
        let announced = document.get("issuer").and_then(Value::as_str);
        if announced != Some(issuer) {
            return Err(format!(
                "{url}: the discovery document names issuer {announced:?}, not {issuer:?}"
            ));
        }
        document
            .get("jwks_uri")
            .and_then(Value::as_str)
            .map(str::to_owned)
            .ok_or_else(|| format!("{url}: the discovery document has no `jwks_uri`"))
    }

    async fn get_json(&self, url: &str) -> Result<Value, String> {
        let response = self
            .client
            .get(url)
            .header(reqwest::header::ACCEPT, "application/json")
            .send()
            .await
            .map_err(|error| describe(&error))?;
        let status = response.status();
        if !status.is_success() {
            return Err(format!("HTTP status {status}"));
        }
        let body = response.bytes().await.map_err(|error| describe(&error))?;
        if body.len() > MAX_DOCUMENT_BYTES {
            return Err(format!("document of {} bytes is too large", body.len()));
        }
        serde_json::from_slice(&body).map_err(|error| format!("not JSON: {error}"))
    }
}

/// A request error with its causes.
fn describe(error: &reqwest::Error) -> String {
    let mut detail = error.to_string();
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        detail.push_str(&format!(": {cause}"));
        source = cause.source();
    }
    detail
}

/// The usable signing keys of a JWKS document: keys meant for encryption, symmetric keys,
/// keys of algorithms not allowed and keys that do not parse are left out (and logged).
fn key_set(document: &Value, allowed: &[Algorithm]) -> Result<KeySet, String> {
    let entries = document
        .get("keys")
        .and_then(Value::as_array)
        .ok_or("the key set has no `keys` list")?;
    let mut keys = Vec::new();
    for entry in entries {
        let kid = entry.get("kid").and_then(Value::as_str).map(str::to_owned);
        match usable_key(entry, allowed) {
            Ok(Some(key)) => keys.push(key),
            Ok(None) => tracing::debug!(?kid, "identity provider key not used for signatures"),
            Err(problem) => tracing::warn!(?kid, %problem, "identity provider key skipped"),
        }
    }
    if keys.is_empty() {
        return Err(format!(
            "none of its {} keys is a usable signing key for {allowed:?}",
            entries.len()
        ));
    }
    Ok(KeySet { keys })
}

/// The signing key `entry` describes, `None` when it is not one this verifier may use.
fn usable_key(entry: &Value, allowed: &[Algorithm]) -> Result<Option<ProviderKey>, String> {
    let jwk: Jwk = serde_json::from_value(entry.clone()).map_err(|error| error.to_string())?;
    if matches!(jwk.common.public_key_use, Some(PublicKeyUse::Encryption)) {
        return Ok(None);
    }
    let family: Vec<Algorithm> = match &jwk.algorithm {
        AlgorithmParameters::RSA(_) => vec![
            Algorithm::RS256,
            Algorithm::RS384,
            Algorithm::RS512,
            Algorithm::PS256,
            Algorithm::PS384,
            Algorithm::PS512,
        ],
        AlgorithmParameters::EllipticCurve(params) => match params.curve {
            EllipticCurve::P256 => vec![Algorithm::ES256],
            EllipticCurve::P384 => vec![Algorithm::ES384],
            _ => return Ok(None),
        },
        // Symmetric keys are never taken from a key set; EdDSA is not offered.
        AlgorithmParameters::OctetKey(_) | AlgorithmParameters::OctetKeyPair(_) => return Ok(None),
    };
    let declared = match jwk.common.key_algorithm {
        None => None,
        Some(algorithm) => match signing_algorithm(algorithm) {
            Some(algorithm) => Some(algorithm),
            None => return Ok(None),
        },
    };
    let algorithms: Vec<Algorithm> = family
        .into_iter()
        .filter(|algorithm| allowed.contains(algorithm))
        .filter(|algorithm| declared.is_none_or(|declared| declared == *algorithm))
        .collect();
    if algorithms.is_empty() {
        return Ok(None);
    }
    let key = DecodingKey::from_jwk(&jwk).map_err(|error| error.to_string())?;
    Ok(Some(ProviderKey {
        kid: jwk.common.key_id,
        key,
        algorithms,
    }))
}

/// The signature algorithm a JWK's `alg` names, `None` for encryption or unknown algorithms.
fn signing_algorithm(algorithm: KeyAlgorithm) -> Option<Algorithm> {
    Some(match algorithm {
        KeyAlgorithm::RS256 => Algorithm::RS256,
        KeyAlgorithm::RS384 => Algorithm::RS384,
        KeyAlgorithm::RS512 => Algorithm::RS512,
        KeyAlgorithm::PS256 => Algorithm::PS256,
        KeyAlgorithm::PS384 => Algorithm::PS384,
        KeyAlgorithm::PS512 => Algorithm::PS512,
        KeyAlgorithm::ES256 => Algorithm::ES256,
        KeyAlgorithm::ES384 => Algorithm::ES384,
        KeyAlgorithm::HS256 => Algorithm::HS256,
        KeyAlgorithm::HS384 => Algorithm::HS384,
        KeyAlgorithm::HS512 => Algorithm::HS512,
        KeyAlgorithm::EdDSA => Algorithm::EdDSA,
        _ => return None,
    })
}

/// The HTTPS client of the provider: rustls on ring with the system's root certificates.
fn http_client(timeout: Duration) -> Result<reqwest::Client, String> {
    let mut roots = rustls::RootCertStore::empty();
    let native = rustls_native_certs::load_native_certs();
    for error in &native.errors {
        tracing::warn!(%error, "could not load a system root certificate");
    }
    roots.add_parsable_certificates(native.certs);
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let tls = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|error| error.to_string())?
        .with_root_certificates(roots)
        .with_no_client_auth();
    reqwest::Client::builder()
        .tls_backend_preconfigured(tls)
        .timeout(timeout)
        .connect_timeout(timeout)
        .user_agent(concat!("dti-auth/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(|error| error.to_string())
}
