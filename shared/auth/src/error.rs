//! The error type of token verification and minting.

/// Why a token was rejected, or a key could not be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuthError {
    /// The request carries no `authorization` metadata.
    #[error("missing authorization bearer token")]
    MissingToken,
    /// The `authorization` value is not `Bearer <token>`.
    #[error("authorization must be `Bearer <token>`")]
    MalformedHeader,
    /// The token's `exp` has passed.
    #[error("token expired")]
    Expired,
    /// The token is not valid yet (`nbf`).
    #[error("token not valid yet")]
    NotYetValid,
    /// The signature does not match the configured key (forged or foreign token).
    #[error("token signature is invalid")]
    InvalidSignature,
    /// The `iss` claim is not the configured issuer.
    #[error("token issuer is not accepted")]
    WrongIssuer,
    /// The `aud` claim does not name the configured audience.
    #[error("token audience is not accepted")]
    WrongAudience,
    /// The token was issued for another tenant (province) than the one this service serves.
    #[error("token is for tenant `{token}`; this service serves tenant `{served}`")]
    WrongTenant {
        /// The tenant the token names.
        token: String,
        /// The tenant the service serves.
        served: String,
    },
    /// A required claim is absent.
    #[error("token lacks the `{0}` claim")]
    MissingClaim(String),
    /// The claims are present but inconsistent, e.g. a unit submitter without `unit_id`.
    #[error("token claims are invalid: {0}")]
    InvalidClaims(String),
    /// The token is not a well-formed JWT, or uses another algorithm.
    #[error("token is malformed: {0}")]
    Malformed(String),
    /// The token names a key (`kid`) the identity provider's key set lacks; a refetch of the
    /// set has been asked for, so a retry may succeed once the provider's new key is loaded.
    #[error("token key `{0}` is not among the identity provider's keys")]
    UnknownKey(String),
    /// The identity provider's keys have not been loaded yet (its first fetch has not
    /// succeeded); a retry may succeed.
    #[error("the identity provider's keys are not loaded yet")]
    KeysUnavailable,
    /// The configured key cannot be used.
    #[error("auth key ({field}): {problem}")]
    Key {
        /// Configuration field naming the key, e.g. `auth.rs256_public_key_pem_path`.
        field: &'static str,
        /// What is wrong with it.
        problem: String,
    },
    /// Signing a token failed.
    #[error("signing token: {0}")]
    Signing(String),
}

impl From<jsonwebtoken::errors::Error> for AuthError {
    fn from(error: jsonwebtoken::errors::Error) -> Self {
        use jsonwebtoken::errors::ErrorKind;
        match error.kind() {
            ErrorKind::ExpiredSignature => Self::Expired,
            ErrorKind::ImmatureSignature => Self::NotYetValid,
            ErrorKind::InvalidSignature => Self::InvalidSignature,
            ErrorKind::InvalidIssuer => Self::WrongIssuer,
            ErrorKind::InvalidAudience => Self::WrongAudience,
            ErrorKind::MissingRequiredClaim(claim) => Self::MissingClaim(claim.clone()),
            ErrorKind::Json(json) => Self::InvalidClaims(json.to_string()),
            _ => Self::Malformed(error.to_string()),
        }
    }
}
