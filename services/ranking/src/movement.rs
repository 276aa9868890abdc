//! A unit's movement against the previous year's published ranking: the latest revision of
//! the published round of year − 1 whose framework assesses the same kind of unit, with the
//! units of that ranking followed to this year through the registry's lineage (a unit formed by
//! a merger is compared with the best rank of the units it continues).

use dti_db::PgPool;
use dti_domain::framework::UnitKind;
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
    /// Unit and rank.
    pub ranks: Vec<(UnitId, u32)>,
}

/// The latest published ranking of the year before `round` for the same kind of unit.
pub async fn previous_ranking(
    pool: &PgPool,
    catalog: &FrameworkCatalog,
    round: &RoundRef,
) -> Result<Option<PublishedRanking>, RankingError> {
    let Some(kind) = unit_kind(catalog, &round.framework) else {
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
        FrameworkId::parse(framework.clone())
            .ok()
            .and_then(|id| unit_kind(catalog, &id))
            == Some(kind)
    }) else {
        return Ok(None);
    };
    let rows: Vec<(String, i32)> = sqlx::query_as(
        "SELECT unit_id, rank FROM publication_ranks \
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
        .filter_map(|(unit, rank)| Some((UnitId::parse(unit).ok()?, u32::try_from(rank).ok()?)))
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

fn unit_kind(catalog: &FrameworkCatalog, framework: &FrameworkId) -> Option<UnitKind> {
    catalog.get(framework).map(|framework| framework.unit_kind)
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
    let mut continued: Vec<(&UnitId, u32)> = previous
        .ranks
        .iter()
        .filter(|(earlier, _)| registry.successor_in(earlier, year) == *unit)
        .map(|(earlier, rank)| (earlier, *rank))
        .collect();
    continued.sort();
    let Some(previous_rank) = continued.iter().map(|(_, rank)| *rank).min() else {
        return Ok(None);
    };
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
            .map(|(earlier, _)| UnitRef {
                unit_id: earlier.to_string(),
            })
            .collect(),
        places_moved,
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
            ranks: vec![
                (id("quan-2"), 7),
                (id("quan-9"), 4),
                (id("quan-1"), 1),
                (id("quan-thu-duc"), 12),
            ],
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
        let same = movement(&previous, &registry, 2021, &id("quan-1"), 3)
            .unwrap()
            .unwrap();
        assert_eq!((same.previous_rank, same.places_moved), (1, -2));
        assert!(movement(&previous, &registry, 2021, &id("quan-3"), 3)
            .unwrap()
            .is_none());
    }
}
