//! The events the scoring service consumes and publishes: names, message ids, and writing
//! `scores.updated.v1` into the outbox in the transaction of the change it announces.

use chrono::Utc;
use dti_bus::outbox::{self, OutboxMessage};
use dti_db::PgTransaction;
use dti_domain::{RoundRef, UnitId};
use dti_proto::dti::common::v1::UnitRef;
use dti_proto::dti::events::v1::ScoresUpdated;
use dti_scores::Basis;
use prost::Message;

use crate::ScoringError;

/// A unit submitted a version (published by the submission service).
pub const SUBMISSION_SUBMITTED: &str = "submission.submitted.v1";

/// A verifier decided on indicators of a submitted version (published by verification).
pub const VERIFIED_VALUES_CHANGED: &str = "verification.values_changed.v1";

/// A cohort's scores changed (published here).
pub const SCORES_UPDATED: &str = "scores.updated.v1";

/// Most units listed in one `ScoresUpdated`; beyond it the event says `all_units`.
const MAX_LISTED_UNITS: usize = 256;

/// The stable id of a cohort's change to `version`.
pub fn scores_updated_msg_id(round: &RoundRef, basis: Basis, version: u64) -> String {
    format!(
        "scores/{}/{}/{}/v{version}",
        round.year, round.framework, basis
    )
}

/// One change of a cohort's scores, to announce.
#[derive(Debug, Clone)]
pub struct ScoresChange<'a> {
    /// The round.
    pub round: &'a RoundRef,
    /// The basis.
    pub basis: Basis,
    /// The cohort's version after the change.
    pub version: u64,
    /// Units scored again.
    pub units: &'a [UnitId],
    /// Every unit was scored again.
    pub all_units: bool,
    /// Min-max indicators whose range moved.
    pub ranges_changed: &'a [String],
}

/// Writes `scores.updated.v1` for `change` into the outbox of `tx`.
pub async fn enqueue_scores_updated(
    tx: &mut PgTransaction,
    nats_prefix: &str,
    change: &ScoresChange<'_>,
) -> Result<(), ScoringError> {
    let all_units = change.all_units || change.units.len() > MAX_LISTED_UNITS;
    let units = if all_units {
        Vec::new()
    } else {
        change
            .units
            .iter()
            .map(|unit| UnitRef {
                unit_id: unit.to_string(),
            })
            .collect()
    };
    let payload = ScoresUpdated {
        round: Some(dti_workflow::rounds::proto_round(change.round)),
        basis: change.basis.to_event() as i32,
        version: change.version,
        units,
        all_units,
        ranges_changed: change.ranges_changed.to_vec(),
        updated_at: Some(dti_proto::convert::timestamp(Utc::now())),
    };
    let message = OutboxMessage::new(
        dti_bus::stream::subject(nats_prefix, SCORES_UPDATED),
        scores_updated_msg_id(change.round, change.basis, change.version),
        payload.encode_to_vec(),
    );
    outbox::enqueue(tx, &message).await?;
    Ok(())
}
