//! JWT verification into a [`Principal`]: with one static key (HS256 secret, RS256 public
//! key) or with the keys of the city's OpenID Connect provider ([`crate::jwks`]).

use std::sync::Arc;
use std::time::Duration;

use dti_config::{AuthConfig, KeySource};
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use secrecy::ExposeSecret;
use serde_json::Value;

use crate::claims::ClaimMapping;
use crate::jwks::{self, Location, ProviderKeys};
use crate::{AuthError, Principal};

/// Claims every token must carry, checked before the DTI claims are read.
const REQUIRED_CLAIMS: &[&str] = &["exp", "iss", "aud", "sub"];

/// Verifies DTI access tokens against a key (or the provider's key set), issuer and audience,
/// and reads the caller's role and scope from the configured claims. Clones share the
/// provider's key cache.
#[derive(Clone)]
pub struct JwtVerifier {
    keys: Keys,
    /// One validation per accepted algorithm, each accepting only that algorithm.
    validations: Vec<Validation>,
    mapping: Arc<ClaimMapping>,
}

#[derive(Clone)]
enum Keys {
    Static(DecodingKey),
    Provider(ProviderKeys),
}

impl std::fmt::Debug for JwtVerifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let algorithms: Vec<_> = self.validations.iter().map(|v| &v.algorithms).collect();
        let keys = match &self.keys {
            Keys::Static(_) => "static key",
            Keys::Provider(provider) => provider.source(),
        };
        f.debug_struct("JwtVerifier")
            .field("keys", &keys)
            .field("algorithms", &algorithms)
            .field("issuer", &self.validations.first().map(|v| &v.iss))
            .field("audience", &self.validations.first().map(|v| &v.aud))
            .finish_non_exhaustive()
    }
}

impl JwtVerifier {
    /// A verifier for the key source, issuer, audience, leeway and claim mapping of `config`;
    /// fails naming the field when no key is configured or the RS256 public key cannot be read.
    ///
    /// With `auth.oidc_issuer_url` or `auth.jwks_url` it starts fetching the provider's keys in
    /// the background (so it must be called inside a Tokio runtime) and returns at once;
    /// tokens are refused as [`AuthError::KeysUnavailable`] until the first fetch succeeds
    /// (see [`JwtVerifier::wait_for_keys`]).
    pub fn from_config(config: &AuthConfig) -> Result<Self, AuthError> {
        let mapping = ClaimMapping::from_config(config);
        let verifier = match config.key_source() {
            KeySource::Hs256(secret) => Self::hs256(
                secret.expose_secret().as_bytes(),
                &config.issuer,
                &config.audience,
            ),
            KeySource::Rs256PemPath(path) => {
                let field = "auth.rs256_public_key_pem_path";
                let pem = std::fs::read(path).map_err(|error| AuthError::Key {
                    field,
                    problem: format!("reading {}: {error}", path.display()),
                })?;
                Self::rs256(&pem, &config.issuer, &config.audience)?
            }
            KeySource::OidcIssuer(issuer) => Self::provider(
                config,
                "auth.oidc_issuer_url",
                Location::Issuer(issuer.to_owned()),
            )?,
            KeySource::JwksUrl(url) => {
                Self::provider(config, "auth.jwks_url", Location::Jwks(url.to_owned()))?
            }
            KeySource::None => {
                return Err(AuthError::Key {
                    field: "auth.hs256_secret",
                    problem: "set one of auth.hs256_secret, auth.rs256_public_key_pem_path, \
                              auth.oidc_issuer_url and auth.jwks_url"
                        .into(),
                })
            }
        };
        Ok(Self {
            mapping: Arc::new(mapping),
            ..verifier.with_leeway(config.leeway_secs)
        })
    }

    /// A verifier of HS256 tokens signed with `secret`.
    pub fn hs256(secret: &[u8], issuer: &str, audience: &str) -> Self {
        Self::new(
            Keys::Static(DecodingKey::from_secret(secret)),
            &[Algorithm::HS256],
            issuer,
            audience,
        )
    }

    /// A verifier of RS256 tokens, given the signer's public key as PEM.
    pub fn rs256(public_key_pem: &[u8], issuer: &str, audience: &str) -> Result<Self, AuthError> {
        let key = DecodingKey::from_rsa_pem(public_key_pem).map_err(|error| AuthError::Key {
            field: "auth.rs256_public_key_pem_path",
            problem: error.to_string(),
        })?;
        Ok(Self::new(
            Keys::Static(key),
            &[Algorithm::RS256],
            issuer,
            audience,
        ))
    }

    fn provider(
        config: &AuthConfig,
        field: &'static str,
        location: Location,
    ) -> Result<Self, AuthError> {
        let allowed = jwks::allowed_algorithms(config);
        let keys = ProviderKeys::start(config, field, location, allowed.clone())?;
        Ok(Self::new(
            Keys::Provider(keys),
            &allowed,
            config.required_issuer(),
            &config.audience,
        ))
    }

    fn new(keys: Keys, algorithms: &[Algorithm], issuer: &str, audience: &str) -> Self {
        let validations = algorithms
            .iter()
            .map(|algorithm| {
                let mut validation = Validation::new(*algorithm);
                validation.set_issuer(&[issuer]);
                validation.set_audience(&[audience]);
                validation.set_required_spec_claims(REQUIRED_CLAIMS);
                validation.validate_nbf = true;
                validation
            })
            .collect();
        Self {
            keys,
            validations,
            mapping: Arc::new(ClaimMapping::default()),
        }
    }

    /// Tolerates `seconds` of clock skew on `exp` and `nbf`.
    pub fn with_leeway(mut self, seconds: u64) -> Self {
        for validation in &mut self.validations {
            validation.leeway = seconds;
        }
        self
    }

    /// Checks `token` and returns the principal it names. Never waits: with an identity
    /// provider it uses the cached key set, and a token naming an unknown `kid` is refused
    /// ([`AuthError::UnknownKey`]) while a (rate-limited) refetch is asked for in the
    /// background.
    pub fn verify(&self, token: &str) -> Result<Principal, AuthError> {
        let header = jsonwebtoken::decode_header(token)
            .map_err(|error| AuthError::Malformed(format!("token header: {error}")))?;
        let validation = self
            .validations
            .iter()
            .find(|validation| validation.algorithms.contains(&header.alg))
            .ok_or_else(|| {
                AuthError::Malformed(format!("algorithm {:?} is not accepted", header.alg))
            })?;
        let data = match &self.keys {
            Keys::Static(key) => jsonwebtoken::decode::<Value>(token, key, validation)?,
            Keys::Provider(provider) => {
                let key = provider.key_for(&header)?;
                jsonwebtoken::decode::<Value>(token, &key, validation)?
            }
        };
        self.mapping.principal(&data.claims)
    }

    /// Waits up to `timeout` for the identity provider's keys when none are loaded yet (e.g.
    /// right after start); returns at once for a static key. Services need not call it: until
    /// keys are loaded, tokens are refused as [`AuthError::KeysUnavailable`].
    pub async fn wait_for_keys(&self, timeout: Duration) -> Result<(), AuthError> {
        match &self.keys {
            Keys::Static(_) => Ok(()),
            Keys::Provider(provider) => provider.wait_for_keys(timeout).await,
        }
    }
}
