//! What a page request can fail with, and its HTTP answer (a short page in the reader's
//! language for people, the same message as text for tools). What the reader is told is a
//! message of the catalogues ([`SiteError::message`]); `Display` is English, for logs.

use dti_i18n::Message;
use http::StatusCode;

use crate::snapshot::SnapshotError;
use crate::source::SourceError;

/// A page or download that cannot be served.
#[derive(Debug, thiserror::Error)]
pub enum SiteError {
    /// A query parameter or path segment is malformed (400); the message names it.
    #[error("{0}")]
    BadRequest(Message),
    /// No such published year, cohort, revision or unit (404).
    #[error("{0}")]
    NotFound(Message),
    /// The verification service did not answer, or answered something unusable (503); the
    /// cause (English) is logged, the reader is told to come back later.
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

    /// What the reader is told, in the language of the page it is shown on.
    pub fn message(&self) -> Message {
        match self {
            Self::BadRequest(message) | Self::NotFound(message) => message.clone(),
            Self::Unavailable(_) => Message::new("site-unavailable"),
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
