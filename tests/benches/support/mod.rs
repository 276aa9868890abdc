//! What the end-to-end benches share: reading their sizes from the environment, percentiles,
//! the ranking as the ranking service serves it and as the engine gives it, and the physical
//! reference of a settled ranking (the engine plus one plain `ZADD` pipeline).

use std::collections::HashMap;
use std::time::{Duration, Instant};

use dti_domain::values::Cohort;
use dti_domain::RoundRef;
use dti_engine::{score_cohort, CohortScores, Explain};
use dti_proto::dti::common::v1 as common;
use dti_proto::dti::ranking::v1::ranking_service_client::RankingServiceClient;
use dti_proto::dti::ranking::v1::GetRankingRequest;
use dti_proto::dti::scoring::v1::Basis;
use dti_testkit::with_auth;
use tonic::transport::Channel;

/// A size from the environment variable `name`, or `default`.
pub fn env_number(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// The `p` quantile (0–1) of sorted durations.
pub fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let index = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[index.min(sorted.len() - 1)]
}

/// Milliseconds, for printing.
pub fn ms(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1e3
}

/// The protobuf reference of a round.
pub fn round_ref(round: &RoundRef) -> common::RoundRef {
    common::RoundRef {
        year: u32::from(round.year),
        framework: round.framework.to_string(),
    }
}

/// Every unit's (score in hundredths, rank) as the ranking service answers it, read page by
/// page.
pub async fn served_ranking(
    channel: Channel,
    bearer: &str,
    round: &RoundRef,
    basis: Basis,
) -> anyhow::Result<HashMap<String, (i64, u32)>> {
    let mut client = RankingServiceClient::new(channel);
    let mut served = HashMap::new();
    let mut page_token = String::new();
    loop {
        let request = GetRankingRequest {
            round: Some(round_ref(round)),
            basis: basis as i32,
            group_code: String::new(),
            page_size: 1000,
            page_token,
        };
        let page = client
            .get_ranking(with_auth(request, bearer))
            .await?
            .into_inner();
        served.extend(page.units.into_iter().map(|entry| {
            let unit = entry.unit.map(|u| u.unit_id).unwrap_or_default();
            (unit, (entry.score_cents, entry.rank))
        }));
        if page.next_page_token.is_empty() {
            return Ok(served);
        }
        page_token = page.next_page_token;
    }
}

/// The engine's ranking of `scores`: every unit's (total in hundredths, rank).
pub fn engine_ranking(scores: &CohortScores) -> HashMap<String, (i64, u32)> {
    scores
        .units
        .iter()
        .map(|unit| (unit.unit.to_string(), (unit.total.cents(), unit.rank)))
        .collect()
}

/// The reference of a settled ranking: the engine scores each cohort on both bases, and one
/// pipeline of `ZADD`s writes each basis's total and group sets to Redis (under `prefix`).
pub async fn engine_and_zadd(
    cohorts: &[(RoundRef, Cohort)],
    redis: &mut redis::aio::MultiplexedConnection,
    prefix: &str,
) -> anyhow::Result<Duration> {
    let started = Instant::now();
    let mut pipe = redis::pipe();
    for (round, cohort) in cohorts {
        for basis in ["self", "verified"] {
            let scores = score_cohort(cohort, Explain::ScoresOnly)?;
            let key = format!("{prefix}reference:{round}:{basis}");
            pipe.del(format!("{key}:total")).ignore();
            for unit in &scores.units {
                pipe.zadd(
                    format!("{key}:total"),
                    unit.unit.as_str(),
                    unit.total.cents(),
                )
                .ignore();
                for group in &unit.groups {
                    pipe.zadd(
                        format!("{key}:{}", group.code),
                        unit.unit.as_str(),
                        group.score.cents(),
                    )
                    .ignore();
                }
            }
        }
    }
    let () = pipe.query_async(redis).await?;
    Ok(started.elapsed())
}

/// The median of five runs of [`engine_and_zadd`].
pub async fn reference(
    cohorts: &[(RoundRef, Cohort)],
    redis_prefix: &str,
) -> anyhow::Result<Duration> {
    let redis = redis::Client::open(dti_testkit::redis_url())?;
    let mut conn = redis.get_multiplexed_async_connection().await?;
    let mut runs = Vec::new();
    for _ in 0..5 {
        runs.push(engine_and_zadd(cohorts, &mut conn, redis_prefix).await?);
    }
    runs.sort();
    Ok(runs[runs.len() / 2])
}
