//! The service's error type, keeping the caller's mistakes (invalid input, not theirs, not
//! found, not now) apart from unexpected failures, and its ONE mapping to `tonic::Status`:
//! internal details are logged, never returned.

use dti_service_kit::service_error::{Refusal, StoreFailure};
use dti_service_kit::status::Fault;
use tonic::Status;

use crate::combine::CombineError;

/// Why a national-sync operation was refused or failed.
#[derive(Debug, thiserror::Error)]
pub enum NationalSyncError {
    /// The caller's request was refused (invalid, not found, not theirs, not now).
    #[error(transparent)]
    Refused(#[from] Refusal),
    /// A database statement, the outbox, the audit log or a transaction failed.
    #[error(transparent)]
    Store(#[from] StoreFailure),
    /// Stored parts could not be combined (stored data no longer fits the framework).
    #[error("combining the parts of {item}: {source}")]
    Combine {
        /// The item.
        item: String,
        /// Why.
        source: CombineError,
    },
    /// Stored data is not what this build expects.
    #[error("stored data is inconsistent: {0}")]
    Corrupt(String),
}

dti_service_kit::service_error!(pub(crate) NationalSyncError);

impl From<NationalSyncError> for Status {
    fn from(error: NationalSyncError) -> Self {
        let fault = match error {
            NationalSyncError::Refused(refusal) => refusal.into(),
            unexpected @ (NationalSyncError::Store(_)
            | NationalSyncError::Combine { .. }
            | NationalSyncError::Corrupt(_)) => Fault::Unexpected(unexpected),
        };
        fault.into_status("the national-sync operation")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use dti_service_kit::status;
    use tonic::Code;

    #[test]
    fn callers_mistakes_keep_their_code_and_internals_are_hidden() {
        let invalid = Status::from(NationalSyncError::invalid_field("year", "must be set"));
        assert_eq!(invalid.code(), Code::InvalidArgument);
        assert_eq!(status::field_violations(&invalid)[0].field, "year");
        let denied = Status::from(NationalSyncError::permission_denied("not yours".into()));
        assert_eq!(denied.code(), Code::PermissionDenied);
        let corrupt = Status::from(NationalSyncError::Corrupt("secret detail".into()));
        assert_eq!(corrupt.code(), Code::Internal);
        assert!(!corrupt.message().contains("secret detail"));
    }
}
