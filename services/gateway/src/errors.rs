//! Every error answer of the gateway: a gRPC status becomes the HTTP status of its code, with
//! the service's message and field violations (`BadRequest` details) in one JSON body
//! ([`ErrorBody`], also in the OpenAPI document); the gateway's own refusals (a body that is not
//! JSON or of the wrong shape, an unknown RPC, a rate limit) use the same body.
//!
//! The gateway's own texts are written in the language of the request being handled
//! ([`dti_i18n::current_lang`], chosen from `Accept-Language` by the router's language layer,
//! as the services choose theirs), and an error answer says which in `Content-Language`.

use axum::response::{IntoResponse, Response};
use dti_i18n::Message;
use http::{header, HeaderValue, StatusCode};
use serde::Serialize;
use tonic::Code;
use tonic_types::StatusExt;

/// One bad field of a request: its JSON path and what is wrong with it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FieldViolation {
    /// The field, e.g. `round.year` (`body` for the body as a whole).
    pub field: String,
    /// What is wrong with it.
    pub description: String,
}

/// The JSON body of every error answer.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ErrorBody {
    /// The gRPC status code name, e.g. `INVALID_ARGUMENT`.
    pub code: &'static str,
    /// The message, as the gRPC API gives it.
    pub message: String,
    /// Each bad field (empty unless the request was invalid).
    pub field_violations: Vec<FieldViolation>,
}

/// An error answer: HTTP status, body and, for a rate limit, when to retry.
#[derive(Debug, Clone)]
pub struct ApiError {
    /// HTTP status.
    pub status: StatusCode,
    /// JSON body.
    pub body: ErrorBody,
    /// Seconds until a retry may succeed (`Retry-After`).
    pub retry_after_secs: Option<u64>,
}

impl ApiError {
    /// An error of gRPC `code` with `message` and no field violations.
    pub fn new(code: Code, message: impl Into<String>) -> Self {
        Self {
            status: http_status(code),
            body: ErrorBody {
                code: code_name(code),
                message: message.into(),
                field_violations: Vec::new(),
            },
            retry_after_secs: None,
        }
    }

    /// A bad request naming `field` and what is wrong with it.
    pub fn invalid_field(field: impl Into<String>, description: impl Into<String>) -> Self {
        let violation = FieldViolation {
            field: field.into(),
            description: description.into(),
        };
        let mut error = Self::new(
            Code::InvalidArgument,
            Message::new("gateway-invalid-field")
                .arg("field", violation.field.as_str())
                .arg("problem", violation.description.as_str()),
        );
        error.body.field_violations.push(violation);
        error
    }

    /// No such RPC or route.
    pub fn not_found(what: impl Into<String>) -> Self {
        Self::new(Code::NotFound, what)
    }

    /// The rate limit was hit; retry after `secs`.
    pub fn rate_limited(secs: u64) -> Self {
        let mut error = Self::new(
            Code::ResourceExhausted,
            Message::new("gateway-rate-limited").arg("secs", secs),
        );
        error.retry_after_secs = Some(secs);
        error
    }
}

impl From<tonic::Status> for ApiError {
    fn from(status: tonic::Status) -> Self {
        let mut error = Self::new(status.code(), status.message());
        if let Some(bad_request) = status.get_details_bad_request() {
            error.body.field_violations = bad_request
                .field_violations
                .into_iter()
                .map(|violation| FieldViolation {
                    field: violation.field,
                    description: violation.description,
                })
                .collect();
        }
        error
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = serde_json::to_vec(&self.body).expect("an error body serializes");
        let mut response = (
            self.status,
            [
                (
                    header::CONTENT_TYPE,
                    HeaderValue::from_static("application/json"),
                ),
                (
                    header::CONTENT_LANGUAGE,
                    HeaderValue::from_static(dti_i18n::current_lang().tag()),
                ),
            ],
            body,
        )
            .into_response();
        if let Some(secs) = self.retry_after_secs {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(secs));
        }
        response
    }
}

