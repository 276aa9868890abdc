//! A unit's score row as stored: the engine's scores of the indicators that do not depend on
//! the cohort (summed per group, each with the values it was scored from) and the unit's input
//! to the min-max indicators, whose scores are computed from the cohort's range whenever they
//! are read. Explanations are not stored: a scorecard has the engine explain each indicator
//! again from the values stored with it ([`StoredIndicator::rescore`]), which gives the same
//! text and costs microseconds for one unit, where storing them cost most of a cohort pass.

use dti_domain::ids::{GroupCode, IndicatorCode};
use dti_domain::values::{IndicatorValues, UnitValues};
use dti_domain::UnitId;
use dti_engine::{
    score_indicator, score_unit, CohortStats, Explain, IndicatorScore, Outcome, Points, UnitScore,
};
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
    /// Those indicators, scored, with the values each was scored from (JSON text).
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
    /// The values it was scored from (none when missing or not applicable).
    #[serde(skip_serializing_if = "Option::is_none")]
    values: Option<&'a IndicatorValues>,
}

/// An indicator as read back from `fixed_indicators`.
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
    /// The values it was scored from, when it was scored.
    #[serde(default)]
    pub values: Option<serde_json::Map<String, Value>>,
    /// The engine's explanation as JSON text, in rows written before explanations were
    /// computed on reading.
    #[serde(borrow, default)]
    pub explanation: Option<&'a RawValue>,
}

impl StoredIndicator<'_> {
    /// Scores the indicator again from its stored values, with its explanation, and checks the
    /// score is the one stored. `unit` and `place` name the row in errors.
    pub fn rescore(
        &self,
        layout: &FrameworkLayout,
        unit: &UnitId,
        place: &str,
    ) -> Result<IndicatorScore, ScoringError> {
        let corrupt = |problem: String| dti_scores::ScoresError::corrupt(place, problem);
        let indicator = layout
            .framework()
            .indicator_by_str(&self.code)
            .ok_or_else(|| corrupt(format!("indicator {} is not in the framework", self.code)))?;
        let mut values = UnitValues::new(unit.clone());
        match (self.outcome.as_str(), &self.values) {
            ("scored", Some(map)) => {
                let decoded =
                    dti_scores::inputs::decode_values(unit, &self.code, indicator, map.clone())
                        .map_err(corrupt)?;
                values.values.insert(indicator.code.clone(), decoded);
            }
            ("not_applicable", None) => {
                values.not_applicable.insert(indicator.code.clone());
            }
            ("missing", None) => {}
            (outcome, _) => {
                return Err(corrupt(format!(
                    "indicator {}: outcome {outcome} does not fit the values stored",
                    self.code
                ))
                .into())
            }
        }
        let scored = score_indicator(indicator, &CohortStats::default(), &values, Explain::Full)?;
        if scored.score.cents() != self.cents {
            return Err(corrupt(format!(
                "indicator {} scores {} from its stored values, not the {} stored",
                self.code,
                scored.score,
                Points(self.cents)
            ))
            .into());
        }
        Ok(scored)
    }
}

/// The row of a unit scored by the engine.
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
            values: match indicator.outcome {
                Outcome::Scored => values.values.get(&indicator.code),
                Outcome::Missing | Outcome::NotApplicable => None,
            },
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

