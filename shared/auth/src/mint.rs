//! Signing DTI access tokens (development tokens and tests).

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use dti_config::AuthConfig;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use secrecy::ExposeSecret;

use crate::{AuthError, Claims, Principal};

/// Signs tokens for principals with one key, issuer and audience.
#[derive(Clone)]
pub struct TokenMinter {
    key: EncodingKey,
    algorithm: Algorithm,
    issuer: String,
    audience: String,
    tenant: Option<String>,
}

impl std::fmt::Debug for TokenMinter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenMinter")
            .field("algorithm", &self.algorithm)
            .field("issuer", &self.issuer)
            .field("audience", &self.audience)
            .field("tenant", &self.tenant)
            .finish_non_exhaustive()
    }
}

impl TokenMinter {
    /// A minter signing HS256 with `secret`.
    pub fn hs256(secret: &[u8], issuer: &str, audience: &str) -> Self {
        Self {
            key: EncodingKey::from_secret(secret),
            algorithm: Algorithm::HS256,
            issuer: issuer.to_owned(),
            audience: audience.to_owned(),
            tenant: None,
        }
    }

    /// A minter signing RS256 with the private key `private_key_pem`.
    pub fn rs256(private_key_pem: &[u8], issuer: &str, audience: &str) -> Result<Self, AuthError> {
        let key = EncodingKey::from_rsa_pem(private_key_pem).map_err(|error| AuthError::Key {
            field: "rs256 private key",
            problem: error.to_string(),
        })?;
        Ok(Self {
            key,
            algorithm: Algorithm::RS256,
            issuer: issuer.to_owned(),
            audience: audience.to_owned(),
            tenant: None,
        })
    }

    /// A minter matching a service's HS256 configuration (RS256 needs the private key, which
    /// services never hold: use [`TokenMinter::rs256`]).
    pub fn from_config(config: &AuthConfig) -> Result<Self, AuthError> {
        let secret = config.hs256_secret.as_ref().ok_or_else(|| AuthError::Key {
            field: "auth.hs256_secret",
            problem: "minting from configuration needs the HS256 secret".into(),
        })?;
        Ok(Self::hs256(
            secret.expose_secret().as_bytes(),
            &config.issuer,
            &config.audience,
        )
        .for_tenant(config.tenant.as_deref()))
    }

    /// The same minter, its tokens carrying `tenant` (in the `tenant` claim), or none.
    pub fn for_tenant(self, tenant: Option<&str>) -> Self {
        Self {
            tenant: tenant.map(str::to_owned),
            ..self
        }
    }

    /// A signed token for `principal`, valid from now for `ttl`.
    pub fn mint(&self, principal: &Principal, ttl: Duration) -> Result<String, AuthError> {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_err(|error| AuthError::Signing(format!("system clock before 1970: {error}")))?
            .as_secs();
        self.mint_at(principal, now, now.saturating_add(ttl.as_secs()))
    }

    /// A signed token for `principal` with explicit issue and expiry times (Unix seconds).
    pub fn mint_at(&self, principal: &Principal, iat: u64, exp: u64) -> Result<String, AuthError> {
        let (unit_id, department_id) = Claims::scope_claims(principal);
        let claims = Claims {
            sub: principal.subject.clone(),
            role: principal.role,
            unit_id,
            department_id,
            tenant: self.tenant.clone(),
            iss: self.issuer.clone(),
            aud: self.audience.clone(),
            exp,
            iat,
        };
        jsonwebtoken::encode(&Header::new(self.algorithm), &claims, &self.key)
            .map_err(|error| AuthError::Signing(error.to_string()))
    }
}
