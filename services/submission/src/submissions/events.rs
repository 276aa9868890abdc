//! The `submission.submitted.v1` event: its protobuf payload and stable message id, written to
//! the outbox in the transaction of the submit it announces (the relay publishes it).

use chrono::{DateTime, Utc};
use dti_bus::outbox::{self, OutboxMessage};
use dti_db::PgTransaction;
use dti_proto::convert::timestamp;
use dti_proto::dti::common::v1::UnitRef;
use dti_proto::dti::events::v1::SubmissionSubmitted;
use dti_workflow::rounds::proto_round;
use dti_workflow::submissions::SubmissionHead;
use prost::Message;

use super::model::version_number;
use crate::SubmissionError;

/// Event name of a submitted version, under the NATS prefix.
pub const SUBMITTED_EVENT: &str = "submission.submitted.v1";

/// Writes `submission.submitted.v1` for `version` of `head` into the outbox.
pub(super) async fn announce_submitted(
    tx: &mut PgTransaction,
    nats_prefix: &str,
    head: &SubmissionHead,
    version: i32,
    submitted_at: DateTime<Utc>,
) -> Result<(), SubmissionError> {
    let event = SubmissionSubmitted {
        submission_id: head.id.to_string(),
        round: Some(proto_round(&head.round)),
        unit: Some(UnitRef {
            unit_id: head.unit.to_string(),
        }),
        version: version_number(version)?,
        submitted_at: Some(timestamp(submitted_at)),
    };
    let message = OutboxMessage::new(
        dti_bus::stream::subject(nats_prefix, SUBMITTED_EVENT),
        format!("submission/{}/v{version}", head.id),
        event.encode_to_vec(),
    );
    outbox::enqueue(tx, &message).await?;
    Ok(())
}
