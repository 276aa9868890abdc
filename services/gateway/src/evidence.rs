//! Evidence documents over HTTP, streamed both ways (never held whole in the gateway):
//!
//! - `POST /v1/evidence/upload`, `multipart/form-data` with a `header` part (an
//!   `UploadHeader` as JSON) followed by a `file` part, is streamed into the evidence service's
//!   client-streaming `UploadEvidence` as the bytes arrive; the file part's name and content
//!   type fill `fileName` and `declaredContentType` when the header leaves them empty. A body
//!   that breaks off mid-way resets the call, so the service stores nothing.
//! - `GET /v1/evidence/{evidence_id}/content` streams `DownloadEvidence`'s chunks as the body,
//!   with `Content-Type`, `Content-Length` and `ETag` (the content's SHA-256) from the first
//!   message; `If-None-Match` with that tag answers 304.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Instant;

use axum::body::Body;
use axum::extract::multipart::{Field, Multipart, MultipartError, MultipartRejection};
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use dti_i18n::Message;
use futures::Stream;
use http::{header, HeaderMap, HeaderValue, StatusCode};
use prost_reflect::{DynamicMessage, MessageDescriptor, Value};
use tokio::sync::mpsc;
use tonic::Status;

use crate::catalog::Rpc;
use crate::codec::Outbound;
use crate::errors::ApiError;
use crate::routes::{record, AppState};
use crate::{json, proxy};

/// The evidence service.
const SERVICE: &str = "dti.evidence.v1.EvidenceService";

/// Largest piece of content sent in one upload message.
const MAX_CHUNK: usize = 256 * 1024;

fn rpc<'a>(state: &'a AppState, method: &str) -> Result<&'a Rpc, ApiError> {
    state
        .catalog
        .rpc(SERVICE, method)
        .ok_or_else(|| ApiError::not_found(crate::routes::no_rpc(SERVICE, method)))
}

/// `POST /v1/evidence/upload`.
pub async fn upload(
    State(state): State<AppState>,
    headers: HeaderMap,
    multipart: Result<Multipart, MultipartRejection>,
) -> Response {
    let started = Instant::now();
    let response = match stream_upload(&state, &headers, multipart).await {
        Ok(json) => super::routes::json_response(json),
        Err(error) => error.into_response(),
    };
    record(
        &format!("{SERVICE}/UploadEvidence"),
        response.status(),
        started,
    );
    response
}

async fn stream_upload(
    state: &AppState,
    headers: &HeaderMap,
    multipart: Result<Multipart, MultipartRejection>,
) -> Result<Vec<u8>, ApiError> {
    let rpc = rpc(state, "UploadEvidence")?;
    let mut multipart = multipart.map_err(|rejection| {
        ApiError::invalid_field(
            "body",
            Message::new("gateway-not-multipart").arg("error", rejection.to_string()),
        )
    })?;
    let request = rpc.method.input();
    let header_type = message_field(&request, "header")?;
    let header_part = next_part(&mut multipart, "header").await?;
    let header_json = header_part
        .bytes()
        .await
        .map_err(|error| ApiError::invalid_field("header", unreadable_part(&error)))?;
    let header_message = json::parse_message(header_type, &header_json).map_err(|mut error| {
        for violation in &mut error.body.field_violations {
            violation.field = match violation.field.as_str() {
                "body" => "header".to_owned(),
                field => format!("header.{field}"),
            };
        }
        error
    })?;
    let (sender, receiver) = mpsc::channel(4);
    let completed = Arc::new(AtomicBool::new(false));
    let options = state.call_options(headers);
    let call = proxy::client_streaming(rpc, &options, outbound(receiver, completed.clone()));
    let pump = pump(&mut multipart, header_message, request, sender, completed);
    tokio::pin!(call, pump);
    let mut pumping = true;
    let answer = loop {
        tokio::select! {
            answer = &mut call => break answer,
            pumped = &mut pump, if pumping => match pumped {
                Ok(()) => pumping = false,
                // Dropping the call here lets the outbound stream end in an abort, which
                // resets the call: the service never sees a shorter document as complete.
                Err(error) => return Err(error),
            },
        }
    };
    Ok(json::render(&answer?))
}

