//! The submission service's errors and their one mapping to gRPC statuses.

use dti_service_kit::service_error::StoreFailure;
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
    /// A database statement, the outbox, the audit log or a transaction failed.
    #[error(transparent)]
    Store(#[from] StoreFailure),
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
            unexpected @ SubmissionError::Store(_) => Fault::Unexpected(unexpected),
        };
        fault.into_status("the submission request")
    }
}
