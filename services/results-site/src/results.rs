//! What the pages, charts and downloads show, built from published revisions only, with the
//! framework's names and the unit registry's Vietnamese unit names: a cohort's ranking, a
//! unit's scorecard, the cohort's medians and min-max ranges, and movement against the
//! previous year's published result. Scores stay the snapshot's decimal strings; the few
//! derived numbers (medians, changes) are computed exactly in hundredths of a point.

use std::collections::BTreeMap;
use std::sync::Arc;

use dti_domain::cents;
pub use dti_domain::cents::format as format_cents;
use dti_domain::framework::UnitKind;
use dti_domain::{Framework, RoundRef, UnitId, UnitRegistry};

use crate::snapshot::{MinMaxRange, PublishedRevision, SnapshotUnit};

/// A cohort's published revision with the reference data to show it.
#[derive(Debug, Clone)]
pub struct CohortResult {
    /// The round.
    pub round: RoundRef,
    /// The framework of the round.
    pub framework: Arc<Framework>,
    /// The revision shown.
    pub revision: Arc<PublishedRevision>,
    /// The round's latest revision number (the one shown or a later one).
    pub latest_revision: u32,
    /// The previous year's latest published revision of a cohort of the same kind of unit.
    pub previous: Option<PreviousYear>,
}

/// The previous year's result units are compared with.
#[derive(Debug, Clone)]
pub struct PreviousYear {
    /// Its round.
    pub round: RoundRef,
    /// Its latest revision.
    pub revision: Arc<PublishedRevision>,
}

/// A group of the framework as the tables head it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupHead {
    /// Group code, e.g. "1".
    pub code: String,
    /// Its name.
    pub name: String,
    /// Its maximum, e.g. "40".
    pub max_points: String,
}

/// One row of a ranking.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RankingRow {
    /// Competition rank.
    pub rank: u32,
    /// Unit id.
    pub unit_id: String,
    /// The unit's Vietnamese name.
    pub unit_name: String,
    /// Total, two decimals.
    pub total: String,
    /// Total in hundredths.
    pub total_cents: i64,
    /// Each group's score, in the order of [`Ranking::groups`] (two decimals).
    pub groups: Vec<String>,
    /// Against the previous year, when the unit (or its predecessor) was published then.
    pub movement: Option<Movement>,
}

/// A unit's change against the previous year, following lineage: the unit's own published
/// figures then, or those of the one unit it continues (renamed, or merged into it alone), or,
/// for a unit formed by merging several, the arithmetic mean of its predecessors' published
/// total and group scores (as the national index compares merged provinces), with the best of
/// their ranks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Movement {
    /// The previous year.
    pub previous_year: u16,
    /// Rank then (for a merger, the best rank among the predecessors).
    pub previous_rank: u32,
    /// Total then (two decimals).
    pub previous_total: String,
    /// Group scores then, in the order of [`Ranking::groups`] (two decimals).
    pub previous_groups: Vec<String>,
    /// Places gained (positive) or lost (negative).
    pub places_gained: i64,
    /// Total now minus total then, in hundredths.
    pub total_change_cents: i64,
    /// The predecessors whose published figures the previous ones are the mean of; empty when
    /// they are one unit's own.
    pub mean_of: Vec<NamedUnit>,
}

/// A unit by id and Vietnamese name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NamedUnit {
    /// Unit id.
    pub id: String,
    /// Its Vietnamese name.
    pub name: String,
}

