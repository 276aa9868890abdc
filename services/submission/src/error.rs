//! The submission service's errors and their one mapping to gRPC statuses.

use dti_service_kit::service_error::{Refusal, StoreFailure};
use dti_service_kit::status::Fault;
use dti_workflow::WorkflowError;
use tonic::Status;

/// Why a submission or round request failed.
#[derive(Debug, thiserror::Error)]
pub enum SubmissionError {
    /// The caller's request was refused (invalid, not found, not theirs, not now).
    #[error(transparent)]
    Refused(#[from] Refusal),
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
            SubmissionError::Refused(refusal) => refusal.into(),
            SubmissionError::Workflow(error) => Fault::Mapped(error.into()),
            unexpected @ SubmissionError::Store(_) => Fault::Unexpected(unexpected),
        };
        fault.into_status("the submission request")
    }
}
