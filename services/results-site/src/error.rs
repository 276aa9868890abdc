//! What a page request can fail with, and its HTTP answer (a short page in the reader's
//! language for people, the same message as text for tools).

use http::StatusCode;

use crate::snapshot::SnapshotError;
use crate::source::SourceError;

/// A page or download that cannot be served.
#[derive(Debug, thiserror::Error)]
pub enum SiteError {
    /// A query parameter or path segment is malformed (400); the message names it.
    #[error("{0}")]
    BadRequest(String),
    /// No such published year, cohort, revision or unit (404).
    #[error("{0}")]
    NotFound(String),
    /// The verification service did not answer, or answered something unusable (503).
    #[error("{0}")]
    Unavailable(String),
}

impl SiteError {
    /// The HTTP status of the answer.
    pub fn status(&self) -> StatusCode {
        match self {
            Self::BadRequest(_) => StatusCode::BAD_REQUEST,
            Self::NotFound(_) => StatusCode::NOT_FOUND,
            Self::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
        }
    }
}

impl From<SourceError> for SiteError {
    fn from(error: SourceError) -> Self {
        match error {
            SourceError::NotPublished(message) => Self::NotFound(message),
            SourceError::Unavailable(message) => Self::Unavailable(message),
        }
    }
}

impl From<SnapshotError> for SiteError {
    fn from(error: SnapshotError) -> Self {
        Self::Unavailable(error.to_string())
    }
}
