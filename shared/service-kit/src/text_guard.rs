//! The edge's check of every text and list in every request, before any handler runs: a layer
//! of the gRPC server that decodes each unary and server-streaming request of the platform's
//! packages by its method's descriptor ([`dti_proto::FILE_DESCRIPTOR_SET`]) and refuses it with
//! `InvalidArgument`, naming each field, when
//! - a text holds a control character other than tab, line feed or carriage return (PostgreSQL
//!   refuses NUL, and no person types the others), or is longer than [`MAX_TEXT_CHARS`]
//!   characters ([`MAX_JSON_CHARS`] for the fields that carry whole documents: JSON, named
//!   `json` or `…_json`, and TOML, named `…_toml`);
//! - a repeated field or a map holds more than [`MAX_ENTRIES`] entries.
//!
//! Client-streaming calls (evidence uploads) pass unchecked: their messages are chunks of bytes
//! and their metadata is checked by the service. A request the layer cannot decode passes on
//! unchanged, for tonic to refuse with its own status. The bounds are documented in
//! `docs/architecture.md` ("Bounds on every request").

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::OnceLock;
use std::task::{Context, Poll};

use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use prost_reflect::{DescriptorPool, DynamicMessage, MapKey, MessageDescriptor, Value};
use tonic::body::Body;
use tonic::Status;
use tower::{Layer, Service};

use dti_i18n::Message;

use crate::status::{invalid_argument, invalid_request_summary, FieldViolation};

/// Most characters of a text field.
pub const MAX_TEXT_CHARS: usize = 10_000;
/// Most characters of a field that carries a document (`json`, `…_json`, `…_toml`).
pub const MAX_JSON_CHARS: usize = 1_000_000;
/// Most entries of a repeated field or a map.
pub const MAX_ENTRIES: usize = 20_000;
/// Largest request message the layer reads (tonic's own default limit).
const MAX_MESSAGE_BYTES: usize = 4 * 1024 * 1024;

/// Every problem of `message`'s texts and lists, field by field (proto field names, `.` between
/// nested fields, `[i]` for list entries and `["key"]` for map entries).
pub fn text_violations(message: &DynamicMessage) -> Vec<FieldViolation> {
    let mut violations = Vec::new();
    check_message(message, "", &mut violations);
    violations
}

fn check_message(message: &DynamicMessage, prefix: &str, violations: &mut Vec<FieldViolation>) {
    for (field, value) in message.fields() {
        let path = format!("{prefix}{}", field.name());
        let name = field.name();
        let limit = match name == "json" || name.ends_with("_json") || name.ends_with("_toml") {
            true => MAX_JSON_CHARS,
            false => MAX_TEXT_CHARS,
        };
        check_value(value, &path, limit, violations);
    }
}

fn check_value(value: &Value, path: &str, limit: usize, violations: &mut Vec<FieldViolation>) {
    match value {
        Value::String(text) => check_text(text, path, limit, violations),
        Value::Message(message) => check_message(message, &format!("{path}."), violations),
        Value::List(entries) => {
            check_entries(entries.len(), path, violations);
            for (i, entry) in entries.iter().take(MAX_ENTRIES).enumerate() {
                check_value(entry, &format!("{path}[{i}]"), limit, violations);
            }
        }
        Value::Map(entries) => {
            check_entries(entries.len(), path, violations);
            for (key, entry) in entries.iter().take(MAX_ENTRIES) {
                let key = match key {
                    MapKey::String(key) => {
                        check_text(key, &format!("{path} (a key)"), MAX_TEXT_CHARS, violations);
                        format!("{:?}", quote_prefix(key))
                    }
                    other => format!("{other:?}"),
                };
                check_value(entry, &format!("{path}[{key}]"), limit, violations);
            }
        }
        _ => {}
    }
}

fn check_entries(len: usize, path: &str, violations: &mut Vec<FieldViolation>) {
    if len > MAX_ENTRIES {
        violations.push(FieldViolation::new(
            path,
            Message::new("guard-too-many-entries")
                .arg("len", len)
                .arg("max", MAX_ENTRIES),
        ));
    }
}

