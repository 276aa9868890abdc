//! The event consumers: `submission.submitted.v1` re-scores the unit on both bases (a new
//! version changes its self-assessed and its verified input), `verification.values_changed.v1`
//! on the verified basis. Events only name the unit; its input is read from PostgreSQL, in the
//! consumer's transaction (committed with the inbox row, then acknowledged).

use std::sync::Arc;

use dti_bus::consumer::{EventHandler, InboundEvent};
use dti_db::PgTransaction;
use dti_domain::{RoundRef, UnitId};
use dti_proto::dti::common::v1 as common;
use dti_proto::dti::events::v1::{SubmissionSubmitted, VerifiedValuesChanged};
use dti_scores::Basis;
use prost::Message;

use crate::rescore::Scorer;
use crate::ScoringError;

/// The round and unit an event names, or why it names none (the event is then dropped: no
/// redelivery can make it readable).
fn named_unit(
    round: Option<&common::RoundRef>,
    unit: Option<&common::UnitRef>,
) -> Result<(RoundRef, UnitId), String> {
    let round = dti_workflow::rounds::parse_round(round)
        .map_err(|(field, problem)| format!("{field}: {problem}"))?;
    let unit = unit.ok_or("unit: must be set")?;
    let unit = UnitId::parse(unit.unit_id.clone()).map_err(|error| format!("unit: {error}"))?;
    Ok((round, unit))
}

fn drop_unreadable(event: &InboundEvent, problem: &str) {
    tracing::error!(subject = %event.subject, msg_id = %event.msg_id, problem, "dropping an unreadable event");
    metrics::counter!("dti_scoring_events_dropped_total").increment(1);
}

/// Re-scores the unit of a `SubmissionSubmitted` on both bases.
#[derive(Debug, Clone)]
pub struct OnSubmissionSubmitted {
    scorer: Arc<Scorer>,
}

impl OnSubmissionSubmitted {
    /// A handler scoring with `scorer`.
    pub fn new(scorer: Arc<Scorer>) -> Self {
        Self { scorer }
    }
}

impl EventHandler for OnSubmissionSubmitted {
    type Error = ScoringError;

    async fn handle(
        &self,
        tx: &mut PgTransaction,
        event: &InboundEvent,
    ) -> Result<(), ScoringError> {
        let named = SubmissionSubmitted::decode(event.payload.as_ref())
            .map_err(|error| error.to_string())
            .and_then(|submitted| named_unit(submitted.round.as_ref(), submitted.unit.as_ref()));
        match named {
            Ok((round, unit)) => {
                self.scorer
                    .rescore_unit(tx, &round, &unit, &Basis::ALL)
                    .await?;
            }
            Err(problem) => drop_unreadable(event, &problem),
        }
        Ok(())
    }
}

/// Re-scores the unit of a `VerifiedValuesChanged` on the verified basis.
#[derive(Debug, Clone)]
pub struct OnVerifiedValuesChanged {
    scorer: Arc<Scorer>,
}

impl OnVerifiedValuesChanged {
    /// A handler scoring with `scorer`.
    pub fn new(scorer: Arc<Scorer>) -> Self {
        Self { scorer }
    }
}

impl EventHandler for OnVerifiedValuesChanged {
    type Error = ScoringError;

    async fn handle(
        &self,
        tx: &mut PgTransaction,
        event: &InboundEvent,
    ) -> Result<(), ScoringError> {
        let named = VerifiedValuesChanged::decode(event.payload.as_ref())
            .map_err(|error| error.to_string())
            .and_then(|changed| named_unit(changed.round.as_ref(), changed.unit.as_ref()));
        match named {
            Ok((round, unit)) => {
                self.scorer
                    .rescore_unit(tx, &round, &unit, &[Basis::Verified])
                    .await?;
            }
            Err(problem) => drop_unreadable(event, &problem),
        }
        Ok(())
    }
}
