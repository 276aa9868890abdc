//! What every service's error has in common, written once: the caller's invalid request
//! ([`InvalidRequest`], taken in by `#[from]`), a failure to store ([`StoreFailure`]: a
//! database statement, saying what was being done, the outbox, the audit log or a
//! transaction), and the constructors handlers and stores use for them, generated on each
//! service's own enum by [`service_error!`]:
//!
//! ```
//! use dti_service_kit::service_error::StoreFailure;
//! use dti_service_kit::status::InvalidRequest;
//!
//! #[derive(Debug, thiserror::Error)]
//! enum ExampleError {
//!     #[error(transparent)]
//!     Invalid(#[from] InvalidRequest),
//!     #[error(transparent)]
//!     Store(#[from] StoreFailure),
//! }
//! dti_service_kit::service_error!(ExampleError);
//!
//! let invalid = ExampleError::invalid_field("round.year", "must be set");
//! assert_eq!(invalid.to_string(), "invalid request");
//! let failed = ExampleError::database("reading rounds")(sqlx::Error::RowNotFound);
//! assert!(failed.to_string().starts_with("reading rounds: "));
//! ```
//!
//! Each service keeps its own enum for its own cases and maps it to a status once
//! (`From<ServiceError> for Status`, through [`crate::status::Fault`]).

pub use dti_audit::AuditError;
pub use dti_bus::BusError;
pub use dti_db::DbError;
use dti_proto::request::FieldError;

use crate::status::InvalidRequest;

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

/// Gives a service error (an enum with `#[from] InvalidRequest` and `#[from] StoreFailure`
/// cases) its `invalid_field` and `database` constructors, and takes in a parser's
/// [`FieldError`] as an invalid request and each kind of [`StoreFailure`] as a store failure. An optional visibility comes first
/// (`service_error!(pub(crate) SyncError)`); the default is `pub`.
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

            /// Maps a database error of `action`.
            $vis fn database(action: &'static str) -> impl FnOnce(::sqlx::Error) -> Self {
                $crate::service_error::database(action)
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
