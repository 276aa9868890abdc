//! What the end-to-end benches share: reading their sizes from the environment, percentiles,
//! the ranking as the ranking service serves it and as the engine gives it, and the physical
//! reference of a settled ranking (the engine plus one plain `ZADD` pipeline).

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use dti_domain::values::{Cohort, UnitValues};
use dti_domain::RoundRef;
use dti_engine::{score_cohort, CohortScores, Explain};
use dti_proto::convert::indicator_to_proto;
use dti_proto::dti::common::v1 as common;
use dti_proto::dti::ranking::v1::ranking_service_client::RankingServiceClient;
use dti_proto::dti::ranking::v1::GetRankingRequest;
use dti_proto::dti::scoring::v1::Basis;
use dti_proto::dti::submission::v1::submission_service_client::SubmissionServiceClient;
use dti_proto::dti::submission::v1::SubmitAssessmentRequest;
use dti_testkit::with_auth;
use tokio::sync::Semaphore;
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

/// `SubmitAssessment` of a unit's whole assessment in `round`.
pub fn submit_request(
    round: &RoundRef,
    values: &UnitValues,
    client_request_id: String,
) -> SubmitAssessmentRequest {
    SubmitAssessmentRequest {
        round: Some(round_ref(round)),
        unit: Some(common::UnitRef {
            unit_id: values.unit.to_string(),
        }),
        values: values
            .values
            .iter()
            .map(|(code, values)| indicator_to_proto(code.as_str(), values))
            .collect(),
        client_request_id,
        ..Default::default()
    }
}

/// One acknowledged submission.
pub struct Acknowledgement {
    /// From sending it to its answer.
    pub latency: Duration,
    /// When it was answered.
    pub at: Instant,
    /// The version it stored.
    pub version: u32,
}

/// Sends each `(request, bearer)` with `SubmitAssessment`: request n no earlier than n / `rate`
/// seconds after the start (`None`: as soon as a slot is free), at most `inflight` at once.
/// Returns the start and every acknowledgement, in the order of `requests`; any refusal fails.
pub async fn submit_all(
    channel: Channel,
    requests: impl IntoIterator<Item = (SubmitAssessmentRequest, String)>,
    rate: Option<f64>,
    inflight: usize,
) -> anyhow::Result<(Instant, Vec<Acknowledgement>)> {
    let permits = Arc::new(Semaphore::new(inflight));
    let started = Instant::now();
    let mut tasks = Vec::new();
    for (n, (request, bearer)) in requests.into_iter().enumerate() {
        if let Some(rate) = rate {
            let due = started + Duration::from_secs_f64(n as f64 / rate);
            tokio::time::sleep_until(due.into()).await;
        }
        let permit = Arc::clone(&permits).acquire_owned().await?;
        let channel = channel.clone();
        tasks.push(tokio::spawn(async move {
            let sent = Instant::now();
            let version = SubmissionServiceClient::new(channel)
                .submit_assessment(with_auth(request, &bearer))
                .await?
                .into_inner()
                .version;
            let at = Instant::now();
            drop(permit);
            anyhow::Ok(Acknowledgement {
                latency: at - sent,
                at,
                version,
            })
        }));
    }
    let mut acknowledged = Vec::with_capacity(tasks.len());
    for task in tasks {
        acknowledged.push(task.await??);
    }
    Ok((started, acknowledged))
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
