//! The verification service's errors and their one mapping to gRPC statuses.

use dti_service_kit::service_error::{Refusal, StoreFailure};
use dti_service_kit::status::Fault;
use dti_workflow::WorkflowError;
use tonic::Status;

use crate::inputs::InputsError;

/// Why a verification, approval or publication request failed.
#[derive(Debug, thiserror::Error)]
pub enum VerificationError {
    /// The caller's request was refused (invalid, not found, not theirs, not now).
    #[error(transparent)]
    Refused(#[from] Refusal),
    /// A round or submission state change was refused or failed.
    #[error(transparent)]
    Workflow(#[from] WorkflowError),
    /// The round's stored inputs could not be read or scored.
    #[error(transparent)]
    Inputs(#[from] InputsError),
    /// Stored data is not what this build can read.
    #[error("{0}")]
    Corrupted(String),
    /// A database statement, the outbox, the audit log or a transaction failed.
    #[error(transparent)]
    Store(#[from] StoreFailure),
}

dti_service_kit::service_error!(VerificationError);

impl From<VerificationError> for Status {
    fn from(error: VerificationError) -> Self {
        let fault = match error {
            VerificationError::Refused(refusal) => refusal.into(),
            VerificationError::Workflow(error) => Fault::Mapped(error.into()),
            unexpected @ (VerificationError::Inputs(_)
            | VerificationError::Corrupted(_)
            | VerificationError::Store(_)) => Fault::Unexpected(unexpected),
        };
        fault.into_status("the verification request")
    }
}
