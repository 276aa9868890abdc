//! The verification service's errors and their one mapping to gRPC statuses.

use dti_service_kit::service_error::StoreFailure;
use dti_service_kit::status::{Fault, InvalidRequest};
use dti_workflow::WorkflowError;
use tonic::Status;

use crate::inputs::InputsError;

/// Why a verification, approval or publication request failed.
#[derive(Debug, thiserror::Error)]
pub enum VerificationError {
    /// The request is invalid; nothing was stored.
    #[error(transparent)]
    Invalid(#[from] InvalidRequest),
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
    /// A database statement, the outbox, the audit log or a transaction failed.
    #[error(transparent)]
    Store(#[from] StoreFailure),
}

dti_service_kit::service_error!(VerificationError);

impl From<VerificationError> for Status {
    fn from(error: VerificationError) -> Self {
        let fault = match error {
            VerificationError::Invalid(invalid) => Fault::Invalid(invalid),
            VerificationError::NotFound(message) => Fault::NotFound(message),
            VerificationError::PermissionDenied(message) => Fault::PermissionDenied(message),
            VerificationError::NotNow(message) => Fault::NotNow(message),
            VerificationError::Workflow(error) => Fault::Mapped(error.into()),
            unexpected @ (VerificationError::Inputs(_)
            | VerificationError::Corrupted(_)
            | VerificationError::Store(_)) => Fault::Unexpected(unexpected),
        };
        fault.into_status("the verification request")
    }
}
