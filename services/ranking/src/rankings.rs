//! Reading rankings: a page of a cohort's ranking by total or group, and one unit's position
//! with its movement against last year's published ranking, for callers allowed to see them.
//! Answers come from the sorted sets; when they are missing (a flushed or restarted Redis) they
//! are rebuilt from PostgreSQL first; while Redis is unavailable they come from the cohort's
//! mirror, brought up to PostgreSQL (the same ranks, from the truth).

use std::sync::Arc;

use dti_auth::Principal;
use dti_db::PgPool;
use dti_domain::{FrameworkCatalog, RoundRef, UnitId};
use dti_engine::Points;
use dti_proto::dti::common::v1::UnitRef;
use dti_proto::dti::ranking::v1 as pb;
use dti_scores::visibility::Reader;
use dti_scores::{Basis, FrameworkLayout, UnitVisibility};
use dti_service_kit::registry::RegistryCache;

use crate::answers::{Page, Position};
use crate::cohort_sync::RankingSync;
use crate::movement::{movement, previous_ranking};
use crate::page_token::PageQuery;
use crate::sorted_sets;
use crate::RankingError;

/// Counter: ranking reads answered from PostgreSQL (the mirror) because Redis was unavailable.
pub const READS_FROM_POSTGRES: &str = "dti_ranking_reads_from_postgres_total";

/// Page size limits.
#[derive(Debug, Clone, Copy)]
pub struct PageLimits {
    /// Units per page when none is asked for.
    pub default_size: u32,
    /// Most units per page.
    pub max_size: u32,
}

/// One page asked for.
#[derive(Debug, Clone)]
pub struct PageRequest {
    /// Group code; none ranks by total.
    pub group: Option<String>,
    /// Units per page (0: the default).
    pub size: u32,
    /// Token of the previous page's end; empty for the first page.
    pub token: String,
}

/// Reads rankings for authorised callers.
#[derive(Debug, Clone)]
pub struct Rankings {
    pool: PgPool,
    sync: Arc<RankingSync>,
    catalog: Arc<FrameworkCatalog>,
    registry: RegistryCache,
    visibility: UnitVisibility,
    limits: PageLimits,
}

impl Rankings {
    /// Rankings read through `sync`.
    pub fn new(
        pool: PgPool,
        sync: Arc<RankingSync>,
        catalog: Arc<FrameworkCatalog>,
        registry: RegistryCache,
        visibility: UnitVisibility,
        limits: PageLimits,
    ) -> Self {
        Self {
            pool,
            sync,
            catalog,
            registry,
            visibility,
            limits,
        }
    }

    /// One page of the ranking of `round` on `basis`.
    #[tracing::instrument(skip(self, principal, request), fields(round = %round, basis = %basis))]
    pub async fn page(
        &self,
        principal: &Principal,
        round: &RoundRef,
        basis: Basis,
        request: &PageRequest,
    ) -> Result<pb::Ranking, RankingError> {
        let reader = Reader::of(principal)?;
        let layout = self.layout(round)?;
        let set = group_position(&layout, request.group.as_deref())?;
        let query = PageQuery {
            round,
            basis,
            group: request.group.as_deref(),
        };
        let (offset, size) = self.page_window(&query, request)?;
        let state = self.round_state(round).await?;
        let member = match reader.own_unit() {
            Some(unit) => self.assessed(round, unit).await?,
            None => true,
        };
        reader.may_read_cohort(round, state, self.visibility, member)?;
        let target = RankingSet {
            layout: &layout,
            round,
            basis,
            set,
        };
        let page = self.read_page(target, offset, size).await?;
        let mut ranked = Vec::with_capacity(page.entries.len());
        let mut previous: Option<(Points, u32)> = None;
        for (i, (unit, score)) in page.entries.iter().enumerate() {
            let rank = match previous {
                Some((last, rank)) if last == *score => rank,
                None => competition_rank(page.above_first)?,
                Some(_) => competition_rank(offset_by(offset, i)?)?,
            };
            previous = Some((*score, rank));
            ranked.push(ranked_unit(unit, rank, *score));
        }
        let end = offset_by(offset, page.entries.len())?;
        Ok(pb::Ranking {
            round: Some(dti_workflow::rounds::proto_round(round)),
            basis: basis.to_proto() as i32,
            group_code: request.group.clone().unwrap_or_default(),
            cohort_version: page.version.unwrap_or(0),
            unit_count: unit_count(page.members)?,
            units: ranked,
            next_page_token: if end < page.members {
                query.token(end)
            } else {
                String::new()
            },
        })
    }

