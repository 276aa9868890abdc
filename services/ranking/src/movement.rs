//! A unit's movement against the previous year's published ranking: the latest revision of
//! the published round of year − 1 whose framework assesses the same kind of unit, with the
//! units of that ranking followed to this year through the registry's lineage. A unit formed by
//! a merger is compared with the best rank of the units it continues, and its total then is the
//! arithmetic mean of their published totals, rounded half-up to a hundredth.

use dti_db::PgPool;
use dti_domain::cents;
use dti_domain::{FrameworkCatalog, FrameworkId, RoundRef, UnitId, UnitRegistry};
use dti_proto::dti::common::v1::UnitRef;
use dti_proto::dti::ranking::v1 as pb;

use crate::RankingError;

/// A published ranking: its round, revision and every unit's rank.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublishedRanking {
    /// The round.
    pub round: RoundRef,
    /// The revision (the latest).
    pub revision: u32,
    /// Every unit's published rank and total.
    pub ranks: Vec<PublishedRank>,
}

/// One unit's place in a published ranking.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct PublishedRank {
    /// The unit.
    pub unit: UnitId,
    /// Its published rank.
    pub rank: u32,
    /// Its published total, in hundredths of a point.
    pub total_cents: i64,
}

/// The latest published ranking of the year before `round` on a framework comparable with its
/// own ([`dti_domain::Framework::comparable_with`]: the same kind of unit, and main assessments
/// compared with main ones, additional with additional).
pub async fn previous_ranking(
    pool: &PgPool,
    catalog: &FrameworkCatalog,
    round: &RoundRef,
) -> Result<Option<PublishedRanking>, RankingError> {
    let Some(current) = catalog.get(&round.framework) else {
        return Ok(None);
    };
    let Some(year) = round.year.checked_sub(1) else {
        return Ok(None);
    };
    let published: Vec<(String, i32)> = sqlx::query_as(
        "SELECT framework, max(revision) FROM publications WHERE year = $1 \
         GROUP BY framework ORDER BY max(published_at) DESC, framework",
    )
    .bind(i32::from(year))
    .fetch_all(pool)
    .await
    .map_err(RankingError::database("reading last year's publications"))?;
    let Some((framework, revision)) = published.into_iter().find(|(framework, _)| {
        catalog
            .get_str(framework)
            .is_some_and(|other| current.comparable_with(other))
    }) else {
        return Ok(None);
    };
    let rows: Vec<(String, i32, i64)> = sqlx::query_as(
        "SELECT unit_id, rank, total_cents FROM publication_ranks \
         WHERE year = $1 AND framework = $2 AND revision = $3",
    )
    .bind(i32::from(year))
    .bind(&framework)
    .bind(revision)
    .fetch_all(pool)
    .await
    .map_err(RankingError::database("reading last year's ranks"))?;
    let ranks = rows
        .into_iter()
        .filter_map(|(unit, rank, total_cents)| {
            Some(PublishedRank {
                unit: UnitId::parse(unit).ok()?,
                rank: u32::try_from(rank).ok()?,
                total_cents,
            })
        })
        .collect();
    let framework = FrameworkId::parse(framework)
        .map_err(|error| RankingError::Unexpected(format!("published framework: {error}")))?;
    Ok(Some(PublishedRanking {
        round: RoundRef { year, framework },
        revision: u32::try_from(revision).map_err(|_| {
            RankingError::Unexpected(format!("published revision {revision} is negative"))
        })?,
        ranks,
    }))
}

/// `unit`'s movement from `previous` to `current_rank` in `year`; none when neither the unit nor
/// a unit it continues was ranked then.
pub fn movement(
    previous: &PublishedRanking,
    registry: &UnitRegistry,
    year: u16,
    unit: &UnitId,
    current_rank: u32,
) -> Result<Option<pb::Movement>, RankingError> {
    let mut continued: Vec<&PublishedRank> = previous
        .ranks
        .iter()
        .filter(|earlier| registry.successor_in(&earlier.unit, year) == *unit)
        .collect();
    continued.sort();
    let Some(previous_rank) = continued.iter().map(|earlier| earlier.rank).min() else {
        return Ok(None);
    };
    let previous_total_cents =
        cents::mean_half_up(continued.iter().map(|earlier| earlier.total_cents)).ok_or_else(
            || RankingError::Unexpected(format!("the mean of {unit}'s predecessors overflows")),
        )?;
    let places = i64::from(previous_rank) - i64::from(current_rank);
    let places_moved = i32::try_from(places).map_err(|_| {
        RankingError::Unexpected(format!(
            "{unit} moved {places} places, beyond the range of a movement"
        ))
    })?;
    Ok(Some(pb::Movement {
        previous_round: Some(dti_workflow::rounds::proto_round(&previous.round)),
        previous_revision: previous.revision,
        previous_rank,
        previous_units: continued
            .iter()
            .map(|earlier| UnitRef {
                unit_id: earlier.unit.to_string(),
            })
            .collect(),
        places_moved,
        previous_total: cents::format(previous_total_cents),
        previous_total_cents,
        previous_total_is_mean: continued.len() > 1,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn merged_units_are_compared_with_the_best_rank_they_continue() {
        let registry = UnitRegistry::builtin().unwrap();
        let id = |text: &str| UnitId::parse(text).unwrap();
        let previous = PublishedRanking {
            round: RoundRef {
                year: 2020,
                framework: FrameworkId::parse("hcm-2023-district").unwrap(),
            },
            revision: 2,
            ranks: [
                ("quan-2", 7, 61_000),
                ("quan-9", 4, 70_001),
                ("quan-1", 1, 90_000),
                ("quan-thu-duc", 12, 50_000),
            ]
            .into_iter()
            .map(|(unit, rank, total_cents)| PublishedRank {
                unit: id(unit),
                rank,
                total_cents,
            })
            .collect(),
        };
        let merged = movement(&previous, &registry, 2021, &id("thu-duc"), 2)
            .unwrap()
            .unwrap();
        assert_eq!(merged.previous_rank, 4);
        assert_eq!(merged.places_moved, 2);
        let units: Vec<&str> = merged
            .previous_units
            .iter()
            .map(|u| u.unit_id.as_str())
            .collect();
        assert_eq!(units, ["quan-2", "quan-9", "quan-thu-duc"]);
        // (610.00 + 700.01 + 500.00) / 3 = 603.336…, half-up to 603.34.
        assert_eq!(merged.previous_total_cents, 60_334);
        assert_eq!(merged.previous_total, "603.34");
        assert!(merged.previous_total_is_mean);
        let same = movement(&previous, &registry, 2021, &id("quan-1"), 3)
            .unwrap()
            .unwrap();
        assert_eq!((same.previous_rank, same.places_moved), (1, -2));
        assert_eq!(
            (same.previous_total.as_str(), same.previous_total_is_mean),
            ("900.00", false)
        );
        assert!(movement(&previous, &registry, 2021, &id("quan-3"), 3)
            .unwrap()
            .is_none());
    }
}
