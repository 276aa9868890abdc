//! `dti-auth` owns who may call DTI services and what they may do.
//!
//! - [`JwtVerifier`] checks a JWT (HS256 secret, RS256 public key, or the keys of the city's
//!   OpenID Connect provider, from [`dti_config::AuthConfig`]; signature, issuer, audience,
//!   expiry) and turns its claims — read where the configuration says the provider puts role,
//!   unit and department — into a [`Principal`] `{ subject, role, scope }`.
//! - `jwks` (private) caches the provider's key set: discovery or a configured JWKS URL, keys
//!   chosen by `kid`, periodic refresh and a rate-limited refetch on an unknown `kid`, all in
//!   a background task so that verification never waits on the network.
//! - [`grpc`] reads `authorization: Bearer <jwt>` from tonic requests: an
//!   [`grpc::AuthInterceptor`] for whole services and [`grpc::authenticate`] for single
//!   handlers; failures become `Status::unauthenticated`.
//! - [`Principal`]'s `require_*` checks return `Status::permission_denied`.
//! - [`AccessDenied`] says why a caller may not read or touch something, in its language; each
//!   service answers it with `PermissionDenied`.
//! - [`TokenMinter`] signs tokens (development tokens of `dtictl token`, and tests).
//!
//! Roles and their scope: `unit_submitter` acts for one unit (claim `unit_id`), `data_owner`
//! for one department (claim `department_id`); `verifier`, `approver`, `operator` and
//! `national_sync` are city-wide and carry no scope claim; `public_reader` (city-wide too) is
//! refused by every role check and reads only what every authenticated caller may read.

#![warn(missing_docs)]

mod claims;
mod error;
pub mod grpc;
mod jwks;
mod mint;
mod principal;
mod verify;

pub use claims::Claims;
pub use error::AuthError;
pub use mint::TokenMinter;
pub use principal::{AccessDenied, Principal, Role, Scope};
pub use verify::JwtVerifier;