/// Scores a unit's values and makes its row.
pub fn score_row(
    layout: &FrameworkLayout,
    stats: &CohortStats,
    identity: InputIdentity,
    values: &UnitValues,
) -> Result<UnitScoreRow, ScoringError> {
    let scored = score_unit(layout.framework(), stats, values, Explain::ScoresOnly)?;
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

#[cfg(test)]
mod tests {
    use super::*;
    use dti_domain::sample::{sample_cohort, SampleOptions};
    use dti_domain::values::decode_cohort;
    use dti_domain::FrameworkCatalog;
    use std::sync::Arc;

    /// A sample cohort of each scored framework: every unit's stored row, read back, explains
    /// each indicator that does not depend on the cohort exactly as the engine does when it
    /// scores the unit with explanations (missing, not-applicable and scored indicators alike).
    #[test]
    fn stored_values_explain_each_fixed_indicator_as_the_engine_does() {
        let catalog = FrameworkCatalog::builtin().expect("frameworks");
        for id in ["hcm-2023-district", "hcm-2023-department"] {
            let framework = Arc::clone(catalog.get_str(id).expect("framework"));
            let layout = FrameworkLayout::new(Arc::clone(&framework));
            let options = SampleOptions {
                units: 12,
                missing_percent: 10,
                not_applicable_percent: 10,
                ..SampleOptions::default()
            };
            let document = sample_cohort(&framework, &options).to_string();
            let cohort = decode_cohort(&document, &catalog)
                .value
                .expect("valid sample");
            let stats = CohortStats::compute(&framework, &cohort.units).expect("ranges");
            let mut outcomes = std::collections::BTreeSet::new();
            for unit in &cohort.units {
                let row = score_row(&layout, &stats, InputIdentity::default(), unit).unwrap();
                let full = score_unit(&framework, &stats, unit, Explain::Full).unwrap();
                let stored: Vec<StoredIndicator> =
                    serde_json::from_str(&row.fixed_indicators).unwrap();
                assert!(stored.iter().all(|s| s.explanation.is_none()));
                for entry in &stored {
                    let again = entry.rescore(&layout, &unit.unit, "test").unwrap();
                    let engine = full
                        .indicators
                        .iter()
                        .find(|i| i.code.as_str() == entry.code)
                        .expect("scored by the engine");
                    assert_eq!(&again, engine, "{} of {}", entry.code, unit.unit);
                    assert!(again.explanation.is_some());
                    outcomes.insert(entry.outcome.clone());
                }
            }
            assert_eq!(outcomes.len(), 3, "{id}: {outcomes:?}");
        }
    }

    /// A stored score that its values do not give, or values that do not fit the outcome, are
    /// reported as a corrupt row, never shown.
    #[test]
    fn a_row_whose_values_do_not_give_its_score_is_refused() {
        let catalog = FrameworkCatalog::builtin().expect("frameworks");
        let framework = Arc::clone(catalog.get_str("hcm-2023-district").unwrap());
        let layout = FrameworkLayout::new(framework);
        let unit = UnitId::parse("quan-1").unwrap();
        let read = |text: &str| -> Result<IndicatorScore, String> {
            let stored: StoredIndicator = serde_json::from_str(text).unwrap();
            stored
                .rescore(
                    &layout,
                    &unit,
                    "round 2023/hcm-2023-district (self), unit quan-1",
                )
                .map_err(|e| e.to_string())
        };
        let good = r#"{"code":"1.2","group":"1","outcome":"scored","cents":700,"values":{"a":133,"b":190}}"#;
        assert_eq!(read(good).unwrap().score.to_string(), "7.00");
        let wrong_score = good.replace("700", "800");
        let error = read(&wrong_score).unwrap_err();
        assert!(
            error.contains("scores 7.00 from its stored values, not the 8.00 stored"),
            "{error}"
        );
        let no_values = r#"{"code":"1.2","group":"1","outcome":"scored","cents":700}"#;
        assert!(read(no_values).unwrap_err().contains("does not fit"));
        let unknown = good.replace("\"1.2\"", "\"1.99\"");
        assert!(read(&unknown)
            .unwrap_err()
            .contains("1.99 is not in the framework"));
        // A row written when explanations were stored still reads.
        let legacy: StoredIndicator = serde_json::from_str(
            r#"{"code":"1.2","group":"1","outcome":"scored","cents":700,"explanation":{"kind":"ratio"}}"#,
        )
        .unwrap();
        assert_eq!(
            legacy.explanation.map(RawValue::get),
            Some(r#"{"kind":"ratio"}"#)
        );
    }
}
