//! The caller's mistakes as gRPC statuses: `InvalidArgument` with a `google.rpc.BadRequest`
//! detail listing every field violation, so a client can show each problem where it belongs.
//!
//! A field is written as a path a unit can follow: `unit quan-1 / indicator 1.2 / variable b`
//! for indicator values (from a [`dti_domain::InputIssue`]), or the request field name
//! (`round.year`) for everything else. The status message repeats every violation, one per
//! line, for clients that ignore details.
//!
//! # Checking a request at the edge
//!
//! A handler converts its request with the parsers of [`dti_proto::request`] (rounds, unit ids,
//! UUID ids), each naming the field it failed on, and collects every failure in a
//! [`RequestCheck`], so one answer lists all the fields that are wrong:
//!
//! ```
//! use dti_proto::request::{parse_round, parse_unit, parse_uuid};
//! use dti_service_kit::status::{field_violations, RequestCheck};
//!
//! let mut check = RequestCheck::new();
//! let round = check.field(parse_round(None));
//! let unit = check.field(parse_unit(None));
//! let id = check.field(parse_uuid("submission_id", "x"));
//! let refused = check.finish(round.zip(unit).zip(id)).unwrap_err();
//! let status = tonic::Status::from(refused);
//! let fields: Vec<String> = field_violations(&status).into_iter().map(|v| v.field).collect();
//! assert_eq!(fields, ["round", "unit", "submission_id"]);
//! ```
//!
//! [`InvalidRequest`] becomes the `InvalidArgument` status directly (`?` in a handler), and
//! each service error takes it in (`#[from] InvalidRequest`) as its own invalid case, for
//! handlers whose later steps return the service error; [`crate::service_error!`] lets a
//! parser's [`FieldError`] convert with `?` too. A check of the service's own adds its
//! violation with [`RequestCheck::violation`]. One field alone converts with `?` (or
//! `.map_err(InvalidRequest::from)`), several go through one `RequestCheck`; a round and a
//! unit together are [`round_and_unit`].
//!
//! # One mapping of a service error
//!
//! Each service's `From<ServiceError> for Status` sorts its cases once into a [`Fault`]: the
//! caller's mistakes keep their code and message, anything unexpected is logged and hidden
//! ([`internal`]).
//!
//! # In the caller's language
//!
//! Every text made here — the summary `invalid request`, the count of violations left out, a
//! domain issue's description, the hidden internal error — is taken from the catalogues of
//! [`dti_i18n`] in the request's language ([`crate::language`]); a service passes its own
//! texts as [`dti_i18n::Message`]s (a `Message` converts into the `String` the constructors
//! take, in the request's language). Field paths stay as the request names them.

use dti_domain::{InputIssue, RoundRef, UnitId};
use dti_i18n::Message;
use dti_proto::dti::common::v1 as common;
use dti_proto::request::{parse_round, parse_unit, FieldError};
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
        Self::new(issue.place().join(" / "), issue.message.localized())
    }
}

impl From<FieldError> for FieldViolation {
    fn from(error: FieldError) -> Self {
        Self::new(error.field, error.problem)
    }
}

/// A request refused before anything was done: what was refused and every field violation.
/// Becomes `InvalidArgument` with a `BadRequest` detail ([`invalid_argument`]).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{summary}")]
pub struct InvalidRequest {
    /// What was refused, e.g. `invalid request`.
    pub summary: String,
    /// Every problem found.
    pub violations: Vec<FieldViolation>,
}

/// Summary of a request refused for its fields, in English (logs, and callers outside a
/// request); a caller reads [`invalid_request_summary`].
pub const INVALID_REQUEST: &str = "invalid request";

/// Summary of a request refused for its fields, in the request's language.
pub fn invalid_request_summary() -> String {
    Message::new("status-invalid-request").localized()
}

impl InvalidRequest {
    /// `summary` with `violations`.
    pub fn new(summary: impl Into<String>, violations: Vec<FieldViolation>) -> Self {
        Self {
            summary: summary.into(),
            violations,
        }
    }

    /// An `invalid request` of one field.
    pub fn field(field: &str, description: impl Into<String>) -> Self {
        Self::new(
            invalid_request_summary(),
            vec![FieldViolation::new(field, description)],
        )
    }
}

impl From<FieldError> for InvalidRequest {
    fn from(error: FieldError) -> Self {
        Self::new(invalid_request_summary(), vec![error.into()])
    }
}

impl From<InvalidRequest> for Status {
    fn from(invalid: InvalidRequest) -> Self {
        invalid_argument(&invalid.summary, &invalid.violations)
    }
}

