//! JWT verification into a [`Principal`].

use dti_config::AuthConfig;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use secrecy::ExposeSecret;

use crate::claims::ReceivedClaims;
use crate::{AuthError, Principal};

/// Claims every token must carry, checked before the DTI claims are read.
const REQUIRED_CLAIMS: &[&str] = &["exp", "iss", "aud", "sub"];

/// Verifies DTI access tokens against one key, issuer and audience.
#[derive(Clone)]
pub struct JwtVerifier {
    key: DecodingKey,
    validation: Validation,
}

impl std::fmt::Debug for JwtVerifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JwtVerifier")
            .field("algorithms", &self.validation.algorithms)
            .field("issuer", &self.validation.iss)
            .field("audience", &self.validation.aud)
            .finish_non_exhaustive()
    }
}

impl JwtVerifier {
    /// A verifier for the key, issuer, audience and leeway of `config`; fails naming the field
    /// when no key is configured or the RS256 public key cannot be read.
    pub fn from_config(config: &AuthConfig) -> Result<Self, AuthError> {
        let verifier = match (&config.hs256_secret, &config.rs256_public_key_pem_path) {
            (Some(secret), None) => Self::hs256(
                secret.expose_secret().as_bytes(),
                &config.issuer,
                &config.audience,
            ),
            (None, Some(path)) => {
                let field = "auth.rs256_public_key_pem_path";
                let pem = std::fs::read(path).map_err(|error| AuthError::Key {
                    field,
                    problem: format!("reading {}: {error}", path.display()),
                })?;
                Self::rs256(&pem, &config.issuer, &config.audience)?
            }
            _ => {
                return Err(AuthError::Key {
                    field: "auth.hs256_secret",
                    problem: "set exactly one of auth.hs256_secret and \
                              auth.rs256_public_key_pem_path"
                        .into(),
                })
            }
        };
        Ok(verifier.with_leeway(config.leeway_secs))
    }

    /// A verifier of HS256 tokens signed with `secret`.
    pub fn hs256(secret: &[u8], issuer: &str, audience: &str) -> Self {
        Self::new(
            DecodingKey::from_secret(secret),
            Algorithm::HS256,
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
        Ok(Self::new(key, Algorithm::RS256, issuer, audience))
    }

    fn new(key: DecodingKey, algorithm: Algorithm, issuer: &str, audience: &str) -> Self {
        let mut validation = Validation::new(algorithm);
        validation.set_issuer(&[issuer]);
        validation.set_audience(&[audience]);
        validation.set_required_spec_claims(REQUIRED_CLAIMS);
        validation.validate_nbf = true;
        Self { key, validation }
    }

    /// Tolerates `seconds` of clock skew on `exp` and `nbf`.
    pub fn with_leeway(mut self, seconds: u64) -> Self {
        self.validation.leeway = seconds;
        self
    }

    /// Checks `token` and returns the principal it names.
    pub fn verify(&self, token: &str) -> Result<Principal, AuthError> {
        let data = jsonwebtoken::decode::<ReceivedClaims>(token, &self.key, &self.validation)?;
        data.claims.into_principal()
    }
}