/// The upload's messages: those `receiver` gets, then an abort unless `completed` was set
/// before the sender went away.
fn outbound(
    receiver: mpsc::Receiver<DynamicMessage>,
    completed: Arc<AtomicBool>,
) -> impl Stream<Item = Outbound> + Send + 'static {
    futures::stream::unfold(Some(receiver), move |receiver| {
        let completed = completed.clone();
        async move {
            let mut receiver = receiver?;
            match receiver.recv().await {
                Some(message) => Some((Outbound::Message(message), Some(receiver))),
                None if completed.load(Ordering::SeqCst) => None,
                None => Some((
                    Outbound::Abort(Status::cancelled("the upload was interrupted")),
                    None,
                )),
            }
        }
    })
}

/// Opens the file part, sends the header (completed from the part) and the part's bytes as
/// chunk messages, then checks nothing follows it; sets `completed` only when all went well.
async fn pump(
    multipart: &mut Multipart,
    mut header_message: DynamicMessage,
    request: MessageDescriptor,
    sender: mpsc::Sender<DynamicMessage>,
    completed: Arc<AtomicBool>,
) -> Result<(), ApiError> {
    let unreadable =
        |error: MultipartError| ApiError::invalid_field("file", unreadable_part(&error));
    let mut file = next_part(multipart, "file").await?;
    fill_if_empty(&mut header_message, "file_name", file.file_name());
    fill_if_empty(
        &mut header_message,
        "declared_content_type",
        file.content_type(),
    );
    let header = with_part(&request, "header", Value::Message(header_message));
    if sender.send(header).await.is_err() {
        // The call ended before its first message; its answer is what counts.
        return Ok(());
    }
    while let Some(mut bytes) = file.chunk().await.map_err(unreadable)? {
        while !bytes.is_empty() {
            let piece: Bytes = bytes.split_to(bytes.len().min(MAX_CHUNK));
            let message = with_part(&request, "chunk", Value::Bytes(piece));
            if sender.send(message).await.is_err() {
                return Ok(());
            }
        }
    }
    drop(file);
    if let Some(extra) = multipart.next_field().await.map_err(unreadable)? {
        let name = extra.name().unwrap_or_default().to_owned();
        return Err(ApiError::invalid_field(
            name,
            Message::new("gateway-unexpected-part"),
        ));
    }
    completed.store(true, Ordering::SeqCst);
    Ok(())
}

/// The next part, which must be named `name`.
async fn next_part<'a>(multipart: &'a mut Multipart, name: &str) -> Result<Field<'a>, ApiError> {
    let field = multipart
        .next_field()
        .await
        .map_err(|error| ApiError::invalid_field(name, unreadable_part(&error)))?
        .ok_or_else(|| ApiError::invalid_field(name, Message::new("gateway-missing-part")))?;
    if field.name() != Some(name) {
        return Err(ApiError::invalid_field(
            name,
            Message::new("gateway-wrong-part")
                .arg("name", format!("{name:?}"))
                .arg("found", format!("{:?}", field.name().unwrap_or_default())),
        ));
    }
    Ok(field)
}

/// A multipart part (or the body around it) that could not be read.
fn unreadable_part(error: &MultipartError) -> Message {
    Message::new("gateway-unreadable").arg("error", error.body_text())
}

fn message_field(message: &MessageDescriptor, name: &str) -> Result<MessageDescriptor, ApiError> {
    message
        .get_field_by_name(name)
        .and_then(|field| field.kind().as_message().cloned())
        .ok_or_else(|| {
            ApiError::new(
                tonic::Code::Internal,
                Message::new("gateway-no-message-field")
                    .arg("message", message.full_name())
                    .arg("field", name),
            )
        })
}

fn with_part(request: &MessageDescriptor, field: &str, value: Value) -> DynamicMessage {
    let mut message = DynamicMessage::new(request.clone());
    message.set_field_by_name(field, value);
    message
}

