//! A unit's score row as stored: the engine's scores of the indicators that do not depend on
//! the cohort (with their explanations, summed per group) and the unit's input to the min-max
//! indicators, whose scores are computed from the cohort's range whenever they are read.

use dti_domain::ids::{GroupCode, IndicatorCode};
use dti_domain::values::UnitValues;
use dti_domain::UnitId;
use dti_engine::{score_unit, CohortStats, Explain, Explanation, Outcome, Points, UnitScore};
use dti_scores::stored::{cohort_inputs_to_json, groups_to_json};
use dti_scores::FrameworkLayout;
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use serde_json::Value;

use crate::inputs::InputIdentity;
use crate::ScoringError;

/// One unit's row of `score_units`, ready to write.
#[derive(Debug, Clone)]
pub struct UnitScoreRow {
    /// The unit.
    pub unit: UnitId,
    /// The input scored.
    pub identity: InputIdentity,
    /// Hundredths per group of the indicators that do not depend on the cohort.
    pub fixed_groups: Value,
    /// Those indicators, scored and explained (JSON text, written as the engine renders it).
    pub fixed_indicators: String,
    /// The unit's input to the min-max indicators.
    pub cohort_inputs: Value,
}

/// An indicator as written into `fixed_indicators`.
#[derive(Serialize)]
struct StoredIndicatorOut<'a> {
    code: &'a IndicatorCode,
    group: &'a GroupCode,
    outcome: Outcome,
    cents: i64,
    explanation: Option<&'a Explanation>,
}

/// An indicator as read back from `fixed_indicators`, its explanation left as JSON text.
#[derive(Debug, Deserialize)]
pub struct StoredIndicator<'a> {
    /// Indicator code.
    pub code: String,
    /// Its group.
    pub group: String,
    /// `scored`, `missing` or `not_applicable`.
    pub outcome: String,
    /// Rounded score in hundredths.
    pub cents: i64,
    /// The engine's explanation, as JSON text.
    #[serde(borrow)]
    pub explanation: &'a RawValue,
}

/// The row of a unit scored by the engine (`scored` must carry explanations).
pub fn unit_row(
    layout: &FrameworkLayout,
    identity: InputIdentity,
    values: &UnitValues,
    scored: &UnitScore,
) -> Result<UnitScoreRow, ScoringError> {
    let mut groups = vec![Points::ZERO; layout.group_count()];
    let mut fixed = Vec::with_capacity(scored.indicators.len());
    for indicator in &scored.indicators {
        if layout.is_cohort_dependent(&indicator.code) {
            continue;
        }
        if let Some(sum) = layout
            .group_index(&indicator.group)
            .and_then(|g| groups.get_mut(g))
        {
            *sum = *sum + indicator.score;
        }
        fixed.push(StoredIndicatorOut {
            code: &indicator.code,
            group: &indicator.group,
            outcome: indicator.outcome,
            cents: indicator.score.cents(),
            explanation: indicator.explanation.as_deref(),
        });
    }
    let cents: Vec<i64> = groups.iter().map(|points| points.cents()).collect();
    Ok(UnitScoreRow {
        unit: scored.unit.clone(),
        identity,
        fixed_groups: groups_to_json(layout, &cents),
        fixed_indicators: serde_json::to_string(&fixed).map_err(|source| ScoringError::Encode {
            what: "indicator scores",
            source,
        })?,
        cohort_inputs: cohort_inputs_to_json(layout, values),
    })
}

/// Scores a unit's values with explanations and makes its row.
pub fn score_row(
    layout: &FrameworkLayout,
    stats: &CohortStats,
    identity: InputIdentity,
    values: &UnitValues,
) -> Result<UnitScoreRow, ScoringError> {
    let scored = score_unit(layout.framework(), stats, values, Explain::Full)?;
    unit_row(layout, identity, values, &scored)
}

/// The row of a unit that has submitted nothing (every indicator missing); the same for every
/// unit, so its id is a placeholder.
pub fn empty_unit_row(layout: &FrameworkLayout) -> Result<UnitScoreRow, ScoringError> {
    let placeholder =
        UnitId::parse("nothing-submitted").map_err(|error| ScoringError::StoredInput {
            place: "placeholder unit".into(),
            problems: error.to_string(),
        })?;
    score_row(
        layout,
        &CohortStats::default(),
        InputIdentity::default(),
        &UnitValues::new(placeholder),
    )
}
