//! Reading a unit's scorecard: the stored scores of the indicators that do not depend on the
//! cohort, explained by the engine from the values stored with them, and the min-max indicators
//! scored by the engine from the unit's stored input and the cohort's current ranges — with
//! every explanation — in framework order, summed into groups and a total. Also the one
//! conversion of engine scores into the protobuf scorecard.

use std::collections::HashMap;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use dti_auth::Principal;
use dti_db::PgPool;
use dti_domain::{RoundRef, UnitId};
use dti_engine::{CohortStats, Explain, IndicatorScore, Outcome, Points, UnitScore};
use dti_proto::dti::common::v1::UnitRef;
use dti_proto::dti::scoring::v1 as pb;
use dti_scores::compose::{cohort_scores, unit_totals};
use dti_scores::stored::{
    cohort_inputs_from_json, groups_from_json, num_to_text, ranges_from_json,
};
use dti_scores::tables::stored_year;
use dti_scores::visibility::Reader;
use dti_scores::{Basis, FrameworkLayout, UnitVisibility};
use serde::Deserialize;
use serde_json::value::RawValue;
use serde_json::Value;
use sqlx::types::Json;

use crate::rescore::Scorer;
use crate::score_rows::StoredIndicator;
use crate::ScoringError;

/// Reads scorecards and answers what-if questions.
#[derive(Debug, Clone)]
pub struct ScoreReader {
    pub(crate) pool: PgPool,
    pub(crate) scorer: Arc<Scorer>,
    pub(crate) visibility: UnitVisibility,
}

/// A unit's score row joined with its cohort's head.
type ScorecardRow = (
    i32,
    Json<Value>,
    String,
    Json<Value>,
    DateTime<Utc>,
    i64,
    Json<Value>,
);

impl ScoreReader {
    /// A reader of the score tables of `pool`.
    pub fn new(pool: PgPool, scorer: Arc<Scorer>, visibility: UnitVisibility) -> Self {
        Self {
            pool,
            scorer,
            visibility,
        }
    }

