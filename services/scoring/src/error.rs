//! The scoring service's error, and its one mapping to gRPC statuses.

use dti_service_kit::service_error::{Refusal, StoreFailure};
use dti_service_kit::status::Fault;
use tonic::Status;

/// Why a scoring operation was refused or failed.
#[derive(Debug, thiserror::Error)]
pub enum ScoringError {
    /// The caller's request was refused (invalid, not found, not theirs, not now).
    #[error(transparent)]
    Refused(#[from] Refusal),
    /// Values stored by another service are not valid for the round's framework (they are
    /// validated before they are stored, so this is unexpected).
    #[error("stored values of {place} are invalid: {problems}")]
    StoredInput {
        /// Round and unit.
        place: String,
        /// Every problem, naming indicator and variable.
        problems: String,
    },
    /// A min-max x cannot be ordered by the score tables' sort key (a denominator beyond any
    /// sum of counts a framework defines).
    #[error("x = {x} of indicator {indicator} is too fine to order")]
    Unorderable {
        /// The indicator.
        indicator: String,
        /// The value.
        x: String,
    },
    /// A database statement, the outbox, the audit log or a transaction failed.
    #[error(transparent)]
    Store(#[from] StoreFailure),
    /// The score tables could not be read.
    #[error(transparent)]
    Scores(#[from] dti_scores::ScoresError),
    /// The engine refused values it should have accepted.
    #[error(transparent)]
    Engine(#[from] dti_engine::EngineError),
    /// A round could not be read.
    #[error(transparent)]
    Workflow(#[from] dti_workflow::WorkflowError),
    /// A stored document could not be encoded.
    #[error("encoding {what}: {source}")]
    Encode {
        /// What was encoded.
        what: &'static str,
        /// The error.
        source: serde_json::Error,
    },
    /// The round's framework is not in this process's catalogue yet (an operator has just
    /// added it and it is still loading); the work is tried again.
    #[error("framework {0} is not loaded here yet")]
    FrameworkNotLoaded(String),
    /// A blocking scoring task did not finish.
    #[error("scoring task failed: {0}")]
    Task(#[from] tokio::task::JoinError),
}

dti_service_kit::service_error!(ScoringError);

impl From<ScoringError> for Status {
    fn from(error: ScoringError) -> Self {
        let fault = match error {
            ScoringError::Refused(refusal) => refusal.into(),
            ScoringError::Workflow(error) => Fault::Mapped(error.into()),
            other => Fault::Unexpected(other),
        };
        fault.into_status("scoring")
    }
}
