//! Scoring a cohort: the min-max ranges over the cohort, each unit's indicator, group and total
//! scores, and standard competition ranks (1, 2, 2, 4) by total, highest first.

use crate::explain::{Detail, ExactView, Explanation, Outcome};
use crate::number::Num;
use crate::points::Points;
use crate::rules::{self, MinMaxRange};
use crate::EngineError;
use dti_domain::framework::{Framework, Indicator};
use dti_domain::ids::{FrameworkId, GroupCode, IndicatorCode, UnitId};
use dti_domain::values::{Cohort, UnitValues};
use rayon::prelude::*;
use serde::Serialize;
use std::collections::BTreeMap;

/// The cohort-wide facts that min-max indicators depend on.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CohortStats {
    ranges: BTreeMap<IndicatorCode, MinMaxRange>,
}

impl CohortStats {
    /// Computes the range of every min-max indicator over the units that submitted it
    /// (units that declared it not applicable or sent nothing do not count).
    pub fn compute<'a>(
        framework: &Framework,
        units: impl IntoIterator<Item = &'a UnitValues>,
    ) -> Result<Self, EngineError> {
        let indicators: Vec<&Indicator> = framework.cohort_dependent_indicators().collect();
        let mut ranges: BTreeMap<IndicatorCode, MinMaxRange> = BTreeMap::new();
        if indicators.is_empty() {
            return Ok(Self { ranges });
        }
        for unit in units {
            for indicator in &indicators {
                let Some(x) = unit_x(indicator, unit)? else {
                    continue;
                };
                ranges
                    .entry(indicator.code.clone())
                    .and_modify(|r| {
                        if x < r.min {
                            r.min = x.clone();
                        }
                        if x > r.max {
                            r.max = x.clone();
                        }
                        r.count += 1;
                    })
                    .or_insert_with(|| MinMaxRange {
                        min: x.clone(),
                        max: x,
                        count: 1,
                    });
            }
        }
        Ok(Self { ranges })
    }

    /// The range of a min-max indicator, if any unit submitted it.
    pub fn range(&self, code: &IndicatorCode) -> Option<&MinMaxRange> {
        self.ranges.get(code)
    }

    /// Statistics from ranges kept elsewhere, e.g. by a score store that maintains each
    /// min-max indicator's range as units' values change. Equal to [`CohortStats::compute`]
    /// over the same units when the ranges are theirs.
    pub fn from_ranges(ranges: impl IntoIterator<Item = (IndicatorCode, MinMaxRange)>) -> Self {
        Self {
            ranges: ranges.into_iter().collect(),
        }
    }

    /// Every min-max indicator's range, by code (indicators no unit submitted are absent).
    pub fn ranges(&self) -> impl Iterator<Item = (&IndicatorCode, &MinMaxRange)> {
        self.ranges.iter()
    }
}

/// The min-max x of a unit for an indicator: none when it is missing or not applicable.
pub fn unit_x(indicator: &Indicator, unit: &UnitValues) -> Result<Option<Num>, EngineError> {
    if unit.not_applicable.contains(&indicator.code) {
        return Ok(None);
    }
    let (Some(rule), Some(values)) = (&indicator.rule, unit.values.get(&indicator.code)) else {
        return Ok(None);
    };
    rules::minmax_x(rule, values).map_err(|problem| EngineError {
        unit: unit.unit.to_string(),
        indicator: indicator.code.to_string(),
        problem,
    })
}

/// Whether to render explanations. Scores are identical either way; explanations cost time
/// and memory, so bulk scoring (rankings of thousands of units) can skip them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Explain {
    /// Every indicator carries its explanation.
    Full,
    /// Scores only.
    ScoresOnly,
}

/// One indicator's score.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct IndicatorScore {
    /// Indicator code.
    pub code: IndicatorCode,
    /// The group it counts toward.
    pub group: GroupCode,
    /// Scored, missing or not applicable.
    pub outcome: Outcome,
    /// Rounded score.
    pub score: Points,
    /// How it came about (with [`Explain::Full`]).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub explanation: Option<Box<Explanation>>,
}

/// One group's score: the sum of its rounded indicator scores.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct GroupScore {
    /// Group code.
    pub code: GroupCode,
    /// Sum of its indicators' rounded scores.
    pub score: Points,
}

/// One unit's scores.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct UnitScore {
    /// The unit.
    pub unit: UnitId,
    /// Every indicator of the framework, in framework order.
    pub indicators: Vec<IndicatorScore>,
    /// Every group, in framework order.
    pub groups: Vec<GroupScore>,
    /// Sum of the rounded indicator scores.
    pub total: Points,
    /// Competition rank within the cohort (1 is best); 0 until ranked.
    pub rank: u32,
}

/// A scored cohort.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CohortScores {
    /// The framework used.
    pub framework: FrameworkId,
    /// Units in input order.
    pub units: Vec<UnitScore>,
}

/// Scores and ranks a validated cohort.
pub fn score_cohort(cohort: &Cohort, explain: Explain) -> Result<CohortScores, EngineError> {
    let framework = &cohort.framework;
    let stats = CohortStats::compute(framework, &cohort.units)?;
    let mut units = cohort
        .units
        .par_iter()
        .map(|unit| score_unit(framework, &stats, unit, explain))
        .collect::<Result<Vec<_>, _>>()?;
    let totals: Vec<Points> = units.iter().map(|u| u.total).collect();
    for (unit, rank) in units.iter_mut().zip(rank_competition(&totals)) {
        unit.rank = rank;
    }
    Ok(CohortScores {
        framework: framework.id.clone(),
        units,
    })
}