    /// `unit`'s position in the ranking of `round` on `basis` (by total, or by `group`).
    #[tracing::instrument(skip(self, principal), fields(round = %round, basis = %basis, unit = %unit))]
    pub async fn position(
        &self,
        principal: &Principal,
        round: &RoundRef,
        basis: Basis,
        unit: &UnitId,
        group: Option<&str>,
    ) -> Result<pb::UnitPosition, RankingError> {
        let reader = Reader::of(principal)?;
        let layout = self.layout(round)?;
        let set = group_position(&layout, group)?;
        let state = self.round_state(round).await?;
        reader.may_read_unit(unit, round, state, self.visibility)?;
        let target = RankingSet {
            layout: &layout,
            round,
            basis,
            set,
        };
        let position = self.read_position(target, unit).await?;
        let Some(score) = position.score else {
            return Err(RankingError::not_found(
                dti_i18n::Message::new("ranking-unit-not-ranked")
                    .arg("unit", unit.to_string())
                    .arg("round", round.to_string())
                    .arg("basis", basis.to_string())
                    .into(),
            ));
        };
        let rank = competition_rank(position.above)?;
        let movement = match set {
            None => match previous_ranking(&self.pool, &self.catalog, round).await? {
                Some(previous) => {
                    movement(&previous, &self.registry.current(), round.year, unit, rank)?
                }
                None => None,
            },
            Some(_) => None,
        };
        Ok(pb::UnitPosition {
            round: Some(dti_workflow::rounds::proto_round(round)),
            basis: basis.to_proto() as i32,
            group_code: group.unwrap_or_default().to_owned(),
            position: Some(ranked_unit(unit.as_str(), rank, score)),
            unit_count: unit_count(position.members)?,
            cohort_version: position.version.unwrap_or(0),
            movement,
        })
    }

    fn layout(&self, round: &RoundRef) -> Result<Arc<FrameworkLayout>, RankingError> {
        self.sync.layout(&round.framework).map_err(|_| {
            RankingError::invalid_field(
                "round.framework",
                dti_i18n::Message::new("ranking-framework-not-ranked")
                    .arg("framework", round.framework.to_string()),
            )
        })
    }

    async fn round_state(
        &self,
        round: &RoundRef,
    ) -> Result<dti_domain::round::RoundState, RankingError> {
        let record = dti_workflow::rounds::find(&self.pool, round)
            .await?
            .ok_or_else(|| {
                RankingError::not_found(dti_workflow::rounds::not_found(round).into())
            })?;
        Ok(record.state)
    }

    async fn assessed(&self, round: &RoundRef, unit: &str) -> Result<bool, RankingError> {
        let Ok(unit) = UnitId::parse(unit) else {
            return Ok(false);
        };
        Ok(dti_workflow::rounds::has_unit(&self.pool, round, &unit).await?)
    }

    fn page_window(
        &self,
        query: &PageQuery<'_>,
        request: &PageRequest,
    ) -> Result<(u64, u64), RankingError> {
        let size = match request.size {
            0 => self.limits.default_size,
            size if size <= self.limits.max_size => size,
            size => {
                return Err(RankingError::invalid_field(
                    "page_size",
                    dti_i18n::Message::new("ranking-page-size")
                        .arg("max", self.limits.max_size)
                        .arg("got", size),
                ))
            }
        };
        let offset = match request.token.as_str() {
            "" => 0,
            token => query.offset(token).ok_or_else(|| {
                RankingError::invalid_field(
                    "page_token",
                    dti_i18n::Message::new("ranking-page-token"),
                )
            })?,
        };
        Ok((offset, u64::from(size)))
    }

    /// A page from the sets, rebuilding them first if they were flushed; from the cohort's
    /// mirror, brought up to PostgreSQL, while Redis is unavailable.
    async fn read_page(
        &self,
        target: RankingSet<'_>,
        offset: u64,
        size: u64,
    ) -> Result<Page, RankingError> {
        self.read_redis_or_mirror(
            self.read_page_from_redis(target, offset, size),
            target,
            |mirror| mirror.page(target.set, offset, size),
        )
        .await
    }

    /// `from_redis` while Redis is available and answers; otherwise (marking it unavailable on
    /// a Redis error) the same answer read from the cohort's mirror, brought up to PostgreSQL,
    /// or the empty answer (`T::default()`) when nothing of the cohort is scored.
    async fn read_redis_or_mirror<T: Default>(
        &self,
        from_redis: impl std::future::Future<Output = Result<T, RankingError>>,
        target: RankingSet<'_>,
        from_mirror: impl FnOnce(&crate::mirror::CohortMirror) -> T,
    ) -> Result<T, RankingError> {
        if self.sync.redis_available() {
            match from_redis.await {
                Err(error @ RankingError::Redis { .. }) => self.sync.redis_failed(&error),
                answer => return answer,
            }
        }
        metrics::counter!(READS_FROM_POSTGRES).increment(1);
        let answer = self
            .sync
            .read_mirror(target.round, target.basis, from_mirror)
            .await?;
        Ok(answer.unwrap_or_default())
    }