impl Movement {
    /// The names of [`Self::mean_of`], as messages list them ("Phường 1, Phường 2").
    pub fn mean_of_names(&self) -> String {
        self.mean_of
            .iter()
            .map(|unit| unit.name.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// The previous year's published entries a unit continues: its own or one predecessor's, or
/// several when it was formed by merging them.
#[derive(Debug, Clone)]
struct Predecessors<'a>(Vec<&'a SnapshotUnit>);

impl Predecessors<'_> {
    /// The total then, in hundredths: the one entry's, or the mean of the entries' published
    /// totals, computed exactly and rounded half-up to hundredths like every published score.
    fn total_cents(&self) -> i64 {
        cents::mean_half_up(self.0.iter().map(|entry| entry.total_cents)).unwrap_or_default()
    }

    /// A group's score then (two decimals), the mean over the entries likewise; empty when
    /// an entry has no such group.
    fn group_score(&self, code: &str) -> String {
        let scores: Option<Vec<i64>> = self
            .0
            .iter()
            .map(|entry| {
                entry
                    .groups
                    .iter()
                    .find(|group| group.code == code)
                    .and_then(|group| parse_cents(&group.score))
            })
            .collect();
        scores
            .and_then(cents::mean_half_up)
            .map_or_else(String::new, format_cents)
    }

    /// The best (smallest) rank among the entries.
    fn best_rank(&self) -> u32 {
        self.0.iter().map(|entry| entry.rank).min().unwrap_or(0)
    }

    /// The entries when there are several (their figures are means), by id.
    fn mean_of(&self, registry: &UnitRegistry) -> Vec<NamedUnit> {
        if self.0.len() < 2 {
            return Vec::new();
        }
        let mut units: Vec<NamedUnit> = self
            .0
            .iter()
            .map(|entry| NamedUnit {
                id: entry.unit.clone(),
                name: unit_name(registry, &entry.unit),
            })
            .collect();
        units.sort_by(|a, b| a.id.cmp(&b.id));
        units
    }
}

/// A cohort's ranking.
#[derive(Debug, Clone)]
pub struct Ranking {
    /// The framework's groups.
    pub groups: Vec<GroupHead>,
    /// Units best first.
    pub rows: Vec<RankingRow>,
    /// Each group's median over the cohort, in half-hundredths (exact).
    pub group_medians: Vec<HalfCents>,
    /// Min-max indicators with the cohort's range.
    pub min_max: Vec<MinMaxIndicator>,
}

/// A min-max indicator with its cohort range.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MinMaxIndicator {
    /// Indicator code.
    pub code: String,
    /// Its name.
    pub name: String,
    /// The range.
    pub range: MinMaxRange,
}

/// One indicator of a unit's scorecard.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScorecardLine {
    /// Indicator code.
    pub code: String,
    /// Its name.
    pub name: String,
    /// Its maximum.
    pub max_points: String,
    /// `scored`, `missing` or `not_applicable`.
    pub outcome: String,
    /// Score, two decimals.
    pub score: String,
    /// The engine's one-line explanation.
    pub summary: String,
}

/// One group of a unit's scorecard.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScorecardGroup {
    /// The group.
    pub head: GroupHead,
    /// The unit's group score.
    pub score: String,
    /// The cohort's median of the group.
    pub median: HalfCents,
    /// Its indicators.
    pub lines: Vec<ScorecardLine>,
}

/// A unit's scorecard.
#[derive(Debug, Clone)]
pub struct Scorecard {
    /// Its ranking row.
    pub row: RankingRow,
    /// Units in the cohort.
    pub cohort_size: usize,
    /// Groups with their indicators.
    pub groups: Vec<ScorecardGroup>,
}

/// An exact amount in half-hundredths of a point (a median of two-decimal scores).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct HalfCents(pub i64);

impl HalfCents {
    /// Two decimals, or three when it falls on a half hundredth (e.g. "12.345").
    pub fn decimal(self) -> String {
        if self.0 % 2 == 0 {
            format_cents(self.0 / 2)
        } else {
            let thousandths = self.0 * 5;
            let sign = if thousandths < 0 { "-" } else { "" };
            let magnitude = thousandths.unsigned_abs();
            format!("{sign}{}.{:03}", magnitude / 1000, magnitude % 1000)
        }
    }
}

/// A two-decimal string such as "12.34" or "-0.5" in hundredths, exactly; `None` when it has
/// more than two decimals or is not a number.
pub fn parse_cents(decimal: &str) -> Option<i64> {
    let (negative, digits) = match decimal.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, decimal),
    };
    let (whole, fraction) = digits.split_once('.').unwrap_or((digits, ""));
    if whole.is_empty()
        || fraction.len() > 2
        || !whole
            .bytes()
            .chain(fraction.bytes())
            .all(|b| b.is_ascii_digit())
    {
        return None;
    }
    let whole: i64 = whole.parse().ok()?;
    let fraction: i64 = match fraction.len() {
        0 => 0,
        1 => fraction.parse::<i64>().ok()? * 10,
        _ => fraction.parse().ok()?,
    };
    let cents = whole.checked_mul(100)?.checked_add(fraction)?;
    Some(if negative { -cents } else { cents })
}

