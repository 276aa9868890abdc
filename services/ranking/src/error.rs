//! The ranking service's error, and its one mapping to gRPC statuses.

use dti_service_kit::status::{Fault, FieldViolation, InvalidRequest};
use tonic::Status;

/// Why a ranking operation was refused or failed.
#[derive(Debug, thiserror::Error)]
pub enum RankingError {
    /// The caller's request is invalid; every problem is listed.
    #[error("{summary}")]
    Invalid {
        /// What was refused.
        summary: String,
        /// Each invalid field.
        violations: Vec<FieldViolation>,
    },
    /// The round or unit asked for does not exist or is not ranked.
    #[error("{0}")]
    NotFound(String),
    /// The caller may not read this.
    #[error("{0}")]
    PermissionDenied(String),
    /// A database statement failed.
    #[error("{action}: {source}")]
    Database {
        /// What was being done.
        action: &'static str,
        /// The database error.
        source: sqlx::Error,
    },
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
    /// Redis answered in a form the service did not write.
    #[error("unexpected ranking data in Redis: {0}")]
    Unexpected(String),
}

impl RankingError {
    /// Maps a database error of `action`.
    pub fn database(action: &'static str) -> impl FnOnce(sqlx::Error) -> Self {
        move |source| Self::Database { action, source }
    }

    /// Maps a Redis error of `action`.
    pub fn redis(action: &'static str) -> impl FnOnce(redis::RedisError) -> Self {
        move |source| Self::Redis { action, source }
    }

    /// One invalid request field.
    pub fn invalid_field(field: &str, description: impl Into<String>) -> Self {
        InvalidRequest::field(field, description).into()
    }
}

impl From<dti_scores::AccessDenied> for RankingError {
    fn from(denied: dti_scores::AccessDenied) -> Self {
        Self::PermissionDenied(denied.0)
    }
}

impl From<InvalidRequest> for RankingError {
    fn from(invalid: InvalidRequest) -> Self {
        Self::Invalid {
            summary: invalid.summary,
            violations: invalid.violations,
        }
    }
}

impl From<RankingError> for Status {
    fn from(error: RankingError) -> Self {
        let fault = match error {
            RankingError::Invalid {
                summary,
                violations,
            } => Fault::Invalid(InvalidRequest::new(summary, violations)),
            RankingError::NotFound(message) => Fault::NotFound(message),
            RankingError::PermissionDenied(message) => Fault::PermissionDenied(message),
            RankingError::Workflow(error) => Fault::Mapped(error.into()),
            other => Fault::Unexpected(other),
        };
        fault.into_status("ranking")
    }
}
