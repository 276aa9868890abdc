//! The evidence service's errors and their one mapping to gRPC statuses.

use dti_i18n::Message;
use dti_service_kit::service_error::{Refusal, StoreFailure};
use dti_service_kit::status::Fault;
use dti_workflow::WorkflowError;
use tonic::Status;

/// Why an evidence request failed.
#[derive(Debug, thiserror::Error)]
pub enum EvidenceError {
    /// The caller's request was refused (invalid, not found, not theirs, not now).
    #[error(transparent)]
    Refused(#[from] Refusal),
    /// The upload stream broke off or stalled before it ended (why, as the caller reads it);
    /// nothing was stored.
    #[error("upload interrupted: {0}")]
    Interrupted(String),
    /// A stored document no longer matches its recorded hash or size.
    #[error("{0}")]
    Corrupted(String),
    /// Reading rounds or submissions failed.
    #[error(transparent)]
    Workflow(#[from] WorkflowError),
    /// The object store failed.
    #[error("{action}: {source}")]
    Storage {
        /// What was being done.
        action: &'static str,
        /// The object store error.
        source: object_store::Error,
    },
    /// A database statement, the outbox, the audit log or a transaction failed.
    #[error(transparent)]
    Store(#[from] StoreFailure),
}

dti_service_kit::service_error!(EvidenceError);

impl EvidenceError {
    /// Maps an object store error of `action`.
    pub fn storage(action: &'static str) -> impl FnOnce(object_store::Error) -> Self {
        move |source| Self::Storage { action, source }
    }

    /// A short label of the kind of failure, for metrics: the caller's (`invalid`,
    /// `not_found`, `permission_denied`, `not_now`, `interrupted`), the stored document's
    /// (`corrupted`), or the platform's, by what failed: `storage_error` (the object store),
    /// `database_error` (a statement, a transaction or the audit log), `bus_error` (the
    /// outbox), `unexpected` (a stored state this build does not know).
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Refused(Refusal::Invalid(_)) => "invalid",
            Self::Refused(Refusal::NotFound(_)) => "not_found",
            Self::Refused(Refusal::PermissionDenied(_)) => "permission_denied",
            Self::Refused(Refusal::NotNow(_)) => "not_now",
            Self::Interrupted(_) => "interrupted",
            Self::Corrupted(_) => "corrupted",
            Self::Storage { .. } => "storage_error",
            Self::Store(StoreFailure::Bus(_)) => "bus_error",
            Self::Store(_) => "database_error",
            Self::Workflow(error) => workflow_kind(error),
        }
    }
}

/// The metrics label of a workflow error, by whose fault it is (as its status says).
fn workflow_kind(error: &WorkflowError) -> &'static str {
    match error {
        WorkflowError::RoundNotFound(_) | WorkflowError::SubmissionNotFound(_) => "not_found",
        WorkflowError::NotPermitted(_) => "permission_denied",
        WorkflowError::IllegalRound(_) | WorkflowError::IllegalSubmission(_) => "not_now",
        WorkflowError::Database { .. } | WorkflowError::Audit(_) => "database_error",
        WorkflowError::Bus(_) => "bus_error",
        WorkflowError::UnknownStoredState(_) => "unexpected",
    }
}

impl From<EvidenceError> for Status {
    fn from(error: EvidenceError) -> Self {
        let fault = match error {
            EvidenceError::Refused(refusal) => refusal.into(),
            EvidenceError::Interrupted(problem) => Fault::Mapped(Status::aborted(
                Message::new("evidence-upload-interrupted")
                    .arg("problem", problem)
                    .localized(),
            )),
            EvidenceError::Corrupted(detail) => {
                tracing::error!(%detail, "stored evidence is corrupted");
                Fault::Mapped(Status::data_loss(
                    Message::new("evidence-damaged").localized(),
                ))
            }
            EvidenceError::Workflow(error) => Fault::Mapped(error.into()),
            unexpected @ (EvidenceError::Storage { .. } | EvidenceError::Store(_)) => {
                Fault::Unexpected(unexpected)
            }
        };
        fault.into_status("the evidence request")
    }
}