fn fill_if_empty(message: &mut DynamicMessage, field: &str, value: Option<&str>) {
    let Some(value) = value.filter(|value| !value.is_empty()) else {
        return;
    };
    let empty = message
        .get_field_by_name(field)
        .is_none_or(|current| current.as_str().is_none_or(str::is_empty));
    if empty {
        message.set_field_by_name(field, Value::String(value.to_owned()));
    }
}

/// `GET /v1/evidence/{evidence_id}/content`.
pub async fn download(
    State(state): State<AppState>,
    Path(evidence_id): Path<String>,
    headers: HeaderMap,
) -> Response {
    let started = Instant::now();
    let response = match stream_download(&state, evidence_id, &headers).await {
        Ok(response) => response,
        Err(error) => error.into_response(),
    };
    record(
        &format!("{SERVICE}/DownloadEvidence"),
        response.status(),
        started,
    );
    response
}

async fn stream_download(
    state: &AppState,
    evidence_id: String,
    headers: &HeaderMap,
) -> Result<Response, ApiError> {
    let rpc = rpc(state, "DownloadEvidence")?;
    let mut request = DynamicMessage::new(rpc.method.input());
    request.set_field_by_name("evidence_id", Value::String(evidence_id));
    let options = state.call_options(headers);
    let mut stream = proxy::server_streaming(rpc, &options, request).await?;
    let first = stream.message().await?.ok_or_else(|| {
        ApiError::new(
            tonic::Code::Internal,
            Message::new("gateway-download-empty"),
        )
    })?;
    let evidence = first
        .get_field_by_name("evidence")
        .and_then(|value| value.as_message().cloned())
        .ok_or_else(|| {
            ApiError::new(
                tonic::Code::Internal,
                Message::new("gateway-download-no-metadata"),
            )
        })?;
    let text = |name: &str| {
        evidence
            .get_field_by_name(name)
            .and_then(|value| value.as_str().map(str::to_owned))
            .unwrap_or_default()
    };
    let size = evidence
        .get_field_by_name("size_bytes")
        .and_then(|value| value.as_u64())
        .unwrap_or_default();
    let etag = format!("\"{}\"", text("sha256"));
    let content_type = Some(text("content_type"))
        .filter(|value| !value.is_empty())
        .unwrap_or_else(|| "application/octet-stream".to_owned());
    let mut response_headers = HeaderMap::new();
    let value = |text: &str| {
        HeaderValue::from_str(text).map_err(|_| {
            ApiError::new(
                tonic::Code::Internal,
                Message::new("gateway-not-header-value").arg("text", format!("{text:?}")),
            )
        })
    };
    response_headers.insert(header::ETAG, value(&etag)?);
    if headers.get(header::IF_NONE_MATCH).is_some_and(|tags| {
        tags.to_str()
            .is_ok_and(|tags| tags.split(',').any(|tag| tag.trim() == etag))
    }) {
        return Ok((StatusCode::NOT_MODIFIED, response_headers).into_response());
    }
    response_headers.insert(header::CONTENT_TYPE, value(&content_type)?);
    response_headers.insert(header::CONTENT_LENGTH, HeaderValue::from(size));
    let file_name: String = text("file_name")
        .chars()
        .filter(|c| c.is_ascii_graphic() && *c != '"' && *c != '\\' || *c == ' ')
        .collect();
    if !file_name.is_empty() {
        response_headers.insert(
            header::CONTENT_DISPOSITION,
            value(&format!("attachment; filename=\"{file_name}\""))?,
        );
    }
    // A failure mid-way fails the body, so the client sees a broken download, never a short
    // one that looks complete.
    let chunks = futures::stream::unfold(Some(stream), |stream| async move {
        let mut stream = stream?;
        match stream.message().await {
            Ok(Some(message)) => {
                let chunk = message
                    .get_field_by_name("chunk")
                    .and_then(|value| value.as_bytes().cloned())
                    .unwrap_or_default();
                Some((Ok::<Bytes, Status>(chunk), Some(stream)))
            }
            Ok(None) => None,
            Err(status) => Some((Err(status), None)),
        }
    });
    Ok((StatusCode::OK, response_headers, Body::from_stream(chunks)).into_response())
}