fn check_text(text: &str, path: &str, limit: usize, violations: &mut Vec<FieldViolation>) {
    let forbidden = text
        .chars()
        .enumerate()
        .find(|(_, c)| c.is_control() && !matches!(c, '\t' | '\n' | '\r'));
    if let Some((at, c)) = forbidden {
        violations.push(FieldViolation::new(
            path,
            Message::new("guard-control-character")
                .arg("character", format!("U+{:04X}", u32::from(c)))
                .arg("at", at + 1),
        ));
    }
    // Counting stops at the limit: a huge text costs no more than a long one.
    if text.chars().nth(limit).is_some() {
        violations.push(FieldViolation::new(
            path,
            Message::new("guard-too-long").arg("limit", limit),
        ));
    }
}

/// At most the first 40 characters of a key, for a field path.
fn quote_prefix(text: &str) -> String {
    match text.char_indices().nth(40) {
        Some((end, _)) => format!("{}…", &text[..end]),
        None => text.to_owned(),
    }
}

/// The request message of every unary and server-streaming method of the platform's packages,
/// by gRPC path (`/dti.submission.v1.SubmissionService/SubmitAssessment`).
fn checked_methods() -> &'static HashMap<String, MessageDescriptor> {
    static METHODS: OnceLock<HashMap<String, MessageDescriptor>> = OnceLock::new();
    METHODS.get_or_init(|| {
        let pool = DescriptorPool::decode(dti_proto::FILE_DESCRIPTOR_SET)
            .expect("the compiled descriptor set decodes");
        pool.services()
            .filter(|service| service.package_name().starts_with("dti."))
            .flat_map(|service| service.methods().collect::<Vec<_>>())
            .filter(|method| !method.is_client_streaming())
            .map(|method| {
                let path = format!("/{}/{}", method.parent_service().full_name(), method.name());
                (path, method.input())
            })
            .collect()
    })
}

/// The layer of [`TextGuard`].
#[derive(Debug, Clone, Copy, Default)]
pub struct TextGuardLayer;

impl<S> Layer<S> for TextGuardLayer {
    type Service = TextGuard<S>;

    fn layer(&self, inner: S) -> Self::Service {
        TextGuard { inner }
    }
}

/// Refuses requests whose texts or lists break the bounds; passes the rest on unchanged.
#[derive(Debug, Clone)]
pub struct TextGuard<S> {
    inner: S,
}

type GuardFuture<E> = Pin<Box<dyn Future<Output = Result<http::Response<Body>, E>> + Send>>;

impl<S> Service<http::Request<Body>> for TextGuard<S>
where
    S: Service<http::Request<Body>, Response = http::Response<Body>> + Clone + Send + 'static,
    S::Future: Send + 'static,
    S::Error: Send + 'static,
{
    type Response = http::Response<Body>;
    type Error = S::Error;
    type Future = GuardFuture<S::Error>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: http::Request<Body>) -> Self::Future {
        let Some(descriptor) = checked_methods().get(request.uri().path()).cloned() else {
            return Box::pin(self.inner.call(request));
        };
        // The ready service goes with this request; the clone waits for the next one.
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        Box::pin(async move {
            let (parts, body) = request.into_parts();
            let bytes = match Limited::new(body, MAX_MESSAGE_BYTES + 5).collect().await {
                Ok(collected) => collected.to_bytes(),
                Err(_) => {
                    let status = Status::resource_exhausted(
                        Message::new("guard-too-large")
                            .arg("max", MAX_MESSAGE_BYTES)
                            .localized(),
                    );
                    return Ok(status.into_http());
                }
            };
            if let Some(violations) = frame_violations(&descriptor, &bytes) {
                if !violations.is_empty() {
                    let status = invalid_argument(&invalid_request_summary(), &violations);
                    return Ok(status.into_http());
                }
            }
            let request = http::Request::from_parts(parts, Body::new(Full::new(bytes)));
            inner.call(request).await
        })
    }
}

