//! A unit's exact scores from what the score tables store: the engine scores each min-max
//! indicator from the unit's input and the cohort's range, and the group and total scores are
//! the stored group sums of the other indicators plus those rounded scores.

use dti_domain::values::UnitValues;
use dti_engine::{score_indicator, CohortStats, EngineError, Explain, IndicatorScore, Points};

use crate::FrameworkLayout;

/// A unit's group scores (framework order) and total.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnitTotals {
    /// Every group's score, in framework order.
    pub groups: Vec<Points>,
    /// Sum of the groups.
    pub total: Points,
}

impl UnitTotals {
    /// The score of group `index`, or the total when `index` is none.
    pub fn score(&self, index: Option<usize>) -> Points {
        index
            .and_then(|i| self.groups.get(i).copied())
            .unwrap_or(self.total)
    }
}

/// The unit's min-max indicators scored by the engine against `stats`, in layout order.
pub fn cohort_scores(
    layout: &FrameworkLayout,
    stats: &CohortStats,
    inputs: &UnitValues,
    explain: Explain,
) -> Result<Vec<IndicatorScore>, EngineError> {
    layout
        .cohort_indicators()
        .map(|(indicator, _)| score_indicator(indicator, stats, inputs, explain))
        .collect()
}

/// The rounded scores of the unit's min-max indicators against `stats`, in layout order.
pub fn cohort_points(
    layout: &FrameworkLayout,
    stats: &CohortStats,
    inputs: &UnitValues,
) -> Result<Vec<Points>, EngineError> {
    Ok(cohort_scores(layout, stats, inputs, Explain::ScoresOnly)?
        .into_iter()
        .map(|scored| scored.score)
        .collect())
}

/// Group and total scores from the stored group sums of the indicators that do not depend on
/// the cohort and the min-max scores (layout order).
pub fn unit_totals(
    layout: &FrameworkLayout,
    fixed_groups: &[Points],
    cohort: &[Points],
) -> UnitTotals {
    let mut groups = fixed_groups.to_vec();
    for ((_, group), points) in layout.cohort_indicators().zip(cohort) {
        if let Some(sum) = groups.get_mut(group) {
            *sum = *sum + *points;
        }
    }
    let total = groups.iter().copied().sum();
    UnitTotals { groups, total }
}

#[cfg(test)]
mod tests {
    use super::*;
    use dti_domain::sample::{sample_cohort, SampleOptions};
    use dti_domain::values::decode_cohort;
    use dti_domain::FrameworkCatalog;
    use dti_engine::score_cohort;

    /// Splitting each unit into stored group sums plus engine-scored min-max indicators gives
    /// back exactly the engine's own scores of the whole cohort.
    #[test]
    fn composed_totals_equal_the_engines_cohort_scores() {
        let catalog = FrameworkCatalog::builtin().unwrap();
        for id in ["hcm-2023-department", "hcm-2023-district"] {
            let framework = catalog.get_str(id).unwrap().clone();
            let layout = FrameworkLayout::new(framework.clone());
            let options = SampleOptions {
                units: 40,
                seed: 7,
                missing_percent: 10,
                not_applicable_percent: 10,
                ..SampleOptions::default()
            };
            let text = sample_cohort(&framework, &options).to_string();
            let cohort = decode_cohort(&text, &catalog).value.unwrap();
            let expected = score_cohort(&cohort, Explain::ScoresOnly).unwrap();
            let stats = CohortStats::compute(&framework, &cohort.units).unwrap();
            for (unit, want) in cohort.units.iter().zip(&expected.units) {
                let mut fixed = vec![Points::ZERO; layout.group_count()];
                for scored in &want.indicators {
                    if !layout.is_cohort_dependent(&scored.code) {
                        let g = layout.group_index(&scored.group).unwrap();
                        fixed[g] = fixed[g] + scored.score;
                    }
                }
                let cohort_part = cohort_points(&layout, &stats, unit).unwrap();
                let totals = unit_totals(&layout, &fixed, &cohort_part);
                let want_groups: Vec<Points> = want.groups.iter().map(|g| g.score).collect();
                assert_eq!(totals.groups, want_groups, "{}", unit.unit);
                assert_eq!(totals.total, want.total, "{}", unit.unit);
                assert_eq!(totals.score(None), want.total);
            }
        }
    }
}