/// Converts the fields of one request, collecting every violation instead of stopping at the
/// first; [`RequestCheck::finish`] then yields the parsed request or all its violations.
#[derive(Debug, Default)]
pub struct RequestCheck {
    violations: Vec<FieldViolation>,
}

impl RequestCheck {
    /// A check with no violation yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// The parsed field, or `None` with its violation recorded.
    pub fn field<T>(&mut self, parsed: Result<T, FieldError>) -> Option<T> {
        parsed
            .map_err(|error| self.violations.push(error.into()))
            .ok()
    }

    /// Records a violation found by a check of the caller's own.
    pub fn violation(&mut self, field: impl Into<String>, description: impl Into<String>) {
        self.violations
            .push(FieldViolation::new(field, description));
    }

    /// Whether no violation was recorded so far.
    pub fn is_clean(&self) -> bool {
        self.violations.is_empty()
    }

    /// The violations recorded so far, leaving none.
    pub fn take_violations(&mut self) -> Vec<FieldViolation> {
        std::mem::take(&mut self.violations)
    }

    /// `parsed` when every field was valid, or an `invalid request` with every violation.
    pub fn finish<T>(self, parsed: Option<T>) -> Result<T, InvalidRequest> {
        self.finish_as(&invalid_request_summary(), parsed)
    }

    /// Like [`RequestCheck::finish`], with `summary` saying what was refused.
    pub fn finish_as<T>(self, summary: &str, parsed: Option<T>) -> Result<T, InvalidRequest> {
        match parsed {
            Some(parsed) if self.violations.is_empty() => Ok(parsed),
            _ => Err(InvalidRequest::new(summary, self.violations)),
        }
    }
}

/// The request's `round` and `unit`, every invalid field of both named.
pub fn round_and_unit(
    round: Option<&common::RoundRef>,
    unit: Option<&common::UnitRef>,
) -> Result<(RoundRef, UnitId), InvalidRequest> {
    let mut check = RequestCheck::new();
    let round = check.field(parse_round(round));
    let unit = check.field(parse_unit(unit));
    check.finish(round.zip(unit))
}

/// Most violations an `InvalidArgument` carries in its details; beyond them one more entry
/// says how many were left out. With [`MAX_FIELD_BYTES`], [`MAX_DESCRIPTION_BYTES`] and
/// [`MAX_INVALID_MESSAGE_BYTES`] every error fits the 8 KiB of headers clients accept by default, even
/// in Vietnamese (the message is percent-encoded, the details base64-encoded).
pub const MAX_VIOLATIONS: usize = 10;
/// Most bytes (UTF-8) of a violation's field path.
pub const MAX_FIELD_BYTES: usize = 120;
/// Most bytes (UTF-8) of a violation's description.
pub const MAX_DESCRIPTION_BYTES: usize = 240;
/// Most bytes (UTF-8) of an `InvalidArgument` message (its details hold the violations).
pub const MAX_INVALID_MESSAGE_BYTES: usize = 600;
/// Most bytes (UTF-8) of any other refusal's message: room for a cohort's units listed by a
/// refused state change, never for a caller's input quoted at length.
pub const MAX_MESSAGE_BYTES: usize = 3_000;
/// Violations repeated in the message (the details hold them all, up to the cap).
const VIOLATIONS_IN_MESSAGE: usize = 5;

/// `text` cut at a character boundary to at most `limit` bytes, ending in "…" where it was cut.
pub fn shortened(text: &str, limit: usize) -> String {
    if text.len() <= limit {
        return text.to_owned();
    }
    let room = limit.saturating_sub('…'.len_utf8());
    let end = text
        .char_indices()
        .map(|(at, c)| at + c.len_utf8())
        .take_while(|end| *end <= room)
        .last()
        .unwrap_or(0);
    format!("{}…", &text[..end])
}

