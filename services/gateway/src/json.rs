//! Request and response bodies in the canonical proto3 JSON mapping (prost-reflect's serde
//! support): a body is read into a [`DynamicMessage`] of the method's input type, and a problem
//! is reported with the JSON path of the field it is in (`round.year`, `values[0].variables`),
//! or `body` when the body as a whole is not JSON. The problem is the JSON reader's (English),
//! introduced in the request's language.

use prost_reflect::{DeserializeOptions, DynamicMessage, MessageDescriptor};
use serde::de::DeserializeSeed;

use crate::errors::ApiError;

/// Reads `body` (JSON; an empty body is `{}`) as a `descriptor` message.
pub fn parse_message(
    descriptor: MessageDescriptor,
    body: &[u8],
) -> Result<DynamicMessage, ApiError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(DynamicMessage::new(descriptor));
    }
    parse_with(body, Message(descriptor))
}

/// Reads `body` (a JSON array; empty is no message) as a stream of `descriptor` messages, for
/// the JSON form of a client-streaming RPC.
pub fn parse_messages(
    descriptor: MessageDescriptor,
    body: &[u8],
) -> Result<Vec<DynamicMessage>, ApiError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(Vec::new());
    }
    parse_with(body, Messages(descriptor))
}

/// Reads `body` with `seed` through a path-tracking deserializer; a problem names its path.
fn parse_with<T, S>(body: &[u8], seed: S) -> Result<T, ApiError>
where
    S: for<'de> DeserializeSeed<'de, Value = T>,
{
    let mut json = serde_json::Deserializer::from_slice(body);
    let mut track = serde_path_to_error::Track::new();
    let read = seed.deserialize(serde_path_to_error::Deserializer::new(
        &mut json, &mut track,
    ));
    read.and_then(|value| json.end().map(|()| value))
        .map_err(|error| {
            // A segment the tracker could not name (`?`, e.g. where the body broke off) is
            // left out: the field is its nearest named parent.
            let path = track.path().to_string();
            let mut field = path.as_str();
            while let Some(parent) = field.strip_suffix(".?").or_else(|| field.strip_suffix('?')) {
                field = parent;
            }
            let field = match field {
                "" | "." => "body".to_owned(),
                named => named.to_owned(),
            };
            let problem =
                dti_i18n::Message::new("gateway-bad-json").arg("error", error.to_string());
            ApiError::invalid_field(field, problem)
        })
}

/// A JSON array of messages of one type.
struct Messages(MessageDescriptor);

impl<'de> DeserializeSeed<'de> for Messages {
    type Value = Vec<DynamicMessage>;

    fn deserialize<D: serde::Deserializer<'de>>(
        self,
        deserializer: D,
    ) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_seq(self)
    }
}

impl<'de> serde::de::Visitor<'de> for Messages {
    type Value = Vec<DynamicMessage>;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "an array of {} messages", self.0.full_name())
    }

    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let mut messages = Vec::new();
        while let Some(message) = seq.next_element_seed(Message(self.0.clone()))? {
            messages.push(message);
        }
        Ok(messages)
    }
}

/// One message of a [`Messages`] array.
struct Message(MessageDescriptor);

impl<'de> DeserializeSeed<'de> for Message {
    type Value = DynamicMessage;

    fn deserialize<D: serde::Deserializer<'de>>(
        self,
        deserializer: D,
    ) -> Result<Self::Value, D::Error> {
        DynamicMessage::deserialize_with_options(self.0, deserializer, &DeserializeOptions::new())
    }
}

/// `message` in the canonical JSON mapping.
pub fn render(message: &DynamicMessage) -> Vec<u8> {
    serde_json::to_vec(message).expect("a dynamic message serializes to JSON")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::descriptor_pool;

    fn descriptor(name: &str) -> MessageDescriptor {
        descriptor_pool()
            .unwrap()
            .get_message_by_name(name)
            .unwrap()
    }

    #[test]
    fn a_valid_body_reads_with_the_canonical_names() {
        let message = parse_message(
            descriptor("dti.ranking.v1.GetRankingRequest"),
            br#"{"round": {"year": 2023, "framework": "hcm-2023-district"}}"#,
        )
        .unwrap();
        let json: serde_json::Value = serde_json::from_slice(&render(&message)).unwrap();
        assert_eq!(json["round"]["year"], 2023);
        assert_eq!(json["round"]["framework"], "hcm-2023-district");
    }

    #[test]
    fn a_wrong_type_names_the_nested_field() {
        let error = parse_message(
            descriptor("dti.ranking.v1.GetRankingRequest"),
            br#"{"round": {"year": "twenty"}}"#,
        )
        .unwrap_err();
        assert_eq!(error.status, http::StatusCode::BAD_REQUEST);
        assert_eq!(error.body.field_violations[0].field, "round.year");
    }

    #[test]
    fn an_unknown_field_is_named() {
        let error = parse_message(
            descriptor("dti.ranking.v1.GetRankingRequest"),
            br#"{"round": {"year": 2023, "yaer": 1}}"#,
        )
        .unwrap_err();
        let violation = &error.body.field_violations[0];
        assert!(violation.field.starts_with("round"), "{violation:?}");
        assert!(violation.description.contains("yaer"), "{violation:?}");
    }

    #[test]
    fn a_body_that_is_not_json_names_the_body_or_where_it_broke_off() {
        for (body, field) in [
            (&b"year=2023"[..], "body"),
            (b"{} trailing", "body"),
            (b"[1, 2]", "body"),
            (b"{\"round\": ", "round"),
        ] {
            let error =
                parse_message(descriptor("dti.ranking.v1.GetRankingRequest"), body).unwrap_err();
            assert_eq!(error.body.field_violations[0].field, field, "{body:?}");
            assert_eq!(error.body.code, "INVALID_ARGUMENT");
        }
    }

    #[test]
    fn a_stream_of_messages_is_an_array() {
        let descriptor = descriptor("dti.evidence.v1.UploadEvidenceRequest");
        let messages = parse_messages(
            descriptor.clone(),
            br#"[{"chunk": "aGk="}, {"chunk": "eW8="}]"#,
        )
        .unwrap();
        assert_eq!(messages.len(), 2);
        let error =
            parse_messages(descriptor, br#"[{"chunk": "aGk="}, {"chunk": 5}]"#).unwrap_err();
        assert_eq!(error.body.field_violations[0].field, "[1].chunk");
    }
}
