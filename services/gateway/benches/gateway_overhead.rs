//! What the gateway adds to a call: the same reads made by 200 concurrent callers directly over
//! gRPC and as JSON over HTTP through the gateway, in the same run, against the six services
//! started in-process on the real PostgreSQL, NATS JetStream and Redis (a fresh database and
//! prefixes, removed at the end).
//!
//! Two reads: a unit's scorecard (`ScoringService/GetScorecard`, every indicator of the
//! framework with its explanation: the larger JSON answer) and the cohort's ranking
//! (`RankingService/GetRanking`, the first page). Each round runs `DTI_BENCH_REQUESTS`
//! requests (default 4,000) from `DTI_BENCH_CONCURRENCY` callers (default 200), each caller
//! sending its next request when the last one is answered; the direct and gateway rounds
//! alternate `DTI_BENCH_ROUNDS` times (default 3) so that both see the same machine. gRPC
//! callers share one HTTP/2 channel, as a service's clients do; HTTP callers share one
//! connection pool, as an integration platform's do. Prints p50/p99 of each path and the
//! gateway ÷ direct ratios; the goal is a gateway p99 of at most 1.5 × direct.
//!
//! Run with `cargo bench -p dti-gateway --bench gateway_overhead`.

#[path = "../tests/support/mod.rs"]
mod support;

use std::sync::Arc;
use std::time::{Duration, Instant};

use dti_auth::Role;
use dti_proto::dti::common::v1::{RoundRef, UnitRef};
use dti_proto::dti::ranking::v1::ranking_service_client::RankingServiceClient;
use dti_proto::dti::ranking::v1::GetRankingRequest;
use dti_proto::dti::scoring::v1::scoring_service_client::ScoringServiceClient;
use dti_proto::dti::scoring::v1::{Basis, GetScorecardRequest};
use dti_testkit::with_auth;
use serde_json::{json, Value};
use support::{eventually, round_json, Platform};
use tonic::transport::Channel;

const UNITS: [&str; 4] = ["quan-1", "quan-3", "quan-4", "quan-5"];

fn env_number(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|value| value.parse().ok())
        .unwrap_or(default)
}

fn round() -> RoundRef {
    RoundRef {
        year: 2023,
        framework: "hcm-2023-district".into(),
    }
}

/// The read a caller repeats.
#[derive(Clone, Copy, Debug)]
enum Read {
    Scorecard,
    Ranking,
}

impl Read {
    fn rpc(self) -> &'static str {
        match self {
            Read::Scorecard => "dti.scoring.v1.ScoringService/GetScorecard",
            Read::Ranking => "dti.ranking.v1.RankingService/GetRanking",
        }
    }

    fn json_body(self) -> Value {
        match self {
            Read::Scorecard => json!({
                "round": round_json(),
                "unit": {"unitId": UNITS[0]},
                "basis": "BASIS_SELF_ASSESSED",
            }),
            Read::Ranking => json!({"round": round_json(), "basis": "BASIS_SELF_ASSESSED"}),
        }
    }
}

/// How a caller reaches the service.
#[derive(Clone)]
enum Path {
    Direct {
        scoring: Channel,
        ranking: Channel,
    },
    Gateway {
        http: reqwest::Client,
        base_url: String,
    },
}

impl Path {
    async fn call(&self, read: Read, bearer: &str) {
        match self {
            Path::Direct { scoring, ranking } => match read {
                Read::Scorecard => {
                    let request = GetScorecardRequest {
                        round: Some(round()),
                        unit: Some(UnitRef {
                            unit_id: UNITS[0].into(),
                        }),
                        basis: Basis::SelfAssessed as i32,
                    };
                    ScoringServiceClient::new(scoring.clone())
                        .get_scorecard(with_auth(request, bearer))
                        .await
                        .expect("the scorecard is read directly");
                }
                Read::Ranking => {
                    let request = GetRankingRequest {
                        round: Some(round()),
                        basis: Basis::SelfAssessed as i32,
                        ..GetRankingRequest::default()
                    };
                    RankingServiceClient::new(ranking.clone())
                        .get_ranking(with_auth(request, bearer))
                        .await
                        .expect("the ranking is read directly");
                }
            },
            Path::Gateway { http, base_url } => {
                let response = http
                    .post(format!("{base_url}/v1/{}", read.rpc()))
                    .header("authorization", bearer)
                    .header("content-type", "application/json")
                    .body(serde_json::to_vec(&read.json_body()).expect("JSON serializes"))
                    .send()
                    .await
                    .expect("the gateway answers");
                assert_eq!(response.status(), 200, "{}", read.rpc());
                response.bytes().await.expect("the answer arrives");
            }
        }
    }
}

/// `requests` calls of `read` over `path` from `concurrency` callers; each call's latency.
async fn load(
    path: &Path,
    read: Read,
    bearer: &Arc<str>,
    requests: usize,
    concurrency: usize,
) -> Vec<Duration> {
    let mut callers = tokio::task::JoinSet::new();
    for caller in 0..concurrency {
        let share = requests / concurrency + usize::from(caller < requests % concurrency);
        let path = path.clone();
        let bearer = bearer.clone();
        callers.spawn(async move {
            let mut latencies = Vec::with_capacity(share);
            for _ in 0..share {
                let started = Instant::now();
                path.call(read, &bearer).await;
                latencies.push(started.elapsed());
            }
            latencies
        });
    }
    let mut latencies = Vec::with_capacity(requests);
    while let Some(caller) = callers.join_next().await {
        latencies.extend(caller.expect("a caller finishes"));
    }
    latencies
}