    /// The scorecard of `unit` in `round` on `basis`, if `principal` may read it.
    #[tracing::instrument(skip(self, principal), fields(round = %round, unit = %unit, basis = %basis))]
    pub async fn scorecard(
        &self,
        principal: &Principal,
        round: &RoundRef,
        unit: &UnitId,
        basis: Basis,
    ) -> Result<pb::Scorecard, ScoringError> {
        let layout = self.authorized_layout(principal, round, unit).await?;
        let row: Option<ScorecardRow> = sqlx::query_as(
            "SELECT u.input_version, u.fixed_groups, u.fixed_indicators, u.cohort_inputs, \
               u.scored_at, c.version, c.ranges \
             FROM score_units u JOIN score_cohorts c \
               ON c.year = u.year AND c.framework = u.framework AND c.basis = u.basis \
             WHERE u.year = $1 AND u.framework = $2 AND u.basis = $3 AND u.unit_id = $4",
        )
        .bind(stored_year(round))
        .bind(round.framework.as_str())
        .bind(basis.as_str())
        .bind(unit.as_str())
        .fetch_optional(&self.pool)
        .await
        .map_err(ScoringError::database("reading a scorecard"))?;
        let Some((input_version, groups, indicators, inputs, scored_at, version, ranges)) = row
        else {
            return Err(ScoringError::not_found(
                dti_i18n::Message::new("scoring-no-scores")
                    .arg("unit", unit.to_string())
                    .arg("basis", basis.to_string())
                    .arg("round", round.to_string())
                    .into(),
            ));
        };
        let place = format!("round {round} ({basis}), unit {unit}");
        let stats = ranges_from_json(&place, &ranges.0)?;
        let inputs = cohort_inputs_from_json(&layout, unit, &place, &inputs.0)?;
        let fixed: Vec<StoredIndicator> = serde_json::from_str(&indicators)
            .map_err(|error| dti_scores::ScoresError::corrupt(&place, error.to_string()))?;
        let fixed_groups: Vec<Points> = groups_from_json(&layout, &place, &groups.0)?
            .into_iter()
            .map(Points)
            .collect();
        let cohort = cohort_scores(&layout, &stats, &inputs, Explain::Full)?;
        let cohort_points: Vec<Points> = cohort.iter().map(|scored| scored.score).collect();
        let totals = unit_totals(&layout, &fixed_groups, &cohort_points);
        let mut by_code: HashMap<String, CardIndicator> = HashMap::with_capacity(fixed.len());
        for stored in fixed {
            let card = match stored.explanation {
                Some(explanation) => CardIndicator::from_stored(&stored, explanation),
                None => CardIndicator::from_engine(&stored.rescore(&layout, unit, &place)?, false)?,
            };
            by_code.insert(stored.code, card);
        }
        for scored in &cohort {
            by_code.insert(
                scored.code.to_string(),
                CardIndicator::from_engine(scored, true)?,
            );
        }
        let indicators = layout
            .framework()
            .top_level_indicators()
            .map(|indicator| {
                by_code.remove(indicator.code.as_str()).ok_or_else(|| {
                    dti_scores::ScoresError::corrupt(
                        &place,
                        format!("indicator {} is missing", indicator.code),
                    )
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        let card = Card {
            round,
            unit,
            basis,
            input_version: u32::try_from(input_version).map_err(|_| {
                dti_scores::ScoresError::corrupt(
                    &place,
                    format!("input version {input_version} is not a version"),
                )
            })?,
            cohort_version: dti_scores::tables::version_from_stored(&place, version)?,
            indicators,
            groups: totals.groups,
            total: totals.total,
            stats: &stats,
            scored_at: Some(scored_at),
        };
        Ok(card.into_proto(&layout))
    }

    /// Checks that `principal` may read `unit`'s scores in `round` now, and that the unit is
    /// assessed in it; returns the round's framework layout.
    pub(crate) async fn authorized_layout(
        &self,
        principal: &Principal,
        round: &RoundRef,
        unit: &UnitId,
    ) -> Result<Arc<FrameworkLayout>, ScoringError> {
        let reader = Reader::of(principal)?;
        let layout = self.scorer.layout(&round.framework).map_err(|_| {
            ScoringError::invalid_field(
                "round.framework",
                dti_i18n::Message::new("scoring-framework-not-scored")
                    .arg("framework", round.framework.to_string()),
            )
        })?;
        let seen = dti_workflow::rounds::find_for_unit(&self.pool, round, unit)
            .await?
            .ok_or_else(|| {
                ScoringError::not_found(dti_workflow::rounds::not_found(round).into())
            })?;
        reader.may_read_unit(unit, round, seen.record.state, self.visibility)?;
        if !seen.in_cohort {
            return Err(ScoringError::not_found(
                dti_i18n::Message::new("submission-unit-not-in-round")
                    .arg("unit", unit.to_string())
                    .arg("round", round.to_string())
                    .into(),
            ));
        }
        Ok(layout)
    }
}

/// One indicator of a scorecard.
#[derive(Debug, Clone)]
pub(crate) struct CardIndicator {
    code: String,
    group: String,
    outcome: pb::Outcome,
    cents: i64,
    cohort_dependent: bool,
    explanation: String,
}

/// The parts of an explanation shown outside its JSON.
#[derive(Debug, Default, Deserialize)]
struct ExplanationBrief {
    #[serde(default)]
    kind: String,
    #[serde(default)]
    summary: String,
}

impl CardIndicator {
    /// An indicator scored by the engine (with its explanation).
    pub(crate) fn from_engine(
        scored: &IndicatorScore,
        cohort_dependent: bool,
    ) -> Result<Self, ScoringError> {
        let explanation = match &scored.explanation {
            Some(explanation) => {
                serde_json::to_string(explanation).map_err(|source| ScoringError::Encode {
                    what: "an explanation",
                    source,
                })?
            }
            None => String::new(),
        };
        Ok(Self {
            code: scored.code.to_string(),
            group: scored.group.to_string(),
            outcome: outcome_of(scored.outcome),
            cents: scored.score.cents(),
            cohort_dependent,
            explanation,
        })
    }

    /// An indicator as stored with its explanation (rows written before explanations were
    /// computed on reading).
    fn from_stored(stored: &StoredIndicator<'_>, explanation: &RawValue) -> Self {
        let outcome = match stored.outcome.as_str() {
            "scored" => pb::Outcome::Scored,
            "missing" => pb::Outcome::Missing,
            "not_applicable" => pb::Outcome::NotApplicable,
            _ => pb::Outcome::Unspecified,
        };
        Self {
            code: stored.code.clone(),
            group: stored.group.clone(),
            outcome,
            cents: stored.cents,
            cohort_dependent: false,
            explanation: explanation.get().to_owned(),
        }
    }

    fn into_proto(self) -> pb::IndicatorScore {
        let brief: ExplanationBrief = serde_json::from_str(&self.explanation).unwrap_or_default();
        pb::IndicatorScore {
            indicator_code: self.code,
            group_code: self.group,
            outcome: self.outcome as i32,
            score: Points(self.cents).to_string(),
            score_cents: self.cents,
            cohort_dependent: self.cohort_dependent,
            explanation: Some(pb::Explanation {
                kind: brief.kind,
                summary: brief.summary,
                json: self.explanation,
            }),
        }
    }
}

fn outcome_of(outcome: Outcome) -> pb::Outcome {
    match outcome {
        Outcome::Scored => pb::Outcome::Scored,
        Outcome::Missing => pb::Outcome::Missing,
        Outcome::NotApplicable => pb::Outcome::NotApplicable,
    }
}

/// Everything a protobuf scorecard is made of.
pub(crate) struct Card<'a> {
    pub(crate) round: &'a RoundRef,
    pub(crate) unit: &'a UnitId,
    pub(crate) basis: Basis,
    pub(crate) input_version: u32,
    pub(crate) cohort_version: u64,
    pub(crate) indicators: Vec<CardIndicator>,
    pub(crate) groups: Vec<Points>,
    pub(crate) total: Points,
    pub(crate) stats: &'a CohortStats,
    pub(crate) scored_at: Option<DateTime<Utc>>,
}

impl Card<'_> {
    /// A card of a unit the engine scored whole (what-if).
    pub(crate) fn indicators_of(
        layout: &FrameworkLayout,
        scored: &UnitScore,
    ) -> Result<(Vec<CardIndicator>, Vec<Points>), ScoringError> {
        let indicators = scored
            .indicators
            .iter()
            .map(|indicator| {
                CardIndicator::from_engine(indicator, layout.is_cohort_dependent(&indicator.code))
            })
            .collect::<Result<Vec<_>, _>>()?;
        let groups = scored.groups.iter().map(|group| group.score).collect();
        Ok((indicators, groups))
    }

    /// The protobuf scorecard.
    pub(crate) fn into_proto(self, layout: &FrameworkLayout) -> pb::Scorecard {
        let groups = layout
            .group_codes()
            .zip(&self.groups)
            .map(|(code, points)| pb::GroupScore {
                group_code: code.to_string(),
                score: points.to_string(),
                score_cents: points.cents(),
            })
            .collect();
        let cohort_ranges = layout
            .cohort_indicators()
            .filter_map(|(indicator, _)| {
                self.stats
                    .range(&indicator.code)
                    .map(|range| pb::CohortRange {
                        indicator_code: indicator.code.to_string(),
                        min: num_to_text(&range.min),
                        max: num_to_text(&range.max),
                        units_counted: u32::try_from(range.count).unwrap_or(u32::MAX),
                    })
            })
            .collect();
        pb::Scorecard {
            round: Some(dti_workflow::rounds::proto_round(self.round)),
            unit: Some(UnitRef {
                unit_id: self.unit.to_string(),
            }),
            basis: self.basis.to_proto() as i32,
            input_version: self.input_version,
            cohort_version: self.cohort_version,
            indicators: self
                .indicators
                .into_iter()
                .map(CardIndicator::into_proto)
                .collect(),
            groups,
            total: self.total.to_string(),
            total_cents: self.total.cents(),
            cohort_ranges,
            scored_at: self.scored_at.map(dti_proto::convert::timestamp),
        }
    }
}
