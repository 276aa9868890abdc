//! The rankings in Redis: one sorted set per cohort (round and basis) for the total and one per
//! group, members are unit ids and scores their points in hundredths; and a marker key holding
//! the version of the score tables the sets reflect. A missing marker means the sets were
//! flushed or never built: they are rebuilt from PostgreSQL.
//!
//! Keys (under the configured prefix): `ranking:<year>:<framework>:<basis>:total`,
//! `…:group:<code>` and `…:version`. A rebuild fills temporary keys and renames them into place
//! together with the marker in one `MULTI`; an update writes the changed members and the marker
//! in one `MULTI`; reads run as Lua scripts, so every answer comes from one state of the sets.
//!
//! The competition rank of a score is 1 + the number of members with a strictly greater score
//! (`ZCOUNT key (score +inf`), as `dtictl score` ranks.

use dti_domain::RoundRef;
use dti_engine::Points;
use dti_scores::{Basis, FrameworkLayout};
use dti_service_kit::RedisStore;
use redis::aio::ConnectionManager;
use redis::Script;

use crate::answers::{Page, Position};
use crate::mirror::{CohortMirror, MemberScore};
use crate::RankingError;

/// Members written per `ZADD`.
const MEMBERS_PER_COMMAND: usize = 1000;

/// Seconds a rebuild's temporary keys live if the rebuild dies before renaming them.
const TEMPORARY_KEY_SECONDS: i64 = 600;

/// Reads one page: the set's size, the page with scores, how many members score strictly
/// above the page's first member, and the marker.
const PAGE_SCRIPT: &str = r"
local card = redis.call('ZCARD', KEYS[1])
local page = redis.call('ZREVRANGE', KEYS[1], ARGV[1], ARGV[2], 'WITHSCORES')
local above = 0
if #page > 0 then above = redis.call('ZCOUNT', KEYS[1], '(' .. page[2], '+inf') end
local marker = redis.call('GET', KEYS[2]) or ''
return {card, page, above, marker}
";

/// Reads one member: the set's size, its score ('' when absent), how many members score
/// strictly above it, and the marker.
const POSITION_SCRIPT: &str = r"
local card = redis.call('ZCARD', KEYS[1])
local marker = redis.call('GET', KEYS[2]) or ''
local score = redis.call('ZSCORE', KEYS[1], ARGV[1])
if not score then return {card, '', 0, marker} end
local above = redis.call('ZCOUNT', KEYS[1], '(' .. score, '+inf')
return {card, score, above, marker}
";

/// The keys of one cohort's rankings.
#[derive(Debug, Clone)]
pub struct CohortKeys {
    base: String,
}

impl CohortKeys {
    /// The keys of `round` on `basis` under the store's prefix.
    pub fn new(redis: &RedisStore, round: &RoundRef, basis: Basis) -> Self {
        Self {
            base: redis.key(&format!(
                "ranking:{}:{}:{}:",
                round.year, round.framework, basis
            )),
        }
    }

    /// The sorted set of the total (`set` none) or of a group (its position in `layout`).
    pub fn set(&self, layout: &FrameworkLayout, set: Option<usize>) -> String {
        format!("{}{}", self.base, suffix(layout, set))
    }

    /// The marker holding the version the sets reflect.
    pub fn marker(&self) -> String {
        format!("{}version", self.base)
    }

    fn temporary(&self, token: &str, layout: &FrameworkLayout, set: Option<usize>) -> String {
        format!("{}rebuild:{token}:{}", self.base, suffix(layout, set))
    }
}

fn suffix(layout: &FrameworkLayout, set: Option<usize>) -> String {
    match set.and_then(|g| layout.group_codes().nth(g)) {
        Some(code) => format!("group:{code}"),
        None => "total".to_owned(),
    }
}

/// The total and every group, as set positions.
fn all_sets(layout: &FrameworkLayout) -> impl Iterator<Item = Option<usize>> {
    std::iter::once(None).chain((0..layout.group_count()).map(Some))
}

/// The version the sets reflect; none when they were flushed or never built.
pub async fn marker(
    conn: &mut ConnectionManager,
    keys: &CohortKeys,
) -> Result<Option<u64>, RankingError> {
    let marker: Option<String> = redis::cmd("GET")
        .arg(keys.marker())
        .query_async(conn)
        .await
        .map_err(RankingError::redis("reading a ranking's version"))?;
    Ok(marker.and_then(|text| text.parse().ok()))
}

