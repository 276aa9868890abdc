//! What a refused call says: the fields an `InvalidArgument` status names in its `BadRequest`
//! detail, and the one check most bad-input tests make on it.

use tonic::{Code, Status};
use tonic_types::StatusExt;

/// The fields named by the `BadRequest` detail of `status`, in order (none without one).
pub fn violated_fields(status: &Status) -> Vec<String> {
    status
        .get_details_bad_request()
        .map(|bad| bad.field_violations.into_iter().map(|v| v.field).collect())
        .unwrap_or_default()
}

/// Asserts that `status` is `InvalidArgument` and names `field` among its violations;
/// `context` says which case failed.
pub fn assert_names_field(status: &Status, field: &str, context: &str) {
    assert_eq!(
        status.code(),
        Code::InvalidArgument,
        "{context}: {}",
        status.message()
    );
    let fields = violated_fields(status);
    assert!(
        fields.iter().any(|f| f == field),
        "{context}: {fields:?} should name {field}"
    );
}
