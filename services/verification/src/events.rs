//! The events this service publishes, as outbox messages: subject under the NATS prefix, the
//! stable `Nats-Msg-Id` of the fact (so a retry or relay restart never yields a second copy),
//! and the protobuf payload of `dti.events.v1` (`proto/proto/dti/events/v1/verification.proto`).

use chrono::{DateTime, Utc};
use dti_bus::outbox::OutboxMessage;
use dti_bus::stream::subject;
use dti_domain::ObjectionId;
use dti_domain::{RoundRef, UnitId};
use dti_proto::convert::timestamp;
use dti_proto::dti::common::v1::UnitRef;
use dti_proto::dti::events::v1 as pb;
use dti_workflow::rounds::proto_round;
use dti_workflow::submissions::SubmissionHead;
use prost::Message;

/// A submitted version was opened for verification.
pub const STARTED: &str = "verification.started.v1";
/// A batch of decisions was committed.
pub const VALUES_CHANGED: &str = "verification.values_changed.v1";
/// A submission was sent back with questions.
pub const CLARIFICATION_REQUESTED: &str = "verification.clarification_requested.v1";
/// A submission's verification was completed.
pub const COMPLETED: &str = "verification.completed.v1";
/// A unit objected to a provisional result.
pub const OBJECTION_FILED: &str = "verification.objection_filed.v1";
/// A revision of a round's result was published.
pub const PUBLISHED: &str = "verification.published.v1";

fn unit_ref(unit: &UnitId) -> UnitRef {
    UnitRef {
        unit_id: unit.to_string(),
    }
}

fn version_number(version: i32) -> u32 {
    u32::try_from(version).unwrap_or(0)
}

/// `verification.values_changed.v1`, id `verification/<submission>/v<version>/r<revision>`.
pub fn values_changed(
    prefix: &str,
    head: &SubmissionHead,
    version: i32,
    revision: i64,
    codes: &[String],
    at: DateTime<Utc>,
) -> OutboxMessage {
    let event = pb::VerifiedValuesChanged {
        submission_id: head.id.to_string(),
        round: Some(proto_round(&head.round)),
        unit: Some(unit_ref(&head.unit)),
        version: version_number(version),
        revision: u64::try_from(revision).unwrap_or(0),
        indicator_codes: codes.to_vec(),
        changed_at: Some(timestamp(at)),
    };
    OutboxMessage::new(
        subject(prefix, VALUES_CHANGED),
        format!("verification/{}/v{version}/r{revision}", head.id),
        event.encode_to_vec(),
    )
}

/// `verification.started.v1`, id `verification-started/<submission>/v<version>`.
pub fn started(
    prefix: &str,
    head: &SubmissionHead,
    started_by: &str,
    at: DateTime<Utc>,
) -> OutboxMessage {
    let event = pb::VerificationStarted {
        submission_id: head.id.to_string(),
        round: Some(proto_round(&head.round)),
        unit: Some(unit_ref(&head.unit)),
        version: version_number(head.latest_version),
        started_by: started_by.to_owned(),
        started_at: Some(timestamp(at)),
    };
    OutboxMessage::new(
        subject(prefix, STARTED),
        format!("verification-started/{}/v{}", head.id, head.latest_version),
        event.encode_to_vec(),
    )
}

/// `verification.clarification_requested.v1`, id `clarification/<submission>/v<version>`.
pub fn clarification_requested(
    prefix: &str,
    head: &SubmissionHead,
    questions: &[(String, String)],
    requested_by: &str,
    at: DateTime<Utc>,
) -> OutboxMessage {
    let event = pb::ClarificationRequested {
        submission_id: head.id.to_string(),
        round: Some(proto_round(&head.round)),
        unit: Some(unit_ref(&head.unit)),
        version: version_number(head.latest_version),
        questions: questions
            .iter()
            .map(|(code, question)| pb::ClarificationQuestion {
                indicator_code: code.clone(),
                question: question.clone(),
            })
            .collect(),
        requested_by: requested_by.to_owned(),
        requested_at: Some(timestamp(at)),
    };
    OutboxMessage::new(
        subject(prefix, CLARIFICATION_REQUESTED),
        format!("clarification/{}/v{}", head.id, head.latest_version),
        event.encode_to_vec(),
    )
}

/// `verification.completed.v1`, id `verification-completed/<submission>/v<version>`.
pub fn completed(
    prefix: &str,
    head: &SubmissionHead,
    completed_by: &str,
    at: DateTime<Utc>,
) -> OutboxMessage {
    let event = pb::VerificationCompleted {
        submission_id: head.id.to_string(),
        round: Some(proto_round(&head.round)),
        unit: Some(unit_ref(&head.unit)),
        version: version_number(head.latest_version),
        completed_by: completed_by.to_owned(),
        completed_at: Some(timestamp(at)),
    };
    OutboxMessage::new(
        subject(prefix, COMPLETED),
        format!(
            "verification-completed/{}/v{}",
            head.id, head.latest_version
        ),
        event.encode_to_vec(),
    )
}

/// What an objection event says.
#[derive(Debug, Clone, Copy)]
pub struct ObjectionFacts<'a> {
    /// Objection id.
    pub id: ObjectionId,
    /// The round.
    pub round: &'a RoundRef,
    /// The objecting unit.
    pub unit: &'a UnitId,
    /// The revision objected to.
    pub revision: i32,
    /// The indicator, if one.
    pub indicator_code: Option<&'a str>,
    /// Who filed it.
    pub filed_by: &'a str,
    /// When.
    pub filed_at: DateTime<Utc>,
}

/// `verification.objection_filed.v1`, id `objection/<objection id>`.
pub fn objection_filed(prefix: &str, facts: ObjectionFacts<'_>) -> OutboxMessage {
    let event = pb::ObjectionFiled {
        objection_id: facts.id.to_string(),
        round: Some(proto_round(facts.round)),
        unit: Some(unit_ref(facts.unit)),
        revision: version_number(facts.revision),
        indicator_code: facts.indicator_code.unwrap_or_default().to_owned(),
        filed_by: facts.filed_by.to_owned(),
        filed_at: Some(timestamp(facts.filed_at)),
    };
    OutboxMessage::new(
        subject(prefix, OBJECTION_FILED),
        format!("objection/{}", facts.id),
        event.encode_to_vec(),
    )
}

/// What a publication event says.
#[derive(Debug, Clone, Copy)]
pub struct PublicationFacts<'a> {
    /// The round.
    pub round: &'a RoundRef,
    /// The revision.
    pub revision: i32,
    /// Why it exists.
    pub reason: &'a str,
    /// Content hash, hex.
    pub content_hash: &'a str,
    /// Who published it.
    pub published_by: &'a str,
    /// When.
    pub published_at: DateTime<Utc>,
    /// End of the provisional period.
    pub provisional_until: DateTime<Utc>,
}

/// `verification.published.v1`, id `publication/<year>/<framework>/r<revision>`.
pub fn published(prefix: &str, facts: PublicationFacts<'_>) -> OutboxMessage {
    let event = pb::ResultsPublished {
        round: Some(proto_round(facts.round)),
        revision: version_number(facts.revision),
        reason: facts.reason.to_owned(),
        content_hash: facts.content_hash.to_owned(),
        published_by: facts.published_by.to_owned(),
        published_at: Some(timestamp(facts.published_at)),
        provisional_until: Some(timestamp(facts.provisional_until)),
    };
    OutboxMessage::new(
        subject(prefix, PUBLISHED),
        format!(
            "publication/{}/{}/r{}",
            facts.round.year, facts.round.framework, facts.revision
        ),
        event.encode_to_vec(),
    )
}
