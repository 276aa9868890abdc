//! The OpenAPI 3.1 document of the gateway, generated from the same descriptors it routes by:
//! a path per RPC (`POST /v1/{package}.{Service}/{Method}`) and the evidence upload and
//! download routes; request and response schemas from the message descriptors in the canonical
//! JSON mapping; the proto doc comments (the descriptor set carries source info) as
//! descriptions; and the one error body. Served at `/openapi.json`; `docs/openapi.json` is a
//! committed copy a test keeps current.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use prost_reflect::{DescriptorPool, FieldDescriptor, Kind, MessageDescriptor};
use serde_json::{json, Map, Value};

use crate::catalog::public_services;

/// Doc comments by file and source path.
struct Comments(HashMap<(String, Vec<i32>), String>);

impl Comments {
    fn of(pool: &DescriptorPool) -> Self {
        let mut comments = HashMap::new();
        for file in pool.files() {
            let proto = file.file_descriptor_proto();
            let Some(info) = &proto.source_code_info else {
                continue;
            };
            for location in &info.location {
                let text = location
                    .leading_comments
                    .as_deref()
                    .or(location.trailing_comments.as_deref())
                    .unwrap_or_default();
                let text = text
                    .lines()
                    .map(str::trim)
                    .collect::<Vec<_>>()
                    .join("\n")
                    .trim()
                    .to_owned();
                if !text.is_empty() {
                    comments.insert((file.name().to_owned(), location.path.clone()), text);
                }
            }
        }
        Self(comments)
    }

    fn get(&self, file: &str, path: &[i32]) -> Option<&str> {
        self.0
            .get(&(file.to_owned(), path.to_vec()))
            .map(String::as_str)
    }
}

/// The error statuses every RPC may answer, as component response names.
const ERRORS: [(&str, &str, &str); 8] = [
    ("400", "BadRequest", "The request is invalid; `fieldViolations` names each bad field."),
    ("401", "Unauthenticated", "The bearer token is missing, expired or forged."),
    ("403", "PermissionDenied", "The caller may not touch this data."),
    ("404", "NotFound", "No such RPC, route or record."),
    ("409", "Conflict", "The request conflicts with the record's state (failed precondition, aborted, already exists)."),
    ("429", "TooManyRequests", "The caller's rate limit is used up; retry after `Retry-After` seconds."),
    ("503", "Unavailable", "The service behind the gateway is not reachable."),
    ("504", "GatewayTimeout", "The service did not answer in time."),
];

/// The OpenAPI document of every public RPC in `pool`.
pub fn document(pool: &DescriptorPool) -> Value {
    let comments = Comments::of(pool);
    let mut messages = BTreeSet::new();
    let mut paths = Map::new();
    let mut tags = Vec::new();
    for service in public_services(pool) {
        let file = service.parent_file();
        tags.push(json!({
            "name": service.full_name(),
            "description": comments.get(file.name(), service.path()).unwrap_or_default(),
        }));
        for method in service.methods() {
            let description = comments.get(file.name(), method.path()).unwrap_or_default();
            let summary = description.split(['\n', '.']).next().unwrap_or_default();
            let input = reference(&method.input(), &mut messages);
            let output = reference(&method.output(), &mut messages);
            let (input, output) = (
                many_if(method.is_client_streaming(), input),
                many_if(method.is_server_streaming(), output),
            );
            let mut responses = Map::new();
            responses.insert(
                "200".into(),
                json!({
                    "description": "The answer, in the canonical proto3 JSON mapping.",
                    "content": {"application/json": {"schema": output}},
                }),
            );
            responses.extend(error_responses());
            let path = format!("/v1/{}/{}", service.full_name(), method.name());
            paths.insert(
                path,
                json!({"post": {
                    "operationId": format!("{}_{}", service.name(), method.name()),
                    "tags": [service.full_name()],
                    "summary": summary,
                    "description": description,
                    "requestBody": {
                        "required": true,
                        "content": {"application/json": {"schema": input}},
                    },
                    "responses": responses,
                }}),
            );
        }
    }
    let upload_header = reference(
        &pool
            .get_message_by_name("dti.evidence.v1.UploadHeader")
            .expect("the evidence package declares UploadHeader"),
        &mut messages,
    );
    let uploaded = reference(
        &pool
            .get_message_by_name("dti.evidence.v1.UploadEvidenceResponse")
            .expect("the evidence package declares UploadEvidenceResponse"),
        &mut messages,
    );
    evidence_paths(&mut paths, upload_header, uploaded);
    let mut schemas = Map::new();
    let mut done = BTreeSet::new();
    while let Some(name) = messages.iter().find(|name| !done.contains(*name)).cloned() {
        let message = pool
            .get_message_by_name(&name)
            .expect("referenced messages are in the pool");
        schemas.insert(
            name.clone(),
            message_schema(&message, &comments, &mut messages),
        );
        done.insert(name);
    }
    schemas.insert("ErrorBody".into(), error_body_schema());
    let mut sorted_schemas = Map::new();
    for (name, schema) in schemas.into_iter().collect::<BTreeMap<_, _>>() {
        sorted_schemas.insert(name, schema);
    }
    let mut response_components = Map::new();
    for (_, name, description) in ERRORS {
        let mut response = json!({
            "description": description,
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorBody"}}},
        });
        if name == "TooManyRequests" {
            response["headers"] = json!({"Retry-After": {
                "description": "Seconds until the rate limit allows another request.",
                "schema": {"type": "integer", "minimum": 1},
            }});
        }
        response_components.insert(name.into(), response);
    }
    json!({
        "openapi": "3.1.0",
        "info": {
            "title": "DTI assessment platform (Ho Chi Minh City): HTTP/JSON API",
            "version": "v1",
            "description": "Every public RPC of the platform's services as JSON over HTTP, in the \
    canonical proto3 JSON mapping (field names in lowerCamelCase, 64-bit integers as strings, \
    timestamps in RFC 3339, fields at their default value left out). Generated from the proto \
    descriptors by the gateway (`services/gateway`); regenerate `docs/openapi.json` with \
    `DTI_GATEWAY_WRITE_OPENAPI=1 cargo test -p dti-gateway --test openapi`.",
        },
        "tags": tags,
        "security": [{"bearer": []}],
        "paths": paths,
        "components": {
            "securitySchemes": {"bearer": {
                "type": "http",
                "scheme": "bearer",
                "bearerFormat": "JWT",
                "description": "The caller's platform token; the services authenticate it.",
            }},
            "schemas": sorted_schemas,
            "responses": response_components,
        },
    })
}

