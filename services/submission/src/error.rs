//! The submission service's errors and their one mapping to gRPC statuses.

use dti_service_kit::service_error::DatabaseFailure;
use dti_service_kit::status::{Fault, InvalidRequest};
use dti_workflow::WorkflowError;
use tonic::Status;

/// Why a submission or round request failed.
#[derive(Debug, thiserror::Error)]
pub enum SubmissionError {
    /// The request or its values are invalid; nothing was stored.
    #[error(transparent)]
    Invalid(#[from] InvalidRequest),
    /// A submission, round or version does not exist.
    #[error("{0}")]
    NotFound(String),
    /// The caller may not touch this data.
    #[error("{0}")]
    PermissionDenied(String),
    /// The request is valid but not allowed now (deadline passed, round closed, …).
    #[error("{0}")]
    NotNow(String),
    /// A round or submission state change was refused or failed.
    #[error(transparent)]
    Workflow(#[from] WorkflowError),
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

dti_service_kit::service_error!(SubmissionError);

impl From<SubmissionError> for Status {
    fn from(error: SubmissionError) -> Self {
        let fault = match error {
            SubmissionError::Invalid(invalid) => Fault::Invalid(invalid),
            SubmissionError::NotFound(message) => Fault::NotFound(message),
            SubmissionError::PermissionDenied(message) => Fault::PermissionDenied(message),
            SubmissionError::NotNow(message) => Fault::NotNow(message),
            SubmissionError::Workflow(error) => Fault::Mapped(error.into()),
            unexpected @ (SubmissionError::Database(_)
            | SubmissionError::Bus(_)
            | SubmissionError::Audit(_)
            | SubmissionError::Transaction(_)) => Fault::Unexpected(unexpected),
        };
        fault.into_status("the submission request")
    }
}