/// `InvalidArgument` carrying the violations as a `BadRequest` detail (at most
/// [`MAX_VIOLATIONS`], each shortened, and a last entry counting the rest); the message is
/// `summary` followed by one line per violation (`field: description`) for the first few.
pub fn invalid_argument(summary: &str, violations: &[FieldViolation]) -> Status {
    let shown: Vec<FieldViolation> = violations
        .iter()
        .take(MAX_VIOLATIONS)
        .map(|violation| {
            FieldViolation::new(
                shortened(&violation.field, MAX_FIELD_BYTES),
                shortened(&violation.description, MAX_DESCRIPTION_BYTES),
            )
        })
        .collect();
    let left_out = violations.len() - shown.len();
    let mut message = summary.to_owned();
    for violation in shown.iter().take(VIOLATIONS_IN_MESSAGE) {
        message.push('\n');
        if violation.field.is_empty() {
            message.push_str(&violation.description);
        } else {
            message.push_str(&format!("{}: {}", violation.field, violation.description));
        }
    }
    let more = violations.len().saturating_sub(VIOLATIONS_IN_MESSAGE);
    if more > 0 {
        message.push('\n');
        message.push_str(
            &Message::new("status-more-in-details")
                .arg("more", more)
                .localized(),
        );
    }
    let mut details = ErrorDetails::new();
    for violation in &shown {
        details.add_bad_request_violation(violation.field.clone(), violation.description.clone());
    }
    if left_out > 0 {
        details.add_bad_request_violation(
            "",
            Message::new("status-more-problems")
                .arg("more", left_out)
                .localized(),
        );
    }
    Status::with_error_details(
        Code::InvalidArgument,
        shortened(&message, MAX_INVALID_MESSAGE_BYTES),
        details,
    )
}