/// Scores one unit against the cohort's statistics (rank left at 0).
pub fn score_unit(
    framework: &Framework,
    stats: &CohortStats,
    unit: &UnitValues,
    explain: Explain,
) -> Result<UnitScore, EngineError> {
    let indicators = framework
        .top_level_indicators()
        .map(|indicator| score_indicator(indicator, stats, unit, explain))
        .collect::<Result<Vec<_>, _>>()?;
    let groups: Vec<GroupScore> = framework
        .groups
        .iter()
        .map(|group| GroupScore {
            code: group.code.clone(),
            score: indicators
                .iter()
                .filter(|i| i.group == group.code)
                .map(|i| i.score)
                .sum(),
        })
        .collect();
    let total = groups.iter().map(|g| g.score).sum();
    Ok(UnitScore {
        unit: unit.unit.clone(),
        indicators,
        groups,
        total,
        rank: 0,
    })
}

/// Scores one indicator of a unit against the cohort's statistics: its maximum when the unit
/// declared it not applicable, 0 when it has no values, otherwise its rule (min-max rules use
/// the indicator's range in `stats`), rounded half up to hundredths. [`score_unit`] calls it for
/// every indicator; a store that keeps a unit's other scores can re-score just one.
pub fn score_indicator(
    indicator: &Indicator,
    stats: &CohortStats,
    unit: &UnitValues,
    explain: Explain,
) -> Result<IndicatorScore, EngineError> {
    let error = |problem: String| EngineError {
        unit: unit.unit.to_string(),
        indicator: indicator.code.to_string(),
        problem,
    };
    let rule = indicator
        .rule
        .as_ref()
        .ok_or_else(|| error("the indicator has no scoring rule".into()))?;
    let scored =
        |outcome: Outcome, score: Points, explanation: Option<Explanation>| IndicatorScore {
            code: indicator.code.clone(),
            group: indicator.group.clone(),
            outcome,
            score,
            explanation: explanation.map(Box::new),
        };
    let points = &Num::from(&indicator.points);
    let base = |outcome: Outcome, raw: &Num, rounded: Points, summary: String| Explanation {
        kind: rule.kind_name(),
        outcome,
        max_points: ExactView::from(points),
        inputs: BTreeMap::new(),
        ratio: None,
        clamped: false,
        detail: Detail::Plain,
        raw: ExactView::from(raw),
        rounded,
        summary,
    };
    let full = explain == Explain::Full;
    if unit.not_applicable.contains(&indicator.code) {
        let rounded = Points(indicator.points.round_half_up_cents());
        let explanation = full.then(|| {
            base(
                Outcome::NotApplicable,
                points,
                rounded,
                format!("not applicable to the unit → maximum {rounded}"),
            )
        });
        return Ok(scored(Outcome::NotApplicable, rounded, explanation));
    }
    let Some(values) = unit.values.get(&indicator.code) else {
        let explanation = full.then(|| {
            base(
                Outcome::Missing,
                &Num::zero(),
                Points::ZERO,
                "no values submitted → 0.00".into(),
            )
        });
        return Ok(scored(Outcome::Missing, Points::ZERO, explanation));
    };
    let outcome =
        rules::apply(rule, points, values, stats.range(&indicator.code)).map_err(error)?;
    let rounded = Points(outcome.raw.round_half_up_cents());
    let explanation = full.then(|| {
        let (detail, summary) = rules::describe(rule, points, &outcome);
        Explanation {
            inputs: values
                .iter()
                .map(|(k, v)| (k.to_string(), v.clone()))
                .collect(),
            ratio: outcome.ratio().map(ExactView::from),
            clamped: outcome.clamped(),
            detail,
            ..base(
                Outcome::Scored,
                &outcome.raw,
                rounded,
                format!("{summary} → {rounded}"),
            )
        }
    });
    Ok(scored(Outcome::Scored, rounded, explanation))
}

/// Standard competition ranks (1, 2, 2, 4) for totals, highest first, in the input's order.
pub fn rank_competition(totals: &[Points]) -> Vec<u32> {
    let mut sorted: Vec<Points> = totals.to_vec();
    sorted.sort_unstable_by(|a, b| b.cmp(a));
    totals
        .iter()
        .map(|total| {
            let better = sorted.partition_point(|t| t > total);
            u32::try_from(better + 1).unwrap_or(u32::MAX)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn competition_ranking_shares_ranks_and_skips() {
        let totals = [
            Points(500),
            Points(700),
            Points(500),
            Points(100),
            Points(700),
        ];
        assert_eq!(rank_competition(&totals), vec![3, 1, 3, 5, 1]);
        assert_eq!(rank_competition(&[]), Vec::<u32>::new());
        assert_eq!(rank_competition(&[Points(0)]), vec![1]);
    }

    #[test]
    fn stats_rebuilt_from_their_ranges_are_equal() {
        let code = IndicatorCode::parse("5.1").unwrap();
        let range = MinMaxRange {
            min: Num::int(3),
            max: Num::ratio(7, 2),
            count: 4,
        };
        let stats = CohortStats::from_ranges([(code.clone(), range.clone())]);
        assert_eq!(stats.range(&code), Some(&range));
        let again = CohortStats::from_ranges(stats.ranges().map(|(c, r)| (c.clone(), r.clone())));
        assert_eq!(again, stats);
    }
}
