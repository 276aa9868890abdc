//! `dti-workflow` applies the state machines of `dti_domain::round` to the database, in one
//! place for every service.
//!
//! - [`rounds`]: reading a round, creating it, and [`rounds::transition`]: lock the row, check
//!   the caller's role for the action, ask [`RoundState::apply`](dti_domain::round::RoundState::apply),
//!   write the new state, append the change to the audit log and enqueue
//!   `round.state_changed.v1` in the outbox — all in the caller's transaction.
//! - [`submissions`]: [`submissions::transition`] does the same for one unit's submission
//!   (`SubmissionState::apply`), used by the submission service (edit, submit) and the
//!   verification service (set a lingering draft aside, start, request clarification,
//!   complete).
//!
//! Errors keep "the caller may not", "not allowed now", "not found" and "unexpected" apart, and
//! [`WorkflowError`] maps to a gRPC status in one place.

#![warn(missing_docs)]

pub mod rounds;
pub mod submissions;

use dti_domain::round::{IllegalSubmissionTransition, IllegalTransition};
use dti_i18n::Message;
use tonic::Status;

/// Why a workflow step was refused or failed.
#[derive(Debug, thiserror::Error)]
pub enum WorkflowError {
    /// The round does not exist.
    #[error("round {0} does not exist")]
    RoundNotFound(String),
    /// The submission does not exist.
    #[error("submission {0} does not exist")]
    SubmissionNotFound(String),
    /// The caller's role may not take this action.
    #[error("{0}")]
    NotPermitted(String),
    /// The round's state does not allow the action.
    #[error("{0}")]
    IllegalRound(#[from] IllegalTransition),
    /// The submission's state does not allow the action.
    #[error("{0}")]
    IllegalSubmission(#[from] IllegalSubmissionTransition),
    /// The stored state is not one this build knows (a newer schema?).
    #[error("stored state {0:?} is unknown")]
    UnknownStoredState(String),
    /// A database statement failed.
    #[error("{action}: {source}")]
    Database {
        /// What was being done.
        action: &'static str,
        /// The database error.
        source: sqlx::Error,
    },
    /// The audit log could not be appended.
    #[error(transparent)]
    Audit(#[from] dti_audit::AuditError),
    /// The outbox could not be written.
    #[error(transparent)]
    Bus(#[from] dti_bus::BusError),
}

impl WorkflowError {
    pub(crate) fn database(action: &'static str) -> impl FnOnce(sqlx::Error) -> Self {
        move |source| Self::Database { action, source }
    }
}

impl From<WorkflowError> for Status {
    /// The caller's refusals in the request's language ([`dti_i18n::current_lang`]).
    fn from(error: WorkflowError) -> Self {
        match &error {
            WorkflowError::RoundNotFound(round) => Status::not_found(
                Message::new("workflow-round-not-found")
                    .arg("round", round.as_str())
                    .localized(),
            ),
            WorkflowError::SubmissionNotFound(submission) => Status::not_found(
                Message::new("workflow-submission-not-found")
                    .arg("submission", submission.as_str())
                    .localized(),
            ),
            WorkflowError::NotPermitted(_) => Status::permission_denied(error.to_string()),
            WorkflowError::IllegalRound(illegal) => Status::failed_precondition(
                Message::new("workflow-illegal-round")
                    .arg("action", illegal.action.to_string())
                    .arg("state", illegal.from.to_string())
                    .localized(),
            ),
            WorkflowError::IllegalSubmission(illegal) => Status::failed_precondition(
                Message::new("workflow-illegal-submission")
                    .arg("action", format!("{:?}", illegal.action))
                    .arg("state", format!("{:?}", illegal.from))
                    .localized(),
            ),
            WorkflowError::UnknownStoredState(_)
            | WorkflowError::Database { .. }
            | WorkflowError::Audit(_)
            | WorkflowError::Bus(_) => {
                tracing::error!(%error, "workflow step failed");
                Status::internal(Message::new("workflow-internal").localized())
            }
        }
    }
}
