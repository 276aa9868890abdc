//! Authentication of tonic requests from `authorization: Bearer <jwt>`. A refusal is written
//! in the request's language ([`dti_i18n::current_lang`]); the log keeps the English reason.

use std::sync::Arc;

use tonic::metadata::MetadataMap;
use tonic::{Request, Status};

use dti_i18n::Message;

use crate::{AuthError, JwtVerifier, Principal};

/// Metadata key of the bearer token.
const AUTHORIZATION: &str = "authorization";

/// The principal of the bearer token in `metadata`, or `Status::unauthenticated` when the token
/// is missing, malformed, expired, forged or meant for someone else (`Status::unavailable`
/// while the identity provider's keys are not loaded yet).
pub fn authenticate(verifier: &JwtVerifier, metadata: &MetadataMap) -> Result<Principal, Status> {
    let token = bearer_token(metadata).map_err(unauthenticated)?;
    verifier.verify(token).map_err(unauthenticated)
}

/// The token of an `authorization: Bearer <token>` entry.
fn bearer_token(metadata: &MetadataMap) -> Result<&str, AuthError> {
    let value = metadata.get(AUTHORIZATION).ok_or(AuthError::MissingToken)?;
    let value = value.to_str().map_err(|_| AuthError::MalformedHeader)?;
    let (scheme, token) = value.split_once(' ').ok_or(AuthError::MalformedHeader)?;
    if !scheme.eq_ignore_ascii_case("bearer") || token.trim().is_empty() {
        return Err(AuthError::MalformedHeader);
    }
    Ok(token.trim())
}

/// Maps a rejected token to `Status::unauthenticated` (or `Status::unavailable` when the
/// identity provider's keys are not loaded yet, which a retry may overcome), logging why.
fn unauthenticated(error: AuthError) -> Status {
    tracing::debug!(%error, "rejected request credentials");
    let message = refusal(&error).localized();
    match error {
        AuthError::KeysUnavailable => Status::unavailable(message),
        _ => Status::unauthenticated(message),
    }
}

/// What a caller is told about a rejected token.
fn refusal(error: &AuthError) -> Message {
    match error {
        AuthError::MissingToken => Message::new("auth-missing-token"),
        AuthError::MalformedHeader => Message::new("auth-malformed-header"),
        AuthError::Expired => Message::new("auth-expired"),
        AuthError::NotYetValid => Message::new("auth-not-yet-valid"),
        AuthError::InvalidSignature => Message::new("auth-bad-signature"),
        AuthError::WrongIssuer => Message::new("auth-wrong-issuer"),
        AuthError::WrongAudience => Message::new("auth-wrong-audience"),
        AuthError::WrongTenant { token, served } => Message::new("auth-wrong-tenant")
            .arg("tenant", token.as_str())
            .arg("served", served.as_str()),
        AuthError::MissingClaim(claim) => {
            Message::new("auth-missing-claim").arg("claim", claim.as_str())
        }
        AuthError::InvalidClaims(problem) => {
            Message::new("auth-invalid-claims").arg("problem", problem.as_str())
        }
        AuthError::Malformed(problem) => {
            Message::new("auth-malformed").arg("problem", problem.as_str())
        }
        AuthError::UnknownKey(kid) => Message::new("auth-unknown-key").arg("kid", kid.as_str()),
        AuthError::KeysUnavailable => Message::new("auth-keys-unavailable"),
        // Never a request's token: a key or signing problem of the service itself.
        AuthError::Key { .. } | AuthError::Signing(_) => Message::new("auth-unusable"),
    }
}

/// The principal placed in the request extensions by [`AuthInterceptor`].
pub fn principal<T>(request: &Request<T>) -> Result<&Principal, Status> {
    request
        .extensions()
        .get::<Principal>()
        .ok_or_else(|| Status::unauthenticated(Message::new("auth-not-authenticated").localized()))
}

/// Server interceptor that authenticates every request and stores its [`Principal`] in the
/// request extensions, for [`principal`] to read in handlers:
///
/// ```text
/// let service = SubmissionServiceServer::with_interceptor(handler, AuthInterceptor::new(verifier));
/// ```
#[derive(Debug, Clone)]
pub struct AuthInterceptor {
    verifier: Arc<JwtVerifier>,
}

impl AuthInterceptor {
    /// An interceptor verifying tokens with `verifier`.
    pub fn new(verifier: JwtVerifier) -> Self {
        Self {
            verifier: Arc::new(verifier),
        }
    }
}

impl tonic::service::Interceptor for AuthInterceptor {
    fn call(&mut self, mut request: Request<()>) -> Result<Request<()>, Status> {
        let principal = authenticate(&self.verifier, request.metadata())?;
        request.extensions_mut().insert(principal);
        Ok(request)
    }
}