/// The exact median of `values` (hundredths) in half-hundredths; zero for none.
pub fn median(values: &mut [i64]) -> HalfCents {
    if values.is_empty() {
        return HalfCents(0);
    }
    values.sort_unstable();
    let middle = values.len() / 2;
    if values.len() % 2 == 1 {
        HalfCents(values[middle] * 2)
    } else {
        HalfCents(values[middle - 1] + values[middle])
    }
}

impl CohortResult {
    /// The kind of unit the cohort is.
    pub fn unit_kind(&self) -> UnitKind {
        self.framework.unit_kind
    }

    /// The framework's groups.
    pub fn group_heads(&self) -> Vec<GroupHead> {
        self.framework
            .groups
            .iter()
            .map(|group| GroupHead {
                code: group.code.as_str().to_owned(),
                name: group.name.clone(),
                max_points: group.points.to_decimal_string(2),
            })
            .collect()
    }

    /// The ranking, best first.
    pub fn ranking(&self, registry: &UnitRegistry) -> Ranking {
        let groups = self.group_heads();
        let previous = self.previous_by_successor(registry);
        let rows: Vec<RankingRow> = self
            .revision
            .snapshot
            .units
            .iter()
            .map(|unit| self.row(unit, &groups, registry, previous.get(unit.unit.as_str())))
            .collect();
        let group_medians = (0..groups.len())
            .map(|i| {
                let mut cents: Vec<i64> = rows
                    .iter()
                    .filter_map(|row| parse_cents(&row.groups[i]))
                    .collect();
                median(&mut cents)
            })
            .collect();
        Ranking {
            min_max: self.min_max_indicators(),
            groups,
            rows,
            group_medians,
        }
    }

    /// `unit`'s scorecard, if it is in the revision.
    pub fn scorecard(&self, registry: &UnitRegistry, unit: &str) -> Option<Scorecard> {
        let ranking = self.ranking(registry);
        let row = ranking.rows.iter().find(|row| row.unit_id == unit)?.clone();
        let published = self.revision.snapshot.unit(unit)?;
        let groups = ranking
            .groups
            .iter()
            .enumerate()
            .map(|(i, head)| ScorecardGroup {
                head: head.clone(),
                score: row.groups[i].clone(),
                median: ranking.group_medians[i],
                lines: published
                    .indicators
                    .iter()
                    .filter(|indicator| indicator.group == head.code)
                    .map(|indicator| {
                        let defined = self
                            .framework
                            .indicators
                            .iter()
                            .find(|defined| defined.code.as_str() == indicator.code);
                        ScorecardLine {
                            code: indicator.code.clone(),
                            name: defined.map(|d| d.name.clone()).unwrap_or_default(),
                            max_points: defined
                                .map(|d| d.points.to_decimal_string(2))
                                .unwrap_or_default(),
                            outcome: indicator.outcome.clone(),
                            score: indicator.score.clone(),
                            summary: indicator.summary().to_owned(),
                        }
                    })
                    .collect(),
            })
            .collect();
        Some(Scorecard {
            row,
            cohort_size: ranking.rows.len(),
            groups,
        })
    }

    fn row(
        &self,
        unit: &SnapshotUnit,
        groups: &[GroupHead],
        registry: &UnitRegistry,
        previous: Option<&Predecessors<'_>>,
    ) -> RankingRow {
        let movement = match (previous, &self.previous) {
            (Some(then), Some(year)) => {
                let previous_cents = then.total_cents();
                let previous_rank = then.best_rank();
                Some(Movement {
                    previous_year: year.round.year,
                    previous_rank,
                    previous_total: format_cents(previous_cents),
                    previous_groups: groups
                        .iter()
                        .map(|head| then.group_score(&head.code))
                        .collect(),
                    places_gained: i64::from(previous_rank) - i64::from(unit.rank),
                    total_change_cents: unit.total_cents - previous_cents,
                    mean_of: then.mean_of(registry),
                })
            }
            _ => None,
        };
        RankingRow {
            rank: unit.rank,
            unit_id: unit.unit.clone(),
            unit_name: unit_name(registry, &unit.unit),
            total: unit.total.clone(),
            total_cents: unit.total_cents,
            groups: groups
                .iter()
                .map(|head| {
                    unit.groups
                        .iter()
                        .find(|group| group.code == head.code)
                        .map(|group| group.score.clone())
                        .unwrap_or_default()
                })
                .collect(),
            movement,
        }
    }

