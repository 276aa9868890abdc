//! The in-memory mirror of one cohort's score tables: every unit's stored group sums and
//! min-max inputs, its min-max scores computed by the engine against the cohort's ranges, and
//! its group and total scores. It follows the tables by version: rows changed after the version
//! it holds replace their units, and when a range's min or max moved, every unit's score of
//! that indicator is computed again. What changed is returned, so only those members of the
//! sorted sets are rewritten.

use std::collections::HashMap;
use std::sync::Arc;

use dti_domain::UnitId;
use dti_engine::{CohortStats, Points};
use dti_scores::compose::{cohort_points, unit_totals};
use dti_scores::tables::{CohortHead, UnitRankingRow};
use dti_scores::{FrameworkLayout, UnitTotals};
use rayon::prelude::*;

use crate::answers::{Page, Position};
use crate::RankingError;

/// One unit in the mirror.
#[derive(Debug, Clone)]
struct MirrorUnit {
    row: UnitRankingRow,
    /// Its min-max scores, layout order.
    cohort: Vec<Points>,
    totals: UnitTotals,
}

impl MirrorUnit {
    fn scored(
        layout: &FrameworkLayout,
        stats: &CohortStats,
        row: UnitRankingRow,
    ) -> Result<Self, RankingError> {
        let cohort = cohort_points(layout, stats, &row.cohort_inputs)?;
        let totals = unit_totals(layout, &row.fixed_groups, &cohort);
        Ok(Self {
            row,
            cohort,
            totals,
        })
    }

    fn rescore(
        &mut self,
        layout: &FrameworkLayout,
        stats: &CohortStats,
    ) -> Result<(), RankingError> {
        self.cohort = cohort_points(layout, stats, &self.row.cohort_inputs)?;
        self.totals = unit_totals(layout, &self.row.fixed_groups, &self.cohort);
        Ok(())
    }
}

/// A new score of one member of one ranking: the total (`set` none) or a group (its position).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MemberScore {
    /// None for the total, the group's position otherwise.
    pub set: Option<usize>,
    /// The unit.
    pub unit: UnitId,
    /// Its score.
    pub score: Points,
}

/// One cohort's scores as the ranking sees them, at one version.
#[derive(Debug, Clone)]
pub struct CohortMirror {
    layout: Arc<FrameworkLayout>,
    version: u64,
    stats: CohortStats,
    units: Vec<MirrorUnit>,
    index: HashMap<UnitId, usize>,
}

impl CohortMirror {
    /// The mirror of a whole cohort read at `head`'s version.
    pub fn load(
        layout: Arc<FrameworkLayout>,
        head: CohortHead,
        rows: Vec<UnitRankingRow>,
    ) -> Result<Self, RankingError> {
        let units = rows
            .into_par_iter()
            .map(|row| MirrorUnit::scored(&layout, &head.stats, row))
            .collect::<Result<Vec<_>, _>>()?;
        let index = units
            .iter()
            .enumerate()
            .map(|(i, unit)| (unit.row.unit.clone(), i))
            .collect();
        Ok(Self {
            layout,
            version: head.version,
            stats: head.stats,
            units,
            index,
        })
    }

    /// The version of the score tables it mirrors.
    pub fn version(&self) -> u64 {
        self.version
    }

    /// Number of units.
    pub fn len(&self) -> usize {
        self.units.len()
    }

    /// True without units.
    pub fn is_empty(&self) -> bool {
        self.units.is_empty()
    }

    /// The framework layout.
    pub fn layout(&self) -> &Arc<FrameworkLayout> {
        &self.layout
    }

    /// Every unit's score in one ranking (`set` none: the total).
    pub fn scores(&self, set: Option<usize>) -> impl Iterator<Item = (&UnitId, Points)> + '_ {
        self.units
            .iter()
            .map(move |unit| (&unit.row.unit, unit.totals.score(set)))
    }

    /// The ranking `set` in the order Redis serves it (`ZREVRANGE`): higher score first, equal
    /// scores by unit id, descending.
    fn ranked(&self, set: Option<usize>) -> Vec<(&UnitId, Points)> {
        let mut ranked: Vec<(&UnitId, Points)> = self.scores(set).collect();
        ranked.sort_unstable_by(|(unit_a, a), (unit_b, b)| {
            b.cents()
                .cmp(&a.cents())
                .then_with(|| unit_b.as_str().cmp(unit_a.as_str()))
        });
        ranked
    }

    /// `limit` members of ranking `set` from position `offset` (0-based), exactly as
    /// [`crate::sorted_sets::page`] reads them from Redis: the page Redis would serve at this
    /// version.
    pub fn page(&self, set: Option<usize>, offset: u64, limit: u64) -> Page {
        let ranked = self.ranked(set);
        let start = usize::try_from(offset)
            .unwrap_or(usize::MAX)
            .min(ranked.len());
        let take = usize::try_from(limit.max(1)).unwrap_or(usize::MAX);
        let entries: Vec<(String, Points)> = ranked[start..]
            .iter()
            .take(take)
            .map(|(unit, score)| (unit.as_str().to_owned(), *score))
            .collect();
        let above_first = entries.first().map_or(0, |(_, first)| {
            ranked
                .iter()
                .filter(|(_, score)| score.cents() > first.cents())
                .count()
        });
        Page {
            members: ranked.len() as u64,
            entries,
            above_first: above_first as u64,
            version: Some(self.version),
        }
    }

    /// `unit`'s place in ranking `set`, exactly as [`crate::sorted_sets::position`] reads it from
    /// Redis.
    pub fn position(&self, set: Option<usize>, unit: &UnitId) -> Position {
        let score = self
            .index
            .get(unit)
            .map(|&i| self.units[i].totals.score(set));
        let above = score.map_or(0, |score| {
            self.scores(set)
                .filter(|(_, other)| other.cents() > score.cents())
                .count()
        });
        Position {
            members: self.units.len() as u64,
            score,
            above: above as u64,
            version: Some(self.version),
        }
    }

    /// Moves to `head`'s version with the rows changed since the current one; returns every
    /// member whose score changed.
    pub fn apply(
        &mut self,
        head: CohortHead,
        rows: Vec<UnitRankingRow>,
    ) -> Result<Vec<MemberScore>, RankingError> {
        let before: Vec<UnitTotals> = self.units.iter().map(|unit| unit.totals.clone()).collect();
        let bounds_moved = self.layout.cohort_indicators().any(|(indicator, _)| {
            let bounds = |stats: &CohortStats| {
                stats
                    .range(&indicator.code)
                    .map(|range| (range.min.clone(), range.max.clone()))
            };
            bounds(&self.stats) != bounds(&head.stats)
        });
        let mut added = Vec::new();
        for row in rows {
            match self.index.get(&row.unit) {
                Some(&i) => self.units[i].row = row,
                None => added.push(row),
            }
        }
        let layout = Arc::clone(&self.layout);
        if bounds_moved {
            self.units
                .par_iter_mut()
                .try_for_each(|unit| unit.rescore(&layout, &head.stats))?;
        } else {
            for unit in &mut self.units {
                if unit.row.version > self.version {
                    unit.rescore(&layout, &head.stats)?;
                }
            }
        }
        let mut changes = Vec::new();
        for (unit, old) in self.units.iter().zip(&before) {
            push_changes(&mut changes, &unit.row.unit, Some(old), &unit.totals);
        }
        for row in added {
            let unit = MirrorUnit::scored(&layout, &head.stats, row)?;
            push_changes(&mut changes, &unit.row.unit, None, &unit.totals);
            self.index.insert(unit.row.unit.clone(), self.units.len());
            self.units.push(unit);
        }
        self.version = head.version;
        self.stats = head.stats;
        Ok(changes)
    }
}

