//! The ranking service's error, and its one mapping to gRPC statuses.

use dti_service_kit::service_error::{Refusal, StoreFailure};
use dti_service_kit::status::Fault;
use tonic::Status;

/// Why a ranking operation was refused or failed.
#[derive(Debug, thiserror::Error)]
pub enum RankingError {
    /// The caller's request was refused (invalid, not found, not theirs, not now).
    #[error(transparent)]
    Refused(#[from] Refusal),
    /// A database statement, the outbox, the audit log or a transaction failed.
    #[error(transparent)]
    Store(#[from] StoreFailure),
    /// A Redis command failed.
    #[error("{action}: {source}")]
    Redis {
        /// What was being done.
        action: &'static str,
        /// The Redis error.
        source: redis::RedisError,
    },
    /// The score tables could not be read.
    #[error(transparent)]
    Scores(#[from] dti_scores::ScoresError),
    /// The engine refused stored inputs.
    #[error(transparent)]
    Engine(#[from] dti_engine::EngineError),
    /// A round could not be read.
    #[error(transparent)]
    Workflow(#[from] dti_workflow::WorkflowError),
    /// A blocking ranking task did not finish.
    #[error("ranking task failed: {0}")]
    Task(#[from] tokio::task::JoinError),
    /// The round's framework is not in this process's catalogue yet (an operator has just
    /// added it and it is still loading); the work is tried again.
    #[error("framework {0} is not loaded here yet")]
    FrameworkNotLoaded(String),
    /// Redis answered in a form the service did not write.
    #[error("unexpected ranking data in Redis: {0}")]
    Unexpected(String),
}

dti_service_kit::service_error!(RankingError);

impl RankingError {
    /// Maps a Redis error of `action`.
    pub fn redis(action: &'static str) -> impl FnOnce(redis::RedisError) -> Self {
        move |source| Self::Redis { action, source }
    }
}

impl From<RankingError> for Status {
    fn from(error: RankingError) -> Self {
        let fault = match error {
            RankingError::Refused(refusal) => refusal.into(),
            RankingError::Workflow(error) => Fault::Mapped(error.into()),
            other => Fault::Unexpected(other),
        };
        fault.into_status("ranking")
    }
}