/// Replaces every set of the cohort with the mirror's scores and the marker with its version,
/// atomically for readers.
pub async fn rebuild(
    conn: &mut ConnectionManager,
    keys: &CohortKeys,
    mirror: &CohortMirror,
) -> Result<(), RankingError> {
    let layout = mirror.layout();
    let token = uuid::Uuid::new_v4().simple().to_string();
    let mut fill = redis::pipe();
    for set in all_sets(layout) {
        let temporary = keys.temporary(&token, layout, set);
        let members: Vec<(i64, &str)> = mirror
            .scores(set)
            .map(|(unit, points)| (points.cents(), unit.as_str()))
            .collect();
        for chunk in members.chunks(MEMBERS_PER_COMMAND) {
            fill.zadd_multiple(&temporary, chunk).ignore();
        }
        if !members.is_empty() {
            fill.expire(&temporary, TEMPORARY_KEY_SECONDS).ignore();
        }
    }
    let () = fill
        .query_async(conn)
        .await
        .map_err(RankingError::redis("filling a ranking"))?;
    let mut swap = redis::pipe();
    swap.atomic();
    for set in all_sets(layout) {
        let key = keys.set(layout, set);
        if mirror.is_empty() {
            swap.del(&key).ignore();
        } else {
            swap.rename(keys.temporary(&token, layout, set), &key)
                .ignore();
            swap.persist(&key).ignore();
        }
    }
    swap.set(keys.marker(), mirror.version()).ignore();
    let () = swap
        .query_async(conn)
        .await
        .map_err(RankingError::redis("swapping a rebuilt ranking in"))?;
    Ok(())
}

/// Writes changed members and the new version, atomically for readers.
pub async fn apply(
    conn: &mut ConnectionManager,
    keys: &CohortKeys,
    layout: &FrameworkLayout,
    changes: &[MemberScore],
    version: u64,
) -> Result<(), RankingError> {
    let mut update = redis::pipe();
    update.atomic();
    for set in all_sets(layout) {
        let members: Vec<(i64, &str)> = changes
            .iter()
            .filter(|change| change.set == set)
            .map(|change| (change.score.cents(), change.unit.as_str()))
            .collect();
        let key = keys.set(layout, set);
        for chunk in members.chunks(MEMBERS_PER_COMMAND) {
            update.zadd_multiple(&key, chunk).ignore();
        }
    }
    update.set(keys.marker(), version).ignore();
    let () = update
        .query_async(conn)
        .await
        .map_err(RankingError::redis("updating a ranking"))?;
    Ok(())
}

/// Reads `limit` members from position `offset` (0-based) of a set.
pub async fn page(
    conn: &mut ConnectionManager,
    keys: &CohortKeys,
    set_key: &str,
    offset: u64,
    limit: u64,
) -> Result<Page, RankingError> {
    let last = offset + limit.max(1) - 1;
    let (members, flat, above_first, marker): (u64, Vec<String>, u64, String) =
        Script::new(PAGE_SCRIPT)
            .key(set_key)
            .key(keys.marker())
            .arg(offset)
            .arg(last)
            .invoke_async(conn)
            .await
            .map_err(RankingError::redis("reading a ranking page"))?;
    let entries = flat
        .chunks(2)
        .map(|pair| match pair {
            [unit, score] => Ok((unit.clone(), points(score)?)),
            _ => Err(RankingError::Unexpected("a member without a score".into())),
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Page {
        members,
        entries,
        above_first,
        version: marker.parse().ok(),
    })
}

/// Reads one member's score and how many score above it.
pub async fn position(
    conn: &mut ConnectionManager,
    keys: &CohortKeys,
    set_key: &str,
    unit: &str,
) -> Result<Position, RankingError> {
    let (members, score, above, marker): (u64, String, u64, String) = Script::new(POSITION_SCRIPT)
        .key(set_key)
        .key(keys.marker())
        .arg(unit)
        .invoke_async(conn)
        .await
        .map_err(RankingError::redis("reading a ranking position"))?;
    let score = if score.is_empty() {
        None
    } else {
        Some(points(&score)?)
    };
    Ok(Position {
        members,
        score,
        above,
        version: marker.parse().ok(),
    })
}

/// A stored score (whole hundredths, written by this service) as points.
fn points(score: &str) -> Result<Points, RankingError> {
    score
        .parse::<i64>()
        .map(Points)
        .map_err(|_| RankingError::Unexpected(format!("score {score:?} is not whole hundredths")))
}