fn many_if(streaming: bool, schema: Value) -> Value {
    match streaming {
        true => json!({"type": "array", "items": schema}),
        false => schema,
    }
}

fn error_responses() -> Map<String, Value> {
    ERRORS
        .iter()
        .map(|(status, name, _)| {
            (
                (*status).to_owned(),
                json!({"$ref": format!("#/components/responses/{name}")}),
            )
        })
        .collect()
}

fn evidence_paths(paths: &mut Map<String, Value>, upload_header: Value, uploaded: Value) {
    let mut responses = Map::new();
    responses.insert(
        "200".into(),
        json!({"description": "The stored evidence.", "content": {"application/json": {"schema": uploaded}}}),
    );
    responses.extend(error_responses());
    paths.insert(
        "/v1/evidence/upload".into(),
        json!({"post": {
            "operationId": "EvidenceService_UploadEvidenceMultipart",
            "tags": ["dti.evidence.v1.EvidenceService"],
            "summary": "Uploads one document, streamed to UploadEvidence",
            "description": "A `header` part (an UploadHeader as JSON) and then a `file` part with the \
content; the file part's name and content type fill `fileName` and `declaredContentType` when \
the header leaves them empty.",
            "requestBody": {
                "required": true,
                "content": {"multipart/form-data": {
                    "schema": {
                        "type": "object",
                        "required": ["header", "file"],
                        "properties": {
                            "header": upload_header,
                            "file": {"type": "string", "contentMediaType": "application/octet-stream"},
                        },
                    },
                    "encoding": {"header": {"contentType": "application/json"}},
                }},
            },
            "responses": responses,
        }}),
    );
    let mut responses = Map::new();
    responses.insert(
        "200".into(),
        json!({
            "description": "The document's content.",
            "headers": {
                "ETag": {"description": "The content's SHA-256 (lowercase hex), quoted.", "schema": {"type": "string"}},
                "Content-Length": {"description": "Size in bytes.", "schema": {"type": "integer"}},
            },
            "content": {"*/*": {"schema": {"type": "string", "contentMediaType": "application/octet-stream"}}},
        }),
    );
    responses.insert(
        "304".into(),
        json!({"description": "The content has the ETag given in If-None-Match."}),
    );
    responses.extend(error_responses());
    paths.insert(
        "/v1/evidence/{evidenceId}/content".into(),
        json!({"get": {
            "operationId": "EvidenceService_DownloadEvidenceContent",
            "tags": ["dti.evidence.v1.EvidenceService"],
            "summary": "Downloads a document, streamed from DownloadEvidence",
            "parameters": [
                {"name": "evidenceId", "in": "path", "required": true, "schema": {"type": "string"},
                 "description": "Evidence id (a UUID)."},
                {"name": "If-None-Match", "in": "header", "required": false, "schema": {"type": "string"}},
            ],
            "responses": responses,
        }}),
    );
}

/// `$ref` of `message` (recording it), or the inline schema of a well-known type.
fn reference(message: &MessageDescriptor, seen: &mut BTreeSet<String>) -> Value {
    if let Some(schema) = well_known(message.full_name()) {
        return schema;
    }
    seen.insert(message.full_name().to_owned());
    json!({"$ref": format!("#/components/schemas/{}", message.full_name())})
}

