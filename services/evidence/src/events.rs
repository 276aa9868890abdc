//! The events the evidence service announces through the outbox: `evidence.attached.v1` and
//! `evidence.removed.v1`, with a message id that is a stable id of the fact.

use dti_bus::outbox::OutboxMessage;
use dti_proto::dti::common::v1::UnitRef;
use dti_proto::dti::events::v1::{EvidenceAttached, EvidenceRemoved};
use dti_workflow::rounds::proto_round;
use prost::Message;

use crate::records::{EvidenceRecord, RemovalRecord};

/// Event name of an attached document, under the NATS prefix.
pub const EVIDENCE_ATTACHED: &str = "evidence.attached.v1";
/// Event name of a removed document, under the NATS prefix.
pub const EVIDENCE_REMOVED: &str = "evidence.removed.v1";

pub use dti_proto::convert::timestamp;

/// `evidence.attached.v1` for `record`; message id `evidence/<id>/attached`.
pub fn attached(nats_prefix: &str, record: &EvidenceRecord) -> OutboxMessage {
    let event = EvidenceAttached {
        evidence_id: record.id.to_string(),
        round: Some(proto_round(&record.round)),
        unit: Some(UnitRef {
            unit_id: record.unit.to_string(),
        }),
        indicator_code: record.indicator.to_string(),
        file_name: record.file_name.clone(),
        content_type: record.content_type.clone(),
        size_bytes: record.size_bytes,
        sha256: record.sha256.hex(),
        uploaded_by: record.uploaded_by.clone(),
        uploaded_at: Some(timestamp(record.uploaded_at)),
    };
    OutboxMessage::new(
        dti_bus::stream::subject(nats_prefix, EVIDENCE_ATTACHED),
        format!("evidence/{}/attached", record.id),
        event.encode_to_vec(),
    )
}

/// `evidence.removed.v1` for `record` removed by `removal`; message id
/// `evidence/<id>/removed`.
pub fn removed(
    nats_prefix: &str,
    record: &EvidenceRecord,
    removal: &RemovalRecord,
) -> OutboxMessage {
    let event = EvidenceRemoved {
        evidence_id: record.id.to_string(),
        round: Some(proto_round(&record.round)),
        unit: Some(UnitRef {
            unit_id: record.unit.to_string(),
        }),
        indicator_code: record.indicator.to_string(),
        removed_by: removal.removed_by.clone(),
        reason: removal.reason.clone(),
        removed_at: Some(timestamp(removal.removed_at)),
    };
    OutboxMessage::new(
        dti_bus::stream::subject(nats_prefix, EVIDENCE_REMOVED),
        format!("evidence/{}/removed", record.id),
        event.encode_to_vec(),
    )
}
