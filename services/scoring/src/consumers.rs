//! The event consumers: `submission.submitted.v1` re-scores the unit on both bases (a new
//! version changes its self-assessed and its verified input), `verification.values_changed.v1`
//! on the verified basis. Events only name the unit; its input is read from PostgreSQL, in the
//! consumer's transaction (committed with the inbox row, then acknowledged).
//!
//! A burst is coalesced: the events already delivered are taken as one batch
//! (`service.consumer_batch`), and each cohort they touch is re-scored once for all the units
//! they name — many versions of one unit, or many units of one cohort, cost one pass — in one
//! transaction, after whose commit every event of the batch is acknowledged. Only a unit's
//! latest input counts, so the result equals handling the events one by one.

use std::collections::{BTreeMap, BTreeSet};
use std::marker::PhantomData;
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

/// Counter of events dropped because they could not be read.
pub const EVENTS_DROPPED: &str = "dti_scoring_events_dropped_total";
/// Counter of events whose unit was re-scored in a pass shared with other events.
pub const EVENTS_COALESCED: &str = "dti_scoring_events_coalesced_total";

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

/// The round and unit an event of type `E` names.
fn named_by<E: UnitEvent>(event: &InboundEvent) -> Result<(RoundRef, UnitId), String> {
    let decoded = E::decode(event.payload.as_ref()).map_err(|error| error.to_string())?;
    let (round, unit) = decoded.names();
    named_unit(round, unit)
}

fn drop_unreadable(event: &InboundEvent, problem: &str) {
    tracing::error!(subject = %event.subject, msg_id = %event.msg_id, problem, "dropping an unreadable event");
    metrics::counter!(EVENTS_DROPPED).increment(1);
}

/// An event that names a unit whose input it changed, and the bases that input is on.
pub trait UnitEvent: Message + Default + 'static {
    /// The bases to re-score.
    const BASES: &'static [Basis];

    /// The round and unit the event names.
    fn names(&self) -> (Option<&common::RoundRef>, Option<&common::UnitRef>);
}

impl UnitEvent for SubmissionSubmitted {
    /// A new version changes the self-assessed and the verified input.
    const BASES: &'static [Basis] = &Basis::ALL;

    fn names(&self) -> (Option<&common::RoundRef>, Option<&common::UnitRef>) {
        (self.round.as_ref(), self.unit.as_ref())
    }
}

impl UnitEvent for VerifiedValuesChanged {
    /// Decisions change only the verified input.
    const BASES: &'static [Basis] = &[Basis::Verified];

    fn names(&self) -> (Option<&common::RoundRef>, Option<&common::UnitRef>) {
        (self.round.as_ref(), self.unit.as_ref())
    }
}

/// Re-scores the unit an event of type `E` names on `E::BASES`.
#[derive(Debug, Clone)]
pub struct RescoreOn<E> {
    scorer: Arc<Scorer>,
    event: PhantomData<fn() -> E>,
}

impl<E> RescoreOn<E> {
    /// A handler scoring with `scorer`.
    pub fn new(scorer: Arc<Scorer>) -> Self {
        Self {
            scorer,
            event: PhantomData,
        }
    }
}

impl<E: UnitEvent> EventHandler for RescoreOn<E> {
    type Error = ScoringError;

    async fn handle(
        &self,
        tx: &mut PgTransaction,
        event: &InboundEvent,
    ) -> Result<(), ScoringError> {
        let named = named_by::<E>(event);
        match named {
            Ok((round, unit)) => {
                self.scorer
                    .rescore_unit(tx, &round, &unit, E::BASES)
                    .await?;
            }
            Err(problem) => drop_unreadable(event, &problem),
        }
        Ok(())
    }

    /// One pass per cohort (round and basis) for all the units the events name, cohorts in
    /// one order (round, then basis as `Basis::ALL`) so concurrent passes never deadlock.
    async fn handle_batch(
        &self,
        tx: &mut PgTransaction,
        events: &[InboundEvent],
    ) -> Result<(), ScoringError> {
        // Basis orders as `Basis::ALL`, the order cohort rows are locked in.
        let mut cohorts: BTreeMap<(RoundRef, Basis), BTreeSet<UnitId>> = BTreeMap::new();
        let mut named_units = 0_u64;
        for event in events {
            let named = named_by::<E>(event);
            let (round, unit) = match named {
                Ok(named) => named,
                Err(problem) => {
                    drop_unreadable(event, &problem);
                    continue;
                }
            };
            named_units += 1;
            for &basis in E::BASES {
                cohorts
                    .entry((round.clone(), basis))
                    .or_default()
                    .insert(unit.clone());
            }
        }
        let cohorts: BTreeMap<(RoundRef, Basis), Vec<UnitId>> = cohorts
            .into_iter()
            .map(|(cohort, units)| (cohort, units.into_iter().collect()))
            .collect();
        let distinct: BTreeSet<(&RoundRef, &UnitId)> = cohorts
            .iter()
            .flat_map(|((round, _), units)| units.iter().map(move |unit| (round, unit)))
            .collect();
        self.scorer.rescore_cohorts(tx, &cohorts).await?;
        let shared = named_units.saturating_sub(distinct.len() as u64);
        metrics::counter!(EVENTS_COALESCED).increment(shared);
        Ok(())
    }
}

/// Re-scores the unit of a `SubmissionSubmitted` on both bases.
pub type OnSubmissionSubmitted = RescoreOn<SubmissionSubmitted>;

/// Re-scores the unit of a `VerifiedValuesChanged` on the verified basis.
pub type OnVerifiedValuesChanged = RescoreOn<VerifiedValuesChanged>;
