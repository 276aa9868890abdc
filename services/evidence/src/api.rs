//! The gRPC handlers of `dti.evidence.v1.EvidenceService`: each converts the request (with
//! [`dti_proto::request`], every invalid field named), calls [`EvidenceStore`] and maps errors;
//! protobuf ⇄ domain conversion lives here, at the edge.

use bytes::Bytes;
use dti_auth::grpc::principal;
use dti_domain::{EvidenceId, UnitId};
use dti_i18n::Message;
use dti_proto::dti::common::v1::UnitRef;
use dti_proto::dti::evidence::v1 as pb;
use dti_proto::dti::evidence::v1::evidence_service_server::EvidenceService;
use dti_proto::request::{parse_id, parse_round, parse_unit, FieldError};
use dti_service_kit::status::{InvalidRequest, RequestCheck};
use dti_workflow::rounds::proto_round;
use futures::stream::BoxStream;
use futures::StreamExt;
use tonic::{Request, Response, Status, Streaming};

use crate::content_type::normalise_declared;
use crate::events::timestamp;
use crate::evidence::{EvidenceStore, UploadHeader};
use crate::file_name::FileName;
use crate::records::EvidenceRecord;
use crate::EvidenceError;

/// The handlers, on one [`EvidenceStore`].
#[derive(Debug, Clone)]
pub struct EvidenceApi {
    store: EvidenceStore,
}

impl EvidenceApi {
    /// Handlers on `store`.
    pub fn new(store: EvidenceStore) -> Self {
        Self { store }
    }
}

#[tonic::async_trait]
impl EvidenceService for EvidenceApi {
    async fn upload_evidence(
        &self,
        request: Request<Streaming<pb::UploadEvidenceRequest>>,
    ) -> Result<Response<pb::UploadEvidenceResponse>, Status> {
        let actor = principal(&request)?.clone();
        let mut messages = request.into_inner();
        let first = messages
            .message()
            .await
            .map_err(|status| EvidenceError::Interrupted(status.message().to_owned()))?;
        let header = match first.and_then(|message| message.part) {
            Some(pb::upload_evidence_request::Part::Header(header)) => parse_header(header)?,
            _ => {
                return Err(EvidenceError::invalid_field(
                    "header",
                    Message::new("evidence-header-first"),
                )
                .into())
            }
        };
        let chunks = messages.map(|message| match message {
            Ok(pb::UploadEvidenceRequest {
                part: Some(pb::upload_evidence_request::Part::Chunk(chunk)),
            }) => Ok(Bytes::from(chunk)),
            Ok(_) => Err(EvidenceError::invalid_field(
                "header",
                Message::new("evidence-header-once"),
            )),
            Err(status) => Err(EvidenceError::Interrupted(status.message().to_owned())),
        });
        let attached = self.store.attach(&actor, header, chunks).await?;
        Ok(Response::new(pb::UploadEvidenceResponse {
            evidence: Some(evidence_message(&attached.record)),
            already_attached: attached.already_attached,
        }))
    }

    type DownloadEvidenceStream = BoxStream<'static, Result<pb::DownloadEvidenceResponse, Status>>;

    async fn download_evidence(
        &self,
        request: Request<pb::DownloadEvidenceRequest>,
    ) -> Result<Response<Self::DownloadEvidenceStream>, Status> {
        let actor = principal(&request)?.clone();
        let id = parse_evidence_id(&request.get_ref().evidence_id)?;
        let download = self.store.download(&actor, id).await?;
        let metadata = pb::DownloadEvidenceResponse {
            part: Some(pb::download_evidence_response::Part::Evidence(
                evidence_message(&download.record),
            )),
        };
        // The chunks are read after the handler returned, outside the request's language
        // scope: a failure among them is written in the language of the request all the same.
        let lang = dti_i18n::current_lang();
        let chunks = download.content.map(move |chunk| {
            chunk
                .map(|bytes| pb::DownloadEvidenceResponse {
                    part: Some(pb::download_evidence_response::Part::Chunk(bytes.to_vec())),
                })
                .map_err(|error| dti_i18n::sync_scope(lang, || Status::from(error)))
        });
        Ok(Response::new(
            futures::stream::once(async { Ok(metadata) })
                .chain(chunks)
                .boxed(),
        ))
    }

    async fn get_evidence(
        &self,
        request: Request<pb::GetEvidenceRequest>,
    ) -> Result<Response<pb::Evidence>, Status> {
        let actor = principal(&request)?.clone();
        let id = parse_evidence_id(&request.get_ref().evidence_id)?;
        let record = self.store.get(&actor, id).await?;
        Ok(Response::new(evidence_message(&record)))
    }

    async fn list_evidence(
        &self,
        request: Request<pb::ListEvidenceRequest>,
    ) -> Result<Response<pb::ListEvidenceResponse>, Status> {
        let actor = principal(&request)?.clone();
        let message = request.into_inner();
        let mut check = RequestCheck::new();
        let round = check.field(parse_round(message.round.as_ref()));
        let unit = check.field(parse_evidence_unit(message.unit.as_ref()));
        let (round, unit) = check.finish(round.zip(unit))?;
        let records = self
            .store
            .list(
                &actor,
                &round,
                &unit,
                &message.indicator_code,
                message.include_removed,
            )
            .await?;
        Ok(Response::new(pb::ListEvidenceResponse {
            evidence: records.iter().map(evidence_message).collect(),
        }))
    }

    async fn remove_evidence(
        &self,
        request: Request<pb::RemoveEvidenceRequest>,
    ) -> Result<Response<pb::Evidence>, Status> {
        let actor = principal(&request)?.clone();
        let message = request.into_inner();
        let id = parse_evidence_id(&message.evidence_id)?;
        let record = self.store.remove(&actor, id, &message.reason).await?;
        Ok(Response::new(evidence_message(&record)))
    }
}