/// The JSON mapping of the well-known types.
fn well_known(name: &str) -> Option<Value> {
    let schema = match name {
        "google.protobuf.Timestamp" => json!({"type": "string", "format": "date-time"}),
        "google.protobuf.Duration" => {
            json!({"type": "string", "pattern": "^-?[0-9]+(\\.[0-9]+)?s$"})
        }
        "google.protobuf.FieldMask" => json!({"type": "string"}),
        "google.protobuf.Empty" => json!({"type": "object", "additionalProperties": false}),
        "google.protobuf.Struct" | "google.protobuf.Any" => json!({"type": "object"}),
        "google.protobuf.ListValue" => json!({"type": "array"}),
        "google.protobuf.Value" => json!({}),
        "google.protobuf.BoolValue" => json!({"type": "boolean"}),
        "google.protobuf.StringValue" | "google.protobuf.BytesValue" => json!({"type": "string"}),
        "google.protobuf.Int32Value" | "google.protobuf.UInt32Value" => json!({"type": "integer"}),
        "google.protobuf.Int64Value" | "google.protobuf.UInt64Value" => {
            json!({"type": "string", "pattern": "^-?[0-9]+$"})
        }
        "google.protobuf.FloatValue" | "google.protobuf.DoubleValue" => json!({"type": "number"}),
        _ => return None,
    };
    Some(schema)
}

fn message_schema(
    message: &MessageDescriptor,
    comments: &Comments,
    seen: &mut BTreeSet<String>,
) -> Value {
    let file = message.parent_file();
    let mut properties = Map::new();
    for field in message.fields() {
        let mut schema = field_schema(&field, seen);
        let mut description = comments
            .get(file.name(), field.path())
            .unwrap_or_default()
            .to_owned();
        if let Some(oneof) = field
            .containing_oneof()
            .filter(|oneof| !oneof.is_synthetic())
        {
            let others: Vec<_> = oneof
                .fields()
                .map(|other| other.json_name().to_owned())
                .collect();
            description.push_str(&format!("\n(Only one of: {}.)", others.join(", ")));
        }
        let description = description.trim();
        if !description.is_empty() {
            schema["description"] = Value::String(description.to_owned());
        }
        properties.insert(field.json_name().to_owned(), schema);
    }
    json!({
        "type": "object",
        "description": comments.get(file.name(), message.path()).unwrap_or_default(),
        "properties": properties,
        "additionalProperties": false,
    })
}

fn field_schema(field: &FieldDescriptor, seen: &mut BTreeSet<String>) -> Value {
    if field.is_map() {
        let entry = field.kind();
        let entry = entry.as_message().expect("a map field's kind is its entry");
        return json!({
            "type": "object",
            "additionalProperties": kind_schema(&entry.map_entry_value_field().kind(), seen),
        });
    }
    let schema = kind_schema(&field.kind(), seen);
    match field.is_list() {
        true => json!({"type": "array", "items": schema}),
        false => schema,
    }
}

fn kind_schema(kind: &Kind, seen: &mut BTreeSet<String>) -> Value {
    match kind {
        Kind::Int32 | Kind::Sint32 | Kind::Sfixed32 => {
            json!({"type": "integer", "minimum": i32::MIN, "maximum": i32::MAX})
        }
        Kind::Uint32 | Kind::Fixed32 => {
            json!({"type": "integer", "minimum": 0, "maximum": u32::MAX})
        }
        Kind::Int64 | Kind::Sint64 | Kind::Sfixed64 => {
            json!({"type": "string", "pattern": "^-?[0-9]{1,19}$"})
        }
        Kind::Uint64 | Kind::Fixed64 => json!({"type": "string", "pattern": "^[0-9]{1,20}$"}),
        Kind::Float | Kind::Double => json!({"type": "number"}),
        Kind::Bool => json!({"type": "boolean"}),
        Kind::String => json!({"type": "string"}),
        Kind::Bytes => json!({"type": "string", "contentEncoding": "base64"}),
        Kind::Enum(descriptor) => json!({
            "type": "string",
            "enum": descriptor.values().map(|value| value.name().to_owned()).collect::<Vec<_>>(),
        }),
        Kind::Message(message) => reference(message, seen),
    }
}

fn error_body_schema() -> Value {
    let codes: Vec<&str> = (0..=16)
        .map(|code| crate::errors::code_name(tonic::Code::from_i32(code)))
        .collect();
    json!({
        "type": "object",
        "description": "Every error answer: the gRPC status code's name, the message the gRPC API gives, and each bad field of an invalid request.",
        "required": ["code", "message", "fieldViolations"],
        "properties": {
            "code": {"type": "string", "enum": codes},
            "message": {"type": "string"},
            "fieldViolations": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["field", "description"],
                    "properties": {
                        "field": {"type": "string", "description": "JSON path of the field, e.g. `round.year` (`body` for the body as a whole)."},
                        "description": {"type": "string"},
                    },
                },
            },
        },
    })
}
