//! The caller's mistakes as gRPC statuses: `InvalidArgument` with a `google.rpc.BadRequest`
//! detail listing every field violation, so a client can show each problem where it belongs.
//!
//! A field is written as a path a unit can follow: `unit quan-1 / indicator 1.2 / variable b`
//! for indicator values (from a [`dti_domain::InputIssue`]), or the request field name
//! (`round.year`) for everything else. The status message repeats every violation, one per
//! line, for clients that ignore details.

use dti_domain::InputIssue;
use tonic::{Code, Status};
use tonic_types::{ErrorDetails, StatusExt};

/// One invalid field of a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldViolation {
    /// Where: a request field path, or `unit … / indicator … / variable …`.
    pub field: String,
    /// What is wrong.
    pub description: String,
}

impl FieldViolation {
    /// A violation of `field`.
    pub fn new(field: impl Into<String>, description: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            description: description.into(),
        }
    }
}

impl From<&InputIssue> for FieldViolation {
    fn from(issue: &InputIssue) -> Self {
        let mut place = Vec::new();
        if let Some(unit) = &issue.unit {
            place.push(format!("unit {unit}"));
        }
        if let Some(indicator) = &issue.indicator {
            place.push(format!("indicator {indicator}"));
        }
        if let Some(variable) = &issue.variable {
            place.push(format!("variable {variable}"));
        }
        Self::new(place.join(" / "), issue.message.clone())
    }
}

/// `InvalidArgument` carrying every violation as a `BadRequest` detail; the message is
/// `summary` followed by one line per violation (`field: description`).
pub fn invalid_argument(summary: &str, violations: &[FieldViolation]) -> Status {
    let mut message = summary.to_owned();
    for violation in violations {
        message.push('\n');
        if violation.field.is_empty() {
            message.push_str(&violation.description);
        } else {
            message.push_str(&format!("{}: {}", violation.field, violation.description));
        }
    }
    let mut details = ErrorDetails::new();
    for violation in violations {
        details.add_bad_request_violation(violation.field.clone(), violation.description.clone());
    }
    Status::with_error_details(Code::InvalidArgument, message, details)
}

/// `InvalidArgument` for one request field.
pub fn invalid_field(field: &str, description: impl Into<String>) -> Status {
    invalid_argument(
        "invalid request",
        &[FieldViolation::new(field, description)],
    )
}

/// `InvalidArgument` for the errors among `issues` (warnings are left out).
pub fn invalid_values(summary: &str, issues: &[InputIssue]) -> Status {
    let violations: Vec<FieldViolation> = issues
        .iter()
        .filter(|issue| issue.is_error())
        .map(FieldViolation::from)
        .collect();
    invalid_argument(summary, &violations)
}

/// The field violations of a status made by [`invalid_argument`] (for clients and tests).
pub fn field_violations(status: &Status) -> Vec<FieldViolation> {
    status
        .get_details_bad_request()
        .map(|bad| {
            bad.field_violations
                .into_iter()
                .map(|v| FieldViolation::new(v.field, v.description))
                .collect()
        })
        .unwrap_or_default()
}

/// `Internal` for an unexpected failure: the detail is logged, the caller sees only what was
/// being attempted.
pub fn internal(attempted: &str, error: &dyn std::fmt::Display) -> Status {
    tracing::error!(%error, "{attempted} failed");
    Status::internal(format!("{attempted} failed; the error was logged"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn violations_survive_the_round_trip_through_details() {
        let status = invalid_argument(
            "values rejected",
            &[
                FieldViolation::new("unit quan-1 / indicator 1.2 / variable b", "must be ≥ 0"),
                FieldViolation::new("round.year", "must be set"),
            ],
        );
        assert_eq!(status.code(), Code::InvalidArgument);
        assert!(status.message().contains("round.year: must be set"));
        let back = field_violations(&status);
        assert_eq!(back.len(), 2);
        assert_eq!(back[0].field, "unit quan-1 / indicator 1.2 / variable b");
    }
}
