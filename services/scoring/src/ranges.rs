//! A cohort's min-max x rows and the ranges found from them: a unit's x of each min-max
//! indicator as the engine computes it, written to `score_minmax_values` for one unit or many,
//! each range found again from those rows, and which ranges moved (a moved min or max changes
//! every unit's score of that indicator).

use std::collections::BTreeMap;

use dti_db::PgTransaction;
use dti_domain::ids::IndicatorCode;
use dti_domain::{RoundRef, UnitId};
use dti_engine::cohort::unit_x;
use dti_engine::number::Num;
use dti_engine::rules::MinMaxRange;
use dti_engine::CohortStats;
use dti_scores::stored::cohort_inputs_from_json;
use dti_scores::{Basis, FrameworkLayout};

use crate::inputs::UnitInput;
use crate::store;
use crate::ScoringError;

/// The x of each min-max indicator of a unit's stored inputs, as the engine computes it.
pub(crate) fn stored_x(
    layout: &FrameworkLayout,
    unit: &UnitId,
    place: &str,
    cohort_inputs: &serde_json::Value,
) -> Result<BTreeMap<IndicatorCode, Num>, ScoringError> {
    let values = cohort_inputs_from_json(layout, unit, place, cohort_inputs)?;
    let mut xs = BTreeMap::new();
    for (indicator, _) in layout.cohort_indicators() {
        if let Some(x) = unit_x(indicator, &values)? {
            xs.insert(indicator.code.clone(), x);
        }
    }
    Ok(xs)
}

/// Updates one unit's x rows from `old` to its input's; returns the cohort's ranges after it
/// and the codes whose min or max moved.
pub(crate) async fn update_unit_x(
    tx: &mut PgTransaction,
    layout: &FrameworkLayout,
    round: &RoundRef,
    basis: Basis,
    before: &CohortStats,
    old: &BTreeMap<IndicatorCode, Num>,
    input: &UnitInput,
) -> Result<(CohortStats, Vec<String>), ScoringError> {
    let unit = &input.values.unit;
    let mut ranges: BTreeMap<IndicatorCode, MinMaxRange> = before
        .ranges()
        .map(|(code, range)| (code.clone(), range.clone()))
        .collect();
    for (indicator, _) in layout.cohort_indicators() {
        let code = &indicator.code;
        let new_x = unit_x(indicator, &input.values)?;
        let old_x = old.get(code);
        if new_x.as_ref() == old_x {
            continue;
        }
        store::set_unit_x(tx, round, basis, unit, code, new_x.as_ref()).await?;
        let counted =
            ranges.get(code).map_or(0, |range| range.count) + usize::from(new_x.is_some());
        let count = counted.saturating_sub(usize::from(old_x.is_some()));
        match store::range_with_count(tx, round, basis, code, count).await? {
            Some(range) => ranges.insert(code.clone(), range),
            None => ranges.remove(code),
        };
    }
    let after = CohortStats::from_ranges(ranges);
    let moved = moved_ranges(before, &after);
    Ok((after, moved))
}

/// Replaces the x rows of `stale` units and finds every range again from the x rows.
pub(crate) async fn replace_units_x(
    tx: &mut PgTransaction,
    layout: &FrameworkLayout,
    round: &RoundRef,
    basis: Basis,
    stale: &[UnitInput],
) -> Result<CohortStats, ScoringError> {
    let mut values: Vec<(String, IndicatorCode, Num)> = Vec::new();
    for input in stale {
        for (indicator, _) in layout.cohort_indicators() {
            if let Some(x) = unit_x(indicator, &input.values)? {
                values.push((input.values.unit.to_string(), indicator.code.clone(), x));
            }
        }
    }
    let units: Vec<&str> = stale
        .iter()
        .map(|input| input.values.unit.as_str())
        .collect();
    store::replace_units_x(tx, round, basis, &units, &values).await?;
    let mut ranges = Vec::new();
    for (indicator, _) in layout.cohort_indicators() {
        let code = &indicator.code;
        let count = store::x_count(tx, round, basis, code, None).await?;
        if let Some(range) = store::range_with_count(tx, round, basis, code, count).await? {
            ranges.push((code.clone(), range));
        }
    }
    Ok(CohortStats::from_ranges(ranges))
}

/// Min-max indicators whose min or max differs between two states of the cohort (a change of
/// the number of units counted alone changes no score).
pub fn moved_ranges(before: &CohortStats, after: &CohortStats) -> Vec<String> {
    let bounds = |range: Option<&MinMaxRange>| range.map(|r| (r.min.clone(), r.max.clone()));
    let mut codes: Vec<&IndicatorCode> = before.ranges().map(|(code, _)| code).collect();
    codes.extend(after.ranges().map(|(code, _)| code));
    codes.sort();
    codes.dedup();
    codes
        .into_iter()
        .filter(|code| bounds(before.range(code)) != bounds(after.range(code)))
        .map(ToString::to_string)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_moved_min_or_max_counts_as_moved() {
        let code = IndicatorCode::parse("5.1").unwrap();
        let range = |min: i64, max: i64, count: usize| MinMaxRange {
            min: Num::int(min),
            max: Num::int(max),
            count,
        };
        let stats = |r: MinMaxRange| CohortStats::from_ranges([(code.clone(), r)]);
        assert!(moved_ranges(&stats(range(0, 9, 3)), &stats(range(0, 9, 4))).is_empty());
        assert_eq!(
            moved_ranges(&stats(range(0, 9, 3)), &stats(range(0, 10, 4))),
            ["5.1"]
        );
        assert_eq!(
            moved_ranges(&CohortStats::default(), &stats(range(1, 1, 1))),
            ["5.1"]
        );
        assert_eq!(
            moved_ranges(&stats(range(1, 1, 1)), &CohortStats::default()),
            ["5.1"]
        );
    }
}