/// The HTTP status answering gRPC `code`.
pub fn http_status(code: Code) -> StatusCode {
    match code {
        Code::Ok => StatusCode::OK,
        Code::InvalidArgument | Code::OutOfRange => StatusCode::BAD_REQUEST,
        Code::Unauthenticated => StatusCode::UNAUTHORIZED,
        Code::PermissionDenied => StatusCode::FORBIDDEN,
        Code::NotFound => StatusCode::NOT_FOUND,
        Code::AlreadyExists | Code::FailedPrecondition | Code::Aborted => StatusCode::CONFLICT,
        Code::ResourceExhausted => StatusCode::TOO_MANY_REQUESTS,
        Code::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
        Code::DeadlineExceeded => StatusCode::GATEWAY_TIMEOUT,
        Code::Unimplemented => StatusCode::NOT_IMPLEMENTED,
        Code::Cancelled | Code::Unknown | Code::Internal | Code::DataLoss => {
            StatusCode::INTERNAL_SERVER_ERROR
        }
    }
}

/// The canonical name of gRPC `code`, e.g. `PERMISSION_DENIED`.
pub fn code_name(code: Code) -> &'static str {
    match code {
        Code::Ok => "OK",
        Code::Cancelled => "CANCELLED",
        Code::Unknown => "UNKNOWN",
        Code::InvalidArgument => "INVALID_ARGUMENT",
        Code::DeadlineExceeded => "DEADLINE_EXCEEDED",
        Code::NotFound => "NOT_FOUND",
        Code::AlreadyExists => "ALREADY_EXISTS",
        Code::PermissionDenied => "PERMISSION_DENIED",
        Code::ResourceExhausted => "RESOURCE_EXHAUSTED",
        Code::FailedPrecondition => "FAILED_PRECONDITION",
        Code::Aborted => "ABORTED",
        Code::OutOfRange => "OUT_OF_RANGE",
        Code::Unimplemented => "UNIMPLEMENTED",
        Code::Internal => "INTERNAL",
        Code::Unavailable => "UNAVAILABLE",
        Code::DataLoss => "DATA_LOSS",
        Code::Unauthenticated => "UNAUTHENTICATED",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tonic_types::{ErrorDetails, StatusExt};

    #[test]
    fn statuses_map_to_the_issue_s_http_codes() {
        for (code, http) in [
            (Code::InvalidArgument, 400),
            (Code::Unauthenticated, 401),
            (Code::PermissionDenied, 403),
            (Code::NotFound, 404),
            (Code::FailedPrecondition, 409),
            (Code::Aborted, 409),
            (Code::ResourceExhausted, 429),
            (Code::Unavailable, 503),
        ] {
            assert_eq!(http_status(code).as_u16(), http, "{code:?}");
        }
    }

    #[test]
    fn field_violations_of_a_bad_request_come_through_with_the_message() {
        let status = tonic::Status::with_error_details(
            Code::InvalidArgument,
            "round.year: must be a year",
            ErrorDetails::with_bad_request_violation("round.year", "must be a year"),
        );
        let error = ApiError::from(status);
        assert_eq!(error.status, StatusCode::BAD_REQUEST);
        assert_eq!(error.body.message, "round.year: must be a year");
        assert_eq!(
            error.body.field_violations,
            vec![FieldViolation {
                field: "round.year".into(),
                description: "must be a year".into()
            }]
        );
    }

    #[test]
    fn a_rate_limit_answers_429_with_retry_after() {
        let response = ApiError::rate_limited(2).into_response();
        assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(response.headers()[header::RETRY_AFTER], "2");
    }

    #[test]
    fn the_gateways_own_texts_are_in_the_requests_language() {
        use dti_i18n::{sync_scope, Lang};
        let english = ApiError::rate_limited(2);
        assert_eq!(english.body.message, "rate limit exceeded: retry in 2 s");
        let vietnamese = sync_scope(Lang::Vi, || ApiError::rate_limited(2));
        assert_eq!(
            vietnamese.body.message,
            Message::new("gateway-rate-limited")
                .arg("secs", 2_u64)
                .render(Lang::Vi)
        );
        assert_ne!(vietnamese.body.message, english.body.message);
        let refused = |lang| {
            sync_scope(lang, || {
                ApiError::invalid_field("file", Message::new("gateway-missing-part"))
            })
        };
        let english = refused(Lang::En);
        assert_eq!(english.body.message, "invalid file: missing part");
        assert_eq!(english.body.field_violations[0].description, "missing part");
        let vietnamese = refused(Lang::Vi);
        assert_eq!(vietnamese.body.field_violations[0].field, "file");
        assert_eq!(
            vietnamese.body.field_violations[0].description,
            Message::new("gateway-missing-part").render(Lang::Vi)
        );
        let answered = sync_scope(Lang::Vi, || vietnamese.into_response());
        assert_eq!(answered.headers()[header::CONTENT_LANGUAGE], "vi");
    }
}
