//! The `scores.updated.v1` consumer: brings the named cohort's sorted sets up to the score
//! tables. The event only says which cohort changed; what changed is read from PostgreSQL, so
//! a redelivered or stale event finds the sets up to date.

use std::sync::Arc;

use dti_bus::consumer::{EventHandler, InboundEvent};
use dti_db::PgTransaction;
use dti_proto::dti::events::v1::ScoresUpdated;
use dti_scores::Basis;
use prost::Message;

use crate::cohort_sync::RankingSync;
use crate::RankingError;

/// Counter of events dropped because they could not be read.
pub const EVENTS_DROPPED: &str = "dti_ranking_events_dropped_total";

/// Event name of a cohort's score change, under the NATS prefix.
pub const SCORES_UPDATED: &str = "scores.updated.v1";

/// Synchronises the cohort of each `ScoresUpdated`.
#[derive(Debug, Clone)]
pub struct OnScoresUpdated {
    sync: Arc<RankingSync>,
}

impl OnScoresUpdated {
    /// A handler synchronising through `sync`.
    pub fn new(sync: Arc<RankingSync>) -> Self {
        Self { sync }
    }
}

impl EventHandler for OnScoresUpdated {
    type Error = RankingError;

    async fn handle(
        &self,
        _tx: &mut PgTransaction,
        event: &InboundEvent,
    ) -> Result<(), RankingError> {
        let named = ScoresUpdated::decode(event.payload.as_ref())
            .map_err(|error| error.to_string())
            .and_then(|updated| {
                let round = dti_workflow::rounds::parse_round(updated.round.as_ref())
                    .map_err(|(field, problem)| format!("{field}: {problem}"))?;
                let basis = Basis::from_event(updated.basis).ok_or("basis: unspecified")?;
                Ok((round, basis))
            });
        match named {
            Ok((round, basis)) => {
                self.sync.sync(&round, basis).await?;
            }
            Err(problem) => {
                tracing::error!(subject = %event.subject, msg_id = %event.msg_id, problem, "dropping an unreadable event");
                metrics::counter!(EVENTS_DROPPED).increment(1);
            }
        }
        Ok(())
    }
}