    async fn read_page_from_redis(
        &self,
        target: RankingSet<'_>,
        offset: u64,
        size: u64,
    ) -> Result<Page, RankingError> {
        let keys = self.sync.keys(target.round, target.basis);
        let key = keys.set(target.layout, target.set);
        let mut conn = self.sync.redis();
        let page = sorted_sets::page(&mut conn, &keys, &key, offset, size).await?;
        if page.version.is_some() || self.nothing_scored(target).await? {
            return Ok(page);
        }
        sorted_sets::page(&mut conn, &keys, &key, offset, size).await
    }

    /// A position from the sets, rebuilding them first if they were flushed; from the
    /// cohort's mirror, brought up to PostgreSQL, while Redis is unavailable.
    async fn read_position(
        &self,
        target: RankingSet<'_>,
        unit: &UnitId,
    ) -> Result<Position, RankingError> {
        self.read_redis_or_mirror(
            self.read_position_from_redis(target, unit),
            target,
            |mirror| mirror.position(target.set, unit),
        )
        .await
    }

    async fn read_position_from_redis(
        &self,
        target: RankingSet<'_>,
        unit: &UnitId,
    ) -> Result<Position, RankingError> {
        let keys = self.sync.keys(target.round, target.basis);
        let key = keys.set(target.layout, target.set);
        let mut conn = self.sync.redis();
        let position = sorted_sets::position(&mut conn, &keys, &key, unit.as_str()).await?;
        if position.version.is_some() || self.nothing_scored(target).await? {
            return Ok(position);
        }
        sorted_sets::position(&mut conn, &keys, &key, unit.as_str()).await
    }

    /// Whether nothing of the target's cohort is scored, so an empty answer stands; its sets
    /// are rebuilt first when they were flushed (then false: worth reading again).
    async fn nothing_scored(&self, target: RankingSet<'_>) -> Result<bool, RankingError> {
        let rebuilt = self.sync.ensure_built(target.round, target.basis).await?;
        Ok(rebuilt.is_none())
    }
}

/// The sorted set a read goes to: the ranking of `round` on `basis`, by total (`set` none) or
/// by the group at `set` in `layout`.
#[derive(Clone, Copy)]
struct RankingSet<'a> {
    layout: &'a FrameworkLayout,
    round: &'a RoundRef,
    basis: Basis,
    set: Option<usize>,
}

/// The position of a group given by code (none: the total), or why the code is not one.
fn group_position(
    layout: &FrameworkLayout,
    group: Option<&str>,
) -> Result<Option<usize>, RankingError> {
    match group {
        None => Ok(None),
        Some(code) => layout.group_index_str(code).map(Some).ok_or_else(|| {
            let codes: Vec<String> = layout.group_codes().map(ToString::to_string).collect();
            RankingError::invalid_field(
                "group_code",
                dti_i18n::Message::new("ranking-unknown-group")
                    .arg("group", format!("{code:?}"))
                    .arg("framework", layout.framework().id.to_string())
                    .arg("groups", codes.join(", ")),
            )
        }),
    }
}

/// 1 + the number of members with a strictly greater score, or an error beyond `u32`.
fn competition_rank(strictly_above: u64) -> Result<u32, RankingError> {
    strictly_above
        .checked_add(1)
        .and_then(|rank| u32::try_from(rank).ok())
        .ok_or_else(|| {
            RankingError::Unexpected(format!("rank after {strictly_above} members exceeds u32"))
        })
}

/// The number of members as the API reports it, or an error beyond `u32`.
fn unit_count(members: u64) -> Result<u32, RankingError> {
    u32::try_from(members)
        .map_err(|_| RankingError::Unexpected(format!("{members} members exceed u32")))
}

/// The position `len` members past `offset`, or an error beyond `u64`.
fn offset_by(offset: u64, len: usize) -> Result<u64, RankingError> {
    u64::try_from(len)
        .ok()
        .and_then(|len| offset.checked_add(len))
        .ok_or_else(|| RankingError::Unexpected(format!("{len} members past {offset} exceed u64")))
}

fn ranked_unit(unit: &str, rank: u32, score: Points) -> pb::RankedUnit {
    pb::RankedUnit {
        unit: Some(UnitRef {
            unit_id: unit.to_owned(),
        }),
        rank,
        score: score.to_string(),
        score_cents: score.cents(),
    }
}
