//! The verification service's errors and their one mapping to gRPC statuses.

use dti_service_kit::status::{Fault, FieldViolation, InvalidRequest};
use dti_workflow::WorkflowError;
use tonic::Status;

use crate::inputs::InputsError;

/// Why a verification, approval or publication request failed.
#[derive(Debug, thiserror::Error)]
pub enum VerificationError {
    /// The request is invalid; nothing was stored.
    #[error("{summary}")]
    Invalid {
        /// What was refused.
        summary: String,
        /// Every problem, naming unit, indicator and variable or the request field.
        violations: Vec<FieldViolation>,
    },
    /// A round, submission, publication or objection does not exist.
    #[error("{0}")]
    NotFound(String),
    /// The caller may not touch this data.
    #[error("{0}")]
    PermissionDenied(String),
    /// The request is valid but the round's or submission's state does not allow it now.
    #[error("{0}")]
    NotNow(String),
    /// A round or submission state change was refused or failed.
    #[error(transparent)]
    Workflow(#[from] WorkflowError),
    /// The round's stored inputs could not be read or scored.
    #[error(transparent)]
    Inputs(#[from] InputsError),
    /// Stored data is not what this build can read.
    #[error("{0}")]
    Corrupted(String),
    /// A database statement failed.
    #[error("{action}: {source}")]
    Database {
        /// What was being done.
        action: &'static str,
        /// The database error.
        source: sqlx::Error,
    },
    /// The outbox could not be written.
    #[error(transparent)]
    Bus(#[from] dti_bus::BusError),
    /// The audit log could not be appended.
    #[error(transparent)]
    Audit(#[from] dti_audit::AuditError),
}

impl VerificationError {
    /// One invalid request field.
    pub fn invalid_field(field: &str, description: impl Into<String>) -> Self {
        InvalidRequest::field(field, description).into()
    }

    /// Maps a database error of `action`.
    pub fn database(action: &'static str) -> impl FnOnce(sqlx::Error) -> Self {
        move |source| Self::Database { action, source }
    }
}

impl From<InvalidRequest> for VerificationError {
    fn from(invalid: InvalidRequest) -> Self {
        Self::Invalid {
            summary: invalid.summary,
            violations: invalid.violations,
        }
    }
}

impl From<VerificationError> for Status {
    fn from(error: VerificationError) -> Self {
        let fault = match error {
            VerificationError::Invalid {
                summary,
                violations,
            } => Fault::Invalid(InvalidRequest::new(summary, violations)),
            VerificationError::NotFound(message) => Fault::NotFound(message),
            VerificationError::PermissionDenied(message) => Fault::PermissionDenied(message),
            VerificationError::NotNow(message) => Fault::NotNow(message),
            VerificationError::Workflow(error) => Fault::Mapped(error.into()),
            unexpected @ (VerificationError::Inputs(_)
            | VerificationError::Corrupted(_)
            | VerificationError::Database { .. }
            | VerificationError::Bus(_)
            | VerificationError::Audit(_)) => Fault::Unexpected(unexpected),
        };
        fault.into_status("the verification request")
    }
}