/// `InvalidArgument` for one request field.
pub fn invalid_field(field: &str, description: impl Into<String>) -> Status {
    InvalidRequest::field(field, description).into()
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

/// What a service error means to its caller.
#[derive(Debug)]
pub enum Fault<E> {
    /// The request is invalid: `InvalidArgument` with every violation.
    Invalid(InvalidRequest),
    /// What was asked for does not exist: `NotFound`.
    NotFound(String),
    /// The caller may not touch this: `PermissionDenied`.
    PermissionDenied(String),
    /// Valid, but not allowed in the current state: `FailedPrecondition`.
    NotNow(String),
    /// Already a status (a shared library's error that maps itself, or a service's own code).
    Mapped(Status),
    /// Not the caller's fault: logged, and `Internal` without the details.
    Unexpected(E),
}

impl<E> From<crate::service_error::Refusal> for Fault<E> {
    fn from(refusal: crate::service_error::Refusal) -> Self {
        use crate::service_error::Refusal;
        match refusal {
            Refusal::Invalid(invalid) => Self::Invalid(invalid),
            Refusal::NotFound(message) => Self::NotFound(message),
            Refusal::PermissionDenied(message) => Self::PermissionDenied(message),
            Refusal::NotNow(message) => Self::NotNow(message),
        }
    }
}

impl<E: std::fmt::Display> Fault<E> {
    /// The status the caller gets; `attempted` names the work in an `Internal` message, e.g.
    /// "the submission request".
    pub fn into_status(self, attempted: &str) -> Status {
        match self {
            Self::Invalid(invalid) => invalid.into(),
            Self::NotFound(message) => Status::not_found(shortened(&message, MAX_MESSAGE_BYTES)),
            Self::PermissionDenied(message) => {
                Status::permission_denied(shortened(&message, MAX_MESSAGE_BYTES))
            }
            Self::NotNow(message) => {
                Status::failed_precondition(shortened(&message, MAX_MESSAGE_BYTES))
            }
            Self::Mapped(status) => status,
            Self::Unexpected(error) => internal(attempted, &error),
        }
    }
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
    Status::internal(
        Message::new("status-internal")
            .arg("attempted", attempted)
            .localized(),
    )
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

    #[test]
    fn a_huge_refusal_fits_the_headers_clients_accept() {
        // 5,000 violations of Vietnamese text 90 KB long, as a hostile request could make.
        let long = "Ứng dụng ".repeat(10_000);
        let violations: Vec<FieldViolation> = (0..5_000)
            .map(|i| FieldViolation::new(format!("values[{i}].{long}"), long.clone()))
            .collect();
        let status = invalid_argument("invalid request", &violations);
        let response = status.into_http::<tonic::body::Body>();
        let header_bytes: usize = response
            .headers()
            .iter()
            .map(|(name, value)| name.as_str().len() + value.len())
            .sum();
        assert!(header_bytes < 8 * 1024, "{header_bytes} bytes of headers");
        let status = Status::from_header_map(response.headers()).expect("a status");
        let back = field_violations(&status);
        assert_eq!(back.len(), MAX_VIOLATIONS + 1);
        assert_eq!(
            back[MAX_VIOLATIONS].description,
            "… and 4990 more problems of the same request"
        );
        assert!(back[0].field.ends_with('…') && back[0].field.len() <= MAX_FIELD_BYTES);
        assert!(back[0].field.len() > MAX_FIELD_BYTES - 6);
        assert!(status.message().len() <= MAX_INVALID_MESSAGE_BYTES);
        let found = Fault::<String>::NotFound(long).into_status("x");
        assert!(found.message().len() <= MAX_MESSAGE_BYTES && found.message().ends_with('…'));
        assert_eq!(shortened("Ứng", 3), "…");
        assert_eq!(shortened("Ứng dụng", 100), "Ứng dụng");
    }

    #[test]
    fn a_request_check_reports_every_bad_field_in_order() {
        let mut check = RequestCheck::new();
        let year = check.field(Err::<u16, _>(FieldError::new("round.year", "must be set")));
        check.violation("basis", "must be BASIS_SELF_ASSESSED or BASIS_VERIFIED");
        let unit = check.field(Ok::<_, FieldError>("quan-1"));
        assert!(!check.is_clean());
        let refused = check.finish(year.zip(unit)).unwrap_err();
        assert_eq!(refused.summary, "invalid request");
        let fields: Vec<&str> = refused
            .violations
            .iter()
            .map(|v| v.field.as_str())
            .collect();
        assert_eq!(fields, ["round.year", "basis"]);
        let status = Status::from(refused);
        assert_eq!(status.code(), Code::InvalidArgument);
        assert_eq!(field_violations(&status).len(), 2);
    }

    #[test]
    fn faults_keep_the_callers_code_and_hide_the_unexpected() {
        let fault = |fault: Fault<&str>| fault.into_status("the test request");
        let cases = [
            (
                fault(Fault::Invalid(InvalidRequest::field("year", "must be set"))),
                Code::InvalidArgument,
            ),
            (
                fault(Fault::NotFound("no such round".into())),
                Code::NotFound,
            ),
            (
                fault(Fault::PermissionDenied("not yours".into())),
                Code::PermissionDenied,
            ),
            (
                fault(Fault::NotNow("round closed".into())),
                Code::FailedPrecondition,
            ),
            (fault(Fault::Mapped(Status::aborted("stop"))), Code::Aborted),
        ];
        for (status, code) in cases {
            assert_eq!(status.code(), code, "{status:?}");
        }
        let hidden = fault(Fault::Unexpected("secret detail"));
        assert_eq!(hidden.code(), Code::Internal);
        assert_eq!(
            hidden.message(),
            "the test request failed; the error was logged"
        );
    }

    #[test]
    fn a_round_and_unit_name_every_bad_field_of_both() {
        let round = common::RoundRef {
            year: 1999,
            framework: "hcm-2023-district".into(),
        };
        let refused = round_and_unit(Some(&round), None).unwrap_err();
        let fields: Vec<&str> = refused
            .violations
            .iter()
            .map(|v| v.field.as_str())
            .collect();
        assert_eq!(fields, ["round.year", "unit"]);
    }

    #[test]
    fn a_refusal_is_written_in_the_requests_language_with_the_same_fields() {
        let refuse = || {
            let mut check = RequestCheck::new();
            let round = check.field(parse_round(None));
            let id = check.field(dti_proto::request::parse_uuid("submission_id", " "));
            Status::from(check.finish(round.zip(id)).unwrap_err())
        };
        let vietnamese = dti_i18n::sync_scope(dti_i18n::Lang::Vi, refuse);
        let english = dti_i18n::sync_scope(dti_i18n::Lang::En, refuse);
        assert_eq!(
            vietnamese.message(),
            "yêu cầu không hợp lệ\nround: phải được nhập\nsubmission_id: phải được nhập"
        );
        assert_eq!(
            english.message(),
            "invalid request\nround: must be set\nsubmission_id: must be set"
        );
        let fields = |status: &Status| -> Vec<String> {
            field_violations(status)
                .into_iter()
                .map(|v| v.field)
                .collect()
        };
        assert_eq!(fields(&vietnamese), fields(&english));
        let hidden = dti_i18n::sync_scope(dti_i18n::Lang::Vi, || {
            Fault::Unexpected("secret detail").into_status("the test request")
        });
        assert_eq!(
            hidden.message(),
            "Không thực hiện được yêu cầu do lỗi hệ thống; lỗi đã được ghi lại"
        );
    }

    #[test]
    fn a_clean_check_yields_the_parsed_request() {
        let mut check = RequestCheck::new();
        let id = check.field(Ok::<_, FieldError>(7));
        assert_eq!(check.finish_as("invalid upload header", id), Ok(7));
    }
}