    /// The previous year's entries by the unit that continues them this year (several for a
    /// unit formed by a merger).
    fn previous_by_successor<'a>(
        &'a self,
        registry: &UnitRegistry,
    ) -> BTreeMap<String, Predecessors<'a>> {
        let Some(previous) = &self.previous else {
            return BTreeMap::new();
        };
        let mut by_successor: BTreeMap<String, Vec<&SnapshotUnit>> = BTreeMap::new();
        for entry in &previous.revision.snapshot.units {
            let successor = match UnitId::parse(entry.unit.clone()) {
                Ok(id) => registry
                    .successor_in(&id, self.round.year)
                    .as_str()
                    .to_owned(),
                Err(_) => entry.unit.clone(),
            };
            by_successor.entry(successor).or_default().push(entry);
        }
        by_successor
            .into_iter()
            .map(|(unit, entries)| (unit, Predecessors(entries)))
            .collect()
    }

    /// Min-max indicators with the cohort's range, from the first unit's explanation (the
    /// range is the cohort's, the same in every unit's).
    fn min_max_indicators(&self) -> Vec<MinMaxIndicator> {
        let Some(first) = self.revision.snapshot.units.first() else {
            return Vec::new();
        };
        first
            .indicators
            .iter()
            .filter_map(|indicator| {
                let range = self
                    .revision
                    .snapshot
                    .units
                    .iter()
                    .filter_map(|unit| unit.indicators.iter().find(|i| i.code == indicator.code))
                    .find_map(|i| i.min_max())?;
                let name = self
                    .framework
                    .indicators
                    .iter()
                    .find(|defined| defined.code.as_str() == indicator.code)
                    .map(|defined| defined.name.clone())
                    .unwrap_or_default();
                Some(MinMaxIndicator {
                    code: indicator.code.clone(),
                    name,
                    range,
                })
            })
            .collect()
    }
}

