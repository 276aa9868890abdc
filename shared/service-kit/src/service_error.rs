//! What every service's error has in common, written once: the caller's request refused
//! ([`Refusal`]: invalid, naming every field; not found; not the caller's; not allowed now), a
//! failure to store ([`StoreFailure`]: a database statement, saying what was being done, the
//! outbox, the audit log or a transaction), and the constructors handlers and stores use for
//! them, generated on each service's own enum by [`service_error!`]:
//!
//! ```
//! use dti_service_kit::service_error::{Refusal, StoreFailure};
//!
//! #[derive(Debug, thiserror::Error)]
//! enum ExampleError {
//!     #[error(transparent)]
//!     Refused(#[from] Refusal),
//!     #[error(transparent)]
//!     Store(#[from] StoreFailure),
//! }
//! dti_service_kit::service_error!(ExampleError);
//!
//! let invalid = ExampleError::invalid_field("round.year", "must be set");
//! assert_eq!(invalid.to_string(), "invalid request");
//! let missing = ExampleError::not_found("no round 2023/hcm-2023-district".into());
//! assert!(matches!(missing, ExampleError::Refused(Refusal::NotFound(_))));
//! let failed = ExampleError::database("reading rounds")(sqlx::Error::RowNotFound);
//! assert!(failed.to_string().starts_with("reading rounds: "));
//! ```
//!
//! Each service keeps its own enum for its own cases and maps it to a status once
//! (`From<ServiceError> for Status`, through [`crate::status::Fault`], which takes a
//! [`Refusal`] as it is).

pub use dti_audit::AuditError;
pub use dti_auth::AccessDenied;
pub use dti_bus::BusError;
pub use dti_db::DbError;
use dti_proto::request::FieldError;

use crate::status::InvalidRequest;

/// The caller's request refused: the same four answers in every service.
#[derive(Debug, thiserror::Error)]
pub enum Refusal {
    /// The request or its values are invalid (every violation listed); nothing was stored.
    #[error(transparent)]
    Invalid(#[from] InvalidRequest),
    /// What was asked for does not exist.
    #[error("{0}")]
    NotFound(String),
    /// The caller may not touch this data.
    #[error("{0}")]
    PermissionDenied(String),
    /// The request is valid but not allowed now (deadline passed, round closed, state moved on).
    #[error("{0}")]
    NotNow(String),
}

impl From<AccessDenied> for Refusal {
    fn from(denied: AccessDenied) -> Self {
        Self::PermissionDenied(denied.0)
    }
}

/// A database statement that failed: what was being done, and the error.
#[derive(Debug, thiserror::Error)]
#[error("{action}: {source}")]
pub struct DatabaseFailure {
    /// What was being done, e.g. `reading the round`.
    pub action: &'static str,
    /// The database error.
    #[source]
    pub source: sqlx::Error,
}

/// Storing a change failed; never the caller's fault.
#[derive(Debug, thiserror::Error)]
pub enum StoreFailure {
    /// A database statement failed.
    #[error(transparent)]
    Database(#[from] DatabaseFailure),
    /// The outbox could not be written.
    #[error(transparent)]
    Bus(#[from] dti_bus::BusError),
    /// The audit log could not be appended.
    #[error(transparent)]
    Audit(#[from] dti_audit::AuditError),
    /// A transaction could not begin or commit.
    #[error(transparent)]
    Transaction(#[from] dti_db::DbError),
}

/// Maps a database error of `action` into a service error with a [`DatabaseFailure`] case.
pub fn database<E: From<DatabaseFailure>>(action: &'static str) -> impl FnOnce(sqlx::Error) -> E {
    move |source| DatabaseFailure { action, source }.into()
}

/// One invalid request field, as a service error with an [`InvalidRequest`] case.
pub fn invalid_field<E: From<InvalidRequest>>(field: &str, description: impl Into<String>) -> E {
    InvalidRequest::field(field, description).into()
}

/// A request field that failed to parse, as a service error with an [`InvalidRequest`] case.
pub fn invalid<E: From<InvalidRequest>>(error: FieldError) -> E {
    InvalidRequest::from(error).into()
}

/// Gives a service error (an enum with `#[from] Refusal` and `#[from] StoreFailure` cases) its
/// `invalid_field`, `not_found`, `permission_denied`, `not_now` and `database` constructors,
/// and takes in an [`InvalidRequest`], an [`AccessDenied`] and a parser's [`FieldError`] as a
/// refusal and each kind of [`StoreFailure`] as a store failure. An optional visibility comes
/// first (`service_error!(pub(crate) SyncError)`); the default is `pub`.
#[macro_export]
macro_rules! service_error {
    (@store $error:ident, $failure:ty) => {
        impl From<$failure> for $error {
            fn from(error: $failure) -> Self {
                $crate::service_error::StoreFailure::from(error).into()
            }
        }
    };
    ($error:ident) => {
        $crate::service_error!(pub $error);
    };
    ($vis:vis $error:ident) => {
        impl $error {
            /// One invalid request field.
            $vis fn invalid_field(field: &str, description: impl Into<String>) -> Self {
                $crate::service_error::invalid_field(field, description)
            }

            /// What was asked for does not exist ([`Refusal::NotFound`]).
            #[allow(dead_code)]
            $vis fn not_found(message: String) -> Self {
                $crate::service_error::Refusal::NotFound(message).into()
            }

            /// The caller may not touch this data ([`Refusal::PermissionDenied`]).
            #[allow(dead_code)]
            $vis fn permission_denied(message: String) -> Self {
                $crate::service_error::Refusal::PermissionDenied(message).into()
            }

            /// Valid, but not allowed now ([`Refusal::NotNow`]).
            #[allow(dead_code)]
            $vis fn not_now(message: String) -> Self {
                $crate::service_error::Refusal::NotNow(message).into()
            }

            /// Maps a database error of `action`.
            $vis fn database(action: &'static str) -> impl FnOnce(::sqlx::Error) -> Self {
                $crate::service_error::database(action)
            }
        }

        impl From<$crate::status::InvalidRequest> for $error {
            fn from(invalid: $crate::status::InvalidRequest) -> Self {
                $crate::service_error::Refusal::from(invalid).into()
            }
        }

        impl From<$crate::service_error::AccessDenied> for $error {
            fn from(denied: $crate::service_error::AccessDenied) -> Self {
                $crate::service_error::Refusal::from(denied).into()
            }
        }

        impl From<::dti_proto::request::FieldError> for $error {
            fn from(error: ::dti_proto::request::FieldError) -> Self {
                $crate::service_error::invalid(error)
            }
        }

        $crate::service_error!(@store $error, $crate::service_error::DatabaseFailure);
        $crate::service_error!(@store $error, $crate::service_error::BusError);
        $crate::service_error!(@store $error, $crate::service_error::AuditError);
        $crate::service_error!(@store $error, $crate::service_error::DbError);
    };
}