/// Parses an upload header, reporting every invalid field at once.
fn parse_header(header: pb::UploadHeader) -> Result<UploadHeader, EvidenceError> {
    let mut check = RequestCheck::new();
    let round = check.field(parse_round(header.round.as_ref()).map_err(in_header));
    let unit = check.field(parse_evidence_unit(header.unit.as_ref()).map_err(in_header));
    if header.indicator_code.trim().is_empty() {
        check.violation("header.indicator_code", Message::new("request-must-be-set"));
    }
    let file_name = check.field(
        FileName::sanitise(&header.file_name)
            .map_err(|error| FieldError::new("header.file_name", error.message())),
    );
    let declared = normalise_declared(&header.declared_content_type);
    if !declared.is_empty() && !looks_like_media_type(&declared) {
        check.violation(
            "header.declared_content_type",
            Message::new("evidence-not-media-type").arg("declared", format!("{declared:?}")),
        );
    }
    let parsed = round.zip(unit).zip(file_name);
    let summary = Message::new("evidence-invalid-header").localized();
    let ((round, unit), file_name) = check.finish_as(&summary, parsed)?;
    Ok(UploadHeader {
        round,
        unit,
        indicator_code: header.indicator_code.trim().to_owned(),
        file_name,
        declared_content_type: declared,
    })
}

/// A field of the upload header, named from the request (`round.year` → `header.round.year`).
fn in_header(error: FieldError) -> FieldError {
    error.within("header")
}

/// `type/subtype` made of token characters.
fn looks_like_media_type(declared: &str) -> bool {
    let token = |part: &str| {
        !part.is_empty()
            && part
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "!#$&^_.+-".contains(c))
    };
    matches!(declared.split_once('/'), Some((kind, sub)) if token(kind) && token(sub))
}

/// The unit of a request: absent, or with an empty id, is "must be set" at `unit.unit_id`, the
/// field a client fills in.
fn parse_evidence_unit(unit: Option<&UnitRef>) -> Result<UnitId, FieldError> {
    match unit {
        Some(unit) if !unit.unit_id.is_empty() => parse_unit(Some(unit)),
        _ => Err(FieldError::missing("unit.unit_id")),
    }
}

/// An evidence id, or an error naming `evidence_id`.
fn parse_evidence_id(id: &str) -> Result<EvidenceId, EvidenceError> {
    parse_id("evidence_id", id).map_err(|error| InvalidRequest::from(error).into())
}

/// The protobuf message of `record`.
fn evidence_message(record: &EvidenceRecord) -> pb::Evidence {
    pb::Evidence {
        evidence_id: record.id.to_string(),
        round: Some(proto_round(&record.round)),
        unit: Some(UnitRef {
            unit_id: record.unit.to_string(),
        }),
        indicator_code: record.indicator.to_string(),
        file_name: record.file_name.clone(),
        content_type: record.content_type.clone(),
        declared_content_type: record.declared_content_type.clone(),
        size_bytes: record.size_bytes,
        sha256: record.sha256.hex(),
        uploaded_by: record.uploaded_by.clone(),
        uploaded_at: Some(timestamp(record.uploaded_at)),
        removal: record.removal.as_ref().map(|removal| pb::Removal {
            removed_by: removal.removed_by.clone(),
            removed_at: Some(timestamp(removal.removed_at)),
            reason: removal.reason.clone(),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use dti_proto::dti::common::v1::RoundRef;
    use dti_service_kit::service_error::Refusal;

    fn header() -> pb::UploadHeader {
        pb::UploadHeader {
            round: Some(RoundRef {
                year: 2023,
                framework: "hcm-2023-district".into(),
            }),
            unit: Some(UnitRef {
                unit_id: "quan-1".into(),
            }),
            indicator_code: "1.1".into(),
            file_name: "Báo cáo.pdf".into(),
            declared_content_type: "Application/PDF".into(),
        }
    }

    #[test]
    fn a_good_header_is_parsed_and_normalised() {
        let parsed = parse_header(header()).expect("valid");
        assert_eq!(parsed.unit.as_str(), "quan-1");
        assert_eq!(parsed.file_name.as_str(), "Báo cáo.pdf");
        assert_eq!(parsed.declared_content_type, "application/pdf");
    }

    #[test]
    fn every_bad_header_field_is_named_at_once() {
        let bad = pb::UploadHeader {
            round: Some(RoundRef {
                year: 1999,
                framework: "hcm-2023-district".into(),
            }),
            unit: None,
            indicator_code: " ".into(),
            file_name: "../..".into(),
            declared_content_type: "pdf".into(),
        };
        let Err(EvidenceError::Refused(Refusal::Invalid(InvalidRequest { violations, .. }))) =
            parse_header(bad)
        else {
            panic!("expected an invalid header");
        };
        let fields: Vec<&str> = violations.iter().map(|v| v.field.as_str()).collect();
        assert_eq!(
            fields,
            [
                "header.round.year",
                "header.unit.unit_id",
                "header.indicator_code",
                "header.file_name",
                "header.declared_content_type"
            ]
        );
    }

    #[test]
    fn evidence_ids_must_be_uuids() {
        assert!(parse_evidence_id(&EvidenceId::generate().to_string()).is_ok());
        for bad in ["", "not-a-uuid"] {
            let Err(EvidenceError::Refused(Refusal::Invalid(InvalidRequest {
                violations, ..
            }))) = parse_evidence_id(bad)
            else {
                panic!("expected invalid");
            };
            assert_eq!(violations[0].field, "evidence_id");
        }
    }
}