/// Adds the scores of `unit` that differ from `old` (all of them when it is new).
fn push_changes(
    changes: &mut Vec<MemberScore>,
    unit: &UnitId,
    old: Option<&UnitTotals>,
    new: &UnitTotals,
) {
    if old.map(|old| old.total) != Some(new.total) {
        changes.push(MemberScore {
            set: None,
            unit: unit.clone(),
            score: new.total,
        });
    }
    for (g, score) in new.groups.iter().enumerate() {
        if old.and_then(|old| old.groups.get(g)) != Some(score) {
            changes.push(MemberScore {
                set: Some(g),
                unit: unit.clone(),
                score: *score,
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use dti_domain::sample::{sample_cohort, SampleOptions};
    use dti_domain::values::decode_cohort;
    use dti_domain::FrameworkCatalog;
    use dti_engine::number::Num;
    use dti_engine::rules::MinMaxRange;

    fn head(version: u64, stats: CohortStats) -> CohortHead {
        CohortHead {
            version,
            stats,
            ranges_version: version,
            updated_at: chrono::Utc::now(),
        }
    }

    /// After a range move (and a changed row) the mirror holds exactly what a mirror loaded from
    /// scratch at that version holds, in every ranking.
    #[test]
    fn a_moved_range_gives_the_scores_of_a_mirror_loaded_from_scratch() {
        let catalog = FrameworkCatalog::builtin().unwrap();
        let framework = catalog.get_str("hcm-2023-district").unwrap().clone();
        let layout = Arc::new(FrameworkLayout::new(framework.clone()));
        let options = SampleOptions {
            units: 30,
            seed: 11,
            missing_percent: 10,
            not_applicable_percent: 10,
            ..SampleOptions::default()
        };
        let cohort = decode_cohort(&sample_cohort(&framework, &options).to_string(), &catalog)
            .value
            .unwrap();
        let rows: Vec<UnitRankingRow> = cohort
            .units
            .iter()
            .map(|unit| UnitRankingRow {
                unit: unit.unit.clone(),
                version: 1,
                fixed_groups: vec![Points::ZERO; layout.group_count()],
                cohort_inputs: unit.clone(),
            })
            .collect();
        let stats = CohortStats::compute(&framework, &cohort.units).unwrap();
        let mut mirror =
            CohortMirror::load(Arc::clone(&layout), head(1, stats.clone()), rows.clone()).unwrap();

        let (moved_code, _) = layout.cohort_indicators().next().unwrap();
        let moved_stats = CohortStats::from_ranges(stats.ranges().map(|(code, range)| {
            let range = match code == &moved_code.code {
                true => MinMaxRange {
                    max: &range.max + &Num::int(1000),
                    ..range.clone()
                },
                false => range.clone(),
            };
            (code.clone(), range)
        }));
        let mut changed = rows[0].clone();
        changed.version = 2;
        let changes = mirror
            .apply(head(2, moved_stats.clone()), vec![changed.clone()])
            .unwrap();
        assert!(!changes.is_empty(), "a moved maximum changes scores");

        let mut all = rows;
        all[0] = changed;
        let expected = CohortMirror::load(Arc::clone(&layout), head(2, moved_stats), all).unwrap();
        for set in std::iter::once(None).chain((0..layout.group_count()).map(Some)) {
            let got: Vec<(UnitId, Points)> =
                mirror.scores(set).map(|(u, p)| (u.clone(), p)).collect();
            let want: Vec<(UnitId, Points)> =
                expected.scores(set).map(|(u, p)| (u.clone(), p)).collect();
            assert_eq!(got, want, "ranking {set:?}");
        }
    }
}