fn percentile(sorted: &[Duration], fraction: f64) -> Duration {
    let index = ((sorted.len() as f64 * fraction).ceil() as usize).clamp(1, sorted.len()) - 1;
    sorted[index]
}

fn ms(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1000.0
}

async fn prepare(platform: &Platform) -> anyhow::Result<()> {
    let deadline = (chrono::Utc::now() + chrono::Duration::days(1)).to_rfc3339();
    platform
        .call(
            "dti.submission.v1.RoundOperatorService/OpenRound",
            &platform.token(Role::Operator),
            &json!({"round": round_json(), "deadline": deadline, "unitIds": UNITS}),
        )
        .await
        .expect(200);
    for (index, unit) in UNITS.iter().enumerate() {
        platform
            .call(
                "dti.submission.v1.SubmissionService/SubmitAssessment",
                &platform.unit_token(unit),
                &json!({
                    "round": round_json(),
                    "unit": {"unitId": unit},
                    "values": [
                        {"indicatorCode": "1.2", "variables": {"a": {"count": (30 + index).to_string()}, "b": {"count": "57"}}},
                        {"indicatorCode": "2.2", "variables": {"yes": {"flag": index % 2 == 0}}},
                    ],
                    "clientRequestId": format!("bench-{unit}"),
                }),
            )
            .await
            .expect(200);
    }
    let ranked = eventually(Duration::from_secs(60), || async {
        let answer = platform
            .call(
                Read::Ranking.rpc(),
                &platform.token(Role::Operator),
                &Read::Ranking.json_body(),
            )
            .await;
        let text = String::from_utf8_lossy(&answer.body).into_owned();
        (answer.status == 200 && UNITS.iter().all(|unit| text.contains(unit))).then_some(())
    })
    .await;
    anyhow::ensure!(ranked.is_some(), "the ranking never listed every unit");
    Ok(())
}

async fn bench() -> anyhow::Result<()> {
    let requests = env_number("DTI_BENCH_REQUESTS", 4_000);
    let concurrency = env_number("DTI_BENCH_CONCURRENCY", 200);
    let rounds = env_number("DTI_BENCH_ROUNDS", 3);
    let platform = Platform::start(|settings| {
        // One caller of the bench stands for many callers: let it through the rate limit.
        settings.rate_limit_per_second = 1_000_000;
        settings.rate_limit_burst = 1_000_000;
    })
    .await?;
    prepare(&platform).await?;

    let direct = Path::Direct {
        scoring: Channel::from_shared(platform.backend_endpoints.scoring.clone())?
            .connect()
            .await?,
        ranking: Channel::from_shared(platform.backend_endpoints.ranking.clone())?
            .connect()
            .await?,
    };
    let gateway = Path::Gateway {
        http: reqwest::Client::builder()
            .pool_max_idle_per_host(concurrency)
            .timeout(Duration::from_secs(60))
            .build()?,
        base_url: platform.base_url.clone(),
    };
    let unit_bearer: Arc<str> = platform.unit_token(UNITS[0]).into();
    let operator_bearer: Arc<str> = platform.token(Role::Operator).into();

    println!(
        "gateway_overhead: {requests} requests per round from {concurrency} concurrent callers, \
         {rounds} rounds per path, alternating"
    );
    for read in [Read::Scorecard, Read::Ranking] {
        let bearer = match read {
            Read::Scorecard => &unit_bearer,
            Read::Ranking => &operator_bearer,
        };
        // Warm both paths: connections, pools, caches.
        load(&direct, read, bearer, concurrency * 2, concurrency).await;
        load(&gateway, read, bearer, concurrency * 2, concurrency).await;
        let (mut direct_latencies, mut gateway_latencies) = (Vec::new(), Vec::new());
        let (mut direct_time, mut gateway_time) = (Duration::ZERO, Duration::ZERO);
        for _ in 0..rounds {
            let started = Instant::now();
            direct_latencies.extend(load(&direct, read, bearer, requests, concurrency).await);
            direct_time += started.elapsed();
            let started = Instant::now();
            gateway_latencies.extend(load(&gateway, read, bearer, requests, concurrency).await);
            gateway_time += started.elapsed();
        }
        direct_latencies.sort();
        gateway_latencies.sort();
        let (d50, d99) = (
            percentile(&direct_latencies, 0.50),
            percentile(&direct_latencies, 0.99),
        );
        let (g50, g99) = (
            percentile(&gateway_latencies, 0.50),
            percentile(&gateway_latencies, 0.99),
        );
        let calls = (requests * rounds) as f64;
        println!(
            "{:<44} direct  p50 {:>7.2} ms  p99 {:>7.2} ms  {:>7.0} calls/s",
            read.rpc(),
            ms(d50),
            ms(d99),
            calls / direct_time.as_secs_f64()
        );
        println!(
            "{:<44} gateway p50 {:>7.2} ms  p99 {:>7.2} ms  {:>7.0} calls/s",
            "",
            ms(g50),
            ms(g99),
            calls / gateway_time.as_secs_f64()
        );
        println!(
            "{:<44} gateway ÷ direct: p50 {:.2}, p99 {:.2} (goal p99 ≤ 1.5)",
            "",
            g50.as_secs_f64() / d50.as_secs_f64(),
            g99.as_secs_f64() / d99.as_secs_f64()
        );
    }
    platform.stop().await
}

fn main() -> anyhow::Result<()> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?
        .block_on(bench())
}