/// The violations of the one message in a gRPC request body; none when the body is not one
/// uncompressed message the descriptor decodes (tonic refuses those itself).
fn frame_violations(descriptor: &MessageDescriptor, body: &Bytes) -> Option<Vec<FieldViolation>> {
    let (header, payload) = body.split_at_checked(5)?;
    let [0, a, b, c, d] = *header else {
        return None;
    };
    let length = usize::try_from(u32::from_be_bytes([a, b, c, d])).ok()?;
    let message = payload.get(..length)?;
    let decoded = DynamicMessage::decode(descriptor.clone(), message).ok()?;
    Some(text_violations(&decoded))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message(name: &str, json: serde_json::Value) -> DynamicMessage {
        let pool = DescriptorPool::decode(dti_proto::FILE_DESCRIPTOR_SET).expect("pool");
        let descriptor = pool.get_message_by_name(name).expect("message");
        let text = json.to_string();
        let mut deserializer = serde_json::Deserializer::from_str(&text);
        DynamicMessage::deserialize(descriptor, &mut deserializer).expect("valid JSON")
    }

    fn fields(violations: &[FieldViolation]) -> Vec<&str> {
        violations.iter().map(|v| v.field.as_str()).collect()
    }

    #[test]
    fn control_characters_are_refused_in_every_text_and_tabs_and_line_breaks_pass() {
        let request = message(
            "dti.submission.v1.SubmitAssessmentRequest",
            serde_json::json!({
                "round": {"year": 2023, "framework": "hcm-2023-district"},
                "unit": {"unitId": "quan-1\u{0}"},
                "clientRequestId": "a\tb\nc\r",
                "values": [
                    {"indicatorCode": "1.2"},
                    {"indicatorCode": "1.3\u{7}", "variables": {"a\u{0}": {"count": "1"}}},
                ],
                "notApplicable": [{"indicatorCode": "2.1", "reason": "bad\u{1b}[0m"}],
            }),
        );
        let violations = text_violations(&request);
        assert_eq!(
            fields(&violations),
            [
                "unit.unit_id",
                "values[1].indicator_code",
                "values[1].variables (a key)",
                "not_applicable[0].reason"
            ],
            "{violations:?}"
        );
        assert!(violations[0].description.contains("U+0000 at character 7"));
        assert!(violations[3].description.contains("U+001B"));
    }

    #[test]
    fn texts_and_lists_beyond_the_bounds_are_refused_without_echoing_them() {
        let long = "x".repeat(MAX_TEXT_CHARS + 1);
        let codes: Vec<String> = (0..=MAX_ENTRIES).map(|i| format!("{i}")).collect();
        let request = message(
            "dti.submission.v1.SubmitAssessmentRequest",
            serde_json::json!({"clientRequestId": long, "values": codes.iter().map(|c| serde_json::json!({"indicatorCode": c})).collect::<Vec<_>>()}),
        );
        let violations = text_violations(&request);
        assert_eq!(fields(&violations), ["values", "client_request_id"]);
        assert!(violations.iter().all(|v| v.description.len() < 100));
        let exact = message(
            "dti.submission.v1.SubmitAssessmentRequest",
            serde_json::json!({"clientRequestId": "x".repeat(MAX_TEXT_CHARS)}),
        );
        assert!(text_violations(&exact).is_empty());
    }

    #[test]
    fn every_unary_method_of_the_platform_is_checked_and_uploads_are_not() {
        let methods = checked_methods();
        assert!(methods.contains_key("/dti.submission.v1.SubmissionService/SubmitAssessment"));
        assert!(
            methods.contains_key("/dti.verification.v1.VerificationService/RequestClarification")
        );
        assert!(!methods.keys().any(|path| path.contains("grpc.health")));
        assert!(!methods.contains_key("/dti.evidence.v1.EvidenceService/UploadEvidence"));
    }

    #[test]
    fn a_frame_that_is_not_one_plain_message_passes_to_tonic() {
        let descriptor =
            checked_methods()["/dti.submission.v1.SubmissionService/SubmitAssessment"].clone();
        assert!(frame_violations(&descriptor, &Bytes::from_static(b"\x01\0\0\0\0")).is_none());
        assert!(frame_violations(&descriptor, &Bytes::from_static(b"\0\0\0")).is_none());
        assert!(frame_violations(&descriptor, &Bytes::from_static(b"\0\0\0\0\x09abc")).is_none());
        assert_eq!(
            frame_violations(&descriptor, &Bytes::from_static(b"\0\0\0\0\0")),
            Some(Vec::new())
        );
    }
}