/// The Vietnamese name of `unit` in the registry (its id when the registry has none).
pub fn unit_name(registry: &UnitRegistry, unit: &str) -> String {
    UnitId::parse(unit.to_owned())
        .ok()
        .and_then(|id| registry.unit(&id).map(|found| found.name.clone()))
        .unwrap_or_else(|| unit.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn two_decimal_strings_are_read_exactly_in_hundredths() {
        assert_eq!(parse_cents("12.34"), Some(1234));
        assert_eq!(parse_cents("0.5"), Some(50));
        assert_eq!(parse_cents("-1.05"), Some(-105));
        assert_eq!(parse_cents("7"), Some(700));
        assert_eq!(parse_cents("1.234"), None);
        assert_eq!(parse_cents("1e3"), None);
        assert_eq!(parse_cents(""), None);
    }

    fn revision(units: serde_json::Value) -> Arc<PublishedRevision> {
        let snapshot = serde_json::json!({
            "format": crate::snapshot::FORMAT,
            "revision": 1,
            "framework": {"id": "hcm-2023-district", "title": "t", "total_points": "660"},
            "units": units,
        });
        Arc::new(PublishedRevision {
            revision: 1,
            reason: "initial publication".into(),
            published_at: None,
            content_hash: String::new(),
            canonical_json: Vec::new(),
            snapshot: serde_json::from_value(snapshot).expect("a snapshot"),
            round_state: "published".into(),
            provisional_until: None,
        })
    }

    fn published(unit: &str, rank: u32, total: &str, group_1: &str) -> serde_json::Value {
        serde_json::json!({
            "unit": unit,
            "rank": rank,
            "total": total,
            "total_cents": parse_cents(total).expect("two decimals"),
            "groups": [{"code": "1", "score": group_1}],
            "indicators": [],
        })
    }

    #[test]
    fn three_wards_merged_in_2025_are_compared_with_the_mean_of_their_2024_scores() {
        let registry = UnitRegistry::parse(
            "wards.toml",
            r#"
schema = 1
[[units]]
id = "phuong-a"
name = "Phường A"
kind = "district"
active_until = 2024
[[units]]
id = "phuong-b"
name = "Phường B"
kind = "district"
active_until = 2024
[[units]]
id = "phuong-c"
name = "Phường C"
kind = "district"
active_until = 2024
[[units]]
id = "phuong-moi"
name = "Phường Mới"
kind = "district"
active_from = 2025
[[units]]
id = "quan-x"
name = "Quận X"
kind = "district"
[[lineage]]
from = "phuong-a"
to = "phuong-moi"
effective_year = 2025
change = "merged"
[[lineage]]
from = "phuong-b"
to = "phuong-moi"
effective_year = 2025
change = "merged"
[[lineage]]
from = "phuong-c"
to = "phuong-moi"
effective_year = 2025
change = "merged"
"#,
        )
        .expect("a valid registry");
        let catalog = dti_domain::FrameworkCatalog::builtin().expect("the built-in frameworks");
        let framework = catalog
            .get_str("hcm-2023-district")
            .expect("the district framework")
            .clone();
        let round = |year| RoundRef {
            year,
            framework: framework.id.clone(),
        };
        let result = CohortResult {
            round: round(2025),
            framework: framework.clone(),
            revision: revision(serde_json::json!([
                published("quan-x", 1, "65.00", "4.00"),
                published("phuong-moi", 2, "55.00", "25.00"),
            ])),
            latest_revision: 1,
            previous: Some(PreviousYear {
                round: round(2024),
                revision: revision(serde_json::json!([
                    published("quan-x", 1, "70.00", "5.00"),
                    published("phuong-a", 2, "60.00", "10.00"),
                    published("phuong-b", 3, "50.01", "20.00"),
                    published("phuong-c", 4, "40.01", "30.01"),
                ])),
            }),
        };
        let ranking = result.ranking(&registry);
        let merged = ranking.rows[1]
            .movement
            .clone()
            .expect("compared with 2024");
        // (60.00 + 50.01 + 40.01) / 3 = 50.0066… → 50.01; group 1: 60.01 / 3 → 20.00.
        assert_eq!(merged.previous_total, "50.01");
        assert_eq!(merged.total_change_cents, 5500 - 5001);
        assert_eq!(merged.previous_groups[0], "20.00");
        assert_eq!(
            merged.previous_rank, 2,
            "the best of the predecessors' ranks"
        );
        assert_eq!(merged.places_gained, 0);
        assert_eq!(merged.previous_year, 2024);
        let ids: Vec<&str> = merged.mean_of.iter().map(|unit| unit.id.as_str()).collect();
        assert_eq!(ids, ["phuong-a", "phuong-b", "phuong-c"]);
        assert_eq!(merged.mean_of_names(), "Phường A, Phường B, Phường C");

        let own = ranking.rows[0]
            .movement
            .clone()
            .expect("quan-x was published in 2024");
        assert_eq!(own.previous_total, "70.00");
        assert_eq!(own.total_change_cents, -500);
        assert_eq!(own.previous_groups[0], "5.00");
        assert!(own.mean_of.is_empty(), "its own figures, not a mean");

        let table = crate::downloads::ranking_table(&ranking);
        let basis = table.headings.len() - 1;
        assert_eq!(
            table.rows[1][basis],
            crate::downloads::Cell::Text("trung bình của phuong-a, phuong-b, phuong-c".into())
        );
        assert_eq!(
            table.rows[0][basis],
            crate::downloads::Cell::Text(String::new())
        );
    }

    #[test]
    fn medians_are_exact_including_half_hundredths() {
        assert_eq!(median(&mut [300, 100, 200]).decimal(), "2.00");
        assert_eq!(median(&mut [101, 100]).decimal(), "1.005");
        assert_eq!(median(&mut [100, 300]).decimal(), "2.00");
        assert_eq!(median(&mut []).decimal(), "0.00");
        assert_eq!(HalfCents(-3).decimal(), "-0.015");
    }
}
