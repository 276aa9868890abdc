//! Benchmarks of the scoring → ranking pipeline on a 10,000-unit district cohort, against the
//! real PostgreSQL, NATS JetStream and Redis (a fresh database and prefixes, removed at the end):
//!
//! 1. one unit's change reaching an updated ranking: a new submitted version is written the way
//!    the submission service writes it (rows and `submission.submitted.v1` in one transaction);
//!    the time runs from its commit until the ranking service answers with the cohort version
//!    that includes it. Three kinds of change: an ordinary indicator, a min-max indicator whose
//!    new x stays inside the cohort's range, and a min-max x that moves the range (every unit's
//!    score of that indicator changes). p50/p99 per kind and for the first two together.
//!    The range moves are followed by their physical floor measured in the same run: a plain
//!    `ZADD` pipeline updating as many members of two sorted sets as a range move rewrites.
//! 2. a cold rebuild of the Redis rankings (total and every group) from PostgreSQL: directly, and
//!    as a reader sees it (every key removed, then one ranking page read).
//! 3. unary reads on the running services, one caller at a time: `GetRanking` (a page of 50 at
//!    the top and in the middle of the cohort), `GetUnitPosition` and `GetScorecard` (every
//!    indicator with its explanation), each as p50/p99 and as a ratio to a bare gRPC answer of
//!    the same server in the same run (the health check: no database, no Redis).
//!
//! Run with `cargo bench -p dti-ranking --bench ranking_latency` (`DTI_BENCH_UNITS`,
//! `DTI_BENCH_CHANGES`, `DTI_BENCH_RANGE_CHANGES` and `DTI_BENCH_READS` change the sizes,
//! `DTI_BENCH_OUTBOX_POLL_MS` the scoring service's outbox poll interval).

use std::time::{Duration, Instant};

use dti_auth::Role;
use dti_bus::outbox::{self, OutboxMessage};
use dti_domain::sample::{sample_cohort, SampleOptions, SampleRng};
use dti_domain::{FrameworkCatalog, FrameworkId, RoundRef};
use dti_proto::dti::common::v1 as common;
use dti_proto::dti::events::v1::SubmissionSubmitted;
use dti_proto::dti::ranking::v1::ranking_service_client::RankingServiceClient;
use dti_proto::dti::ranking::v1::{GetRankingRequest, GetUnitPositionRequest};
use dti_proto::dti::scoring::v1::scoring_service_client::ScoringServiceClient;
use dti_proto::dti::scoring::v1::GetScorecardRequest;
use dti_scores::Basis;
use dti_testkit::{with_auth, TestBackends};
use prost::Message;
use serde_json::{json, Value};
use sqlx::PgPool;
use tonic_health::pb::health_client::HealthClient;
use tonic_health::pb::HealthCheckRequest;
use uuid::Uuid;

const FRAMEWORK: &str = "hcm-2023-district";
const YEAR: i16 = 2023;

fn env_number(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn round() -> RoundRef {
    RoundRef {
        year: 2023,
        framework: FrameworkId::parse(FRAMEWORK).expect("framework id"),
    }
}

/// One unit's stored values: code, variables (none when not applicable).
type UnitRows = Vec<(String, Option<Value>)>;

/// Writes the round, its cohort and a submitted version 1 of every unit, in bulk.
async fn seed(pool: &PgPool, units: usize) -> anyhow::Result<Vec<(String, Uuid, UnitRows)>> {
    let catalog = FrameworkCatalog::builtin()?;
    let framework = catalog.get_str(FRAMEWORK).expect("framework");
    let options = SampleOptions {
        units,
        seed: 10_000,
        unit_prefix: "BENCH-".into(),
        ..SampleOptions::default()
    };
    let cohort = sample_cohort(framework, &options);
    let mut seeded = Vec::with_capacity(units);
    for unit in cohort["units"].as_array().expect("units") {
        let mut rows: UnitRows = unit["values"]
            .as_object()
            .expect("values")
            .iter()
            .map(|(code, variables)| (code.clone(), Some(variables.clone())))
            .collect();
        for code in unit["not_applicable"].as_array().expect("not applicable") {
            rows.push((code.as_str().expect("code").to_owned(), None));
        }
        seeded.push((
            unit["unit"].as_str().expect("id").to_owned(),
            Uuid::new_v4(),
            rows,
        ));
    }
    sqlx::query("INSERT INTO rounds (year, framework, state) VALUES ($1, $2, 'open')")
        .bind(YEAR)
        .bind(FRAMEWORK)
        .execute(pool)
        .await?;
    for chunk in seeded.chunks(2000) {
        let ids: Vec<&str> = chunk.iter().map(|(unit, _, _)| unit.as_str()).collect();
        let submissions: Vec<Uuid> = chunk.iter().map(|(_, id, _)| *id).collect();
        sqlx::query(
            "INSERT INTO round_units (year, framework, unit_id) SELECT $1, $2, unnest($3::text[])",
        )
        .bind(YEAR)
        .bind(FRAMEWORK)
        .bind(&ids)
        .execute(pool)
        .await?;
        sqlx::query(
            "INSERT INTO submissions (id, year, framework, unit_id, state, latest_version) \
             SELECT t.id, $1, $2, t.unit_id, 'submitted', 1 FROM unnest($3::uuid[], $4::text[]) AS t(id, unit_id)",
        )
        .bind(YEAR)
        .bind(FRAMEWORK)
        .bind(&submissions)
        .bind(&ids)
        .execute(pool)
        .await?;
        sqlx::query(
            "INSERT INTO submission_versions (submission_id, version, client_request_id, submitted_by) \
             SELECT t.id, 1, t.id::text, 'bench' FROM unnest($1::uuid[]) AS t(id)",
        )
        .bind(&submissions)
        .execute(pool)
        .await?;
        let mut value_ids = Vec::new();
        let mut codes = Vec::new();
        let mut variables = Vec::new();
        let mut reasons = Vec::new();
        for (_, id, rows) in chunk {
            for (code, values) in rows {
                value_ids.push(*id);
                codes.push(code.as_str());
                variables.push(values.as_ref().map(sqlx::types::Json));
                reasons.push(values.is_none().then_some("does not apply"));
            }
        }
        sqlx::query(
            "INSERT INTO submission_version_values (submission_id, version, indicator_code, variables, not_applicable_reason) \
             SELECT t.id, 1, t.code, t.variables, t.reason FROM unnest($1::uuid[], $2::text[], $3::jsonb[], $4::text[]) \
             AS t(id, code, variables, reason)",
        )
        .bind(&value_ids)
        .bind(&codes)
        .bind(&variables)
        .bind(&reasons)
        .execute(pool)
        .await?;
    }
    Ok(seeded)
}

/// Writes version `version` of a unit with `rows`, and its event, as the submission service does.
async fn submit_version(
    pool: &PgPool,
    prefix: &str,
    unit: &str,
    id: Uuid,
    version: i32,
    rows: &UnitRows,
) -> anyhow::Result<()> {
    let mut tx = pool.begin().await?;
    sqlx::query(
        "INSERT INTO submission_versions (submission_id, version, client_request_id, submitted_by) VALUES ($1, $2, $3, 'bench')",
    )
    .bind(id)
    .bind(version)
    .bind(format!("{id}/{version}"))
    .execute(&mut *tx)
    .await?;
    let codes: Vec<&str> = rows.iter().map(|(code, _)| code.as_str()).collect();
    let variables: Vec<Option<sqlx::types::Json<&Value>>> = rows
        .iter()
        .map(|(_, v)| v.as_ref().map(sqlx::types::Json))
        .collect();
    let reasons: Vec<Option<&str>> = rows
        .iter()
        .map(|(_, v)| v.is_none().then_some("does not apply"))
        .collect();
    sqlx::query(
        "INSERT INTO submission_version_values (submission_id, version, indicator_code, variables, not_applicable_reason) \
         SELECT $1, $2, t.code, t.variables, t.reason FROM unnest($3::text[], $4::jsonb[], $5::text[]) AS t(code, variables, reason)",
    )
    .bind(id)
    .bind(version)
    .bind(&codes)
    .bind(&variables)
    .bind(&reasons)
    .execute(&mut *tx)
    .await?;
    sqlx::query("UPDATE submissions SET latest_version = $2 WHERE id = $1")
        .bind(id)
        .bind(version)
        .execute(&mut *tx)
        .await?;
    let event = SubmissionSubmitted {
        submission_id: id.to_string(),
        round: Some(common::RoundRef {
            year: 2023,
            framework: FRAMEWORK.into(),
        }),
        unit: Some(common::UnitRef {
            unit_id: unit.to_owned(),
        }),
        version: u32::try_from(version)?,
        submitted_at: None,
    };
    let message = OutboxMessage::new(
        format!("{prefix}.submission.submitted.v1"),
        format!("submission/{id}/v{version}"),
        event.encode_to_vec(),
    );
    outbox::enqueue(&mut tx, &message).await?;
    tx.commit().await?;
    Ok(())
}

async fn self_version(pool: &PgPool) -> anyhow::Result<u64> {
    let version: i64 = sqlx::query_scalar(
        "SELECT version FROM score_cohorts WHERE year = $1 AND framework = $2 AND basis = 'self'",
    )
    .bind(YEAR)
    .bind(FRAMEWORK)
    .fetch_one(pool)
    .await?;
    Ok(u64::try_from(version)?)
}

async fn scored_cohorts(pool: &PgPool) -> anyhow::Result<i64> {
    Ok(sqlx::query_scalar("SELECT count(*) FROM score_cohorts")
        .fetch_one(pool)
        .await?)
}

async fn scored_units(pool: &PgPool) -> anyhow::Result<i64> {
    Ok(
        sqlx::query_scalar("SELECT count(*) FROM score_units WHERE input_version = 1")
            .fetch_one(pool)
            .await?,
    )
}

/// The p50 and p99 of `samples` (sorted in place).
fn quantiles(samples: &mut [Duration]) -> (Duration, Duration) {
    samples.sort();
    (percentile(samples, 0.50), percentile(samples, 0.99))
}

/// Times `reads` calls of `call`, one at a time, after 20 unmeasured ones.
async fn timed<F, Fut>(reads: usize, mut call: F) -> anyhow::Result<Vec<Duration>>
where
    F: FnMut(usize) -> Fut,
    Fut: std::future::Future<Output = anyhow::Result<()>>,
{
    for i in 0..20 {
        call(i).await?;
    }
    let mut samples = Vec::with_capacity(reads);
    for i in 0..reads {
        let started = Instant::now();
        call(i).await?;
        samples.push(started.elapsed());
    }
    Ok(samples)
}

/// Times `reads` health checks of the server behind `channel` (the bare gRPC answer reads are
/// compared with), prints them and returns their p50/p99.
async fn bare_answers(
    channel: tonic::transport::Channel,
    reads: usize,
    service: &str,
) -> anyhow::Result<(Duration, Duration)> {
    let health = HealthClient::new(channel);
    let mut samples = timed(reads, |_| {
        let mut health = health.clone();
        async move {
            health.check(HealthCheckRequest::default()).await?;
            Ok(())
        }
    })
    .await?;
    let bare = quantiles(&mut samples);
    report_read(
        &format!("bare gRPC answer ({service} service's health check)"),
        &mut samples,
        bare,
    );
    Ok(bare)
}

/// Prints a read's p50/p99 and their ratio to the bare answer's.
fn report_read(kind: &str, samples: &mut [Duration], bare: (Duration, Duration)) {
    let (p50, p99) = quantiles(samples);
    println!(
        "{kind}: n={} p50 {:.2} ms p99 {:.2} ms ({:.1}× / {:.1}× the bare answer)",
        samples.len(),
        p50.as_secs_f64() * 1e3,
        p99.as_secs_f64() * 1e3,
        p50.as_secs_f64() / bare.0.as_secs_f64(),
        p99.as_secs_f64() / bare.1.as_secs_f64(),
    );
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

fn report(kind: &str, samples: &mut [Duration]) {
    samples.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    println!(
        "{kind}: {} changes, p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms",
        samples.len(),
        ms(percentile(samples, 50.0)),
        ms(percentile(samples, 99.0)),
        ms(samples[samples.len() - 1])
    );
}

/// The physical floor of a range move's Redis writes: one atomic pipeline of `ZADD`s (1,000
/// members each, as the ranking service writes them) giving every one of `units` members of two
/// sorted sets a new score; the median of 10 passes over sets under `prefix`, removed after.
async fn zadd_reference(prefix: &str, units: usize) -> anyhow::Result<Duration> {
    let redis = redis::Client::open(dti_testkit::redis_url())?;
    let mut conn = redis.get_multiplexed_async_connection().await?;
    let keys = [
        format!("{prefix}zadd-reference:a"),
        format!("{prefix}zadd-reference:b"),
    ];
    let members: Vec<String> = (0..units).map(|i| format!("BENCH-{i:05}")).collect();
    let mut samples = Vec::with_capacity(10);
    for pass in 0..11_i64 {
        let mut pipe = redis::pipe();
        pipe.atomic();
        let scored: Vec<(i64, &str)> = members
            .iter()
            .zip(0_i64..)
            .map(|(member, at)| ((at * 7919 + pass * 104_729) % 10_007, member.as_str()))
            .collect();
        for key in &keys {
            for chunk in scored.chunks(1000) {
                pipe.zadd_multiple(key, chunk).ignore();
            }
        }
        let started = Instant::now();
        let () = pipe.query_async(&mut conn).await?;
        if pass > 0 {
            samples.push(started.elapsed());
        }
    }
    let () = redis::cmd("DEL").arg(&keys).query_async(&mut conn).await?;
    samples.sort();
    Ok(samples[samples.len() / 2])
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let units = env_number("DTI_BENCH_UNITS", 10_000);
    let changes = env_number("DTI_BENCH_CHANGES", 200);
    let range_changes = env_number("DTI_BENCH_RANGE_CHANGES", 30);
    let backends = TestBackends::create().await?;
    let pool = backends.db.pool().clone();
    let started = Instant::now();
    let mut seeded = seed(&pool, units).await?;
    println!(
        "seeded {units} district units in {:.1} s",
        started.elapsed().as_secs_f64()
    );

    let defaults = dti_scoring::Settings::default();
    let poll_ms = env_number(
        "DTI_BENCH_OUTBOX_POLL_MS",
        usize::try_from(defaults.outbox_poll_interval_ms)?,
    );
    println!("scoring's outbox relay polls every {poll_ms} ms");
    let scoring_config = backends.service_config(dti_scoring::Settings {
        reconcile_interval_secs: 3600,
        outbox_poll_interval_ms: u64::try_from(poll_ms)?,
        ..defaults
    });
    let scoring = dti_scoring::build(&scoring_config).await?.spawn()?;
    let started = Instant::now();
    let all = i64::try_from(2 * units)?;
    // Polled every 20 ms; the cohorts' rows first (two rows, where counting 20,000 score rows
    // would take PostgreSQL's time from the pass it measures).
    while scored_cohorts(&pool).await? < 2 || scored_units(&pool).await? < all {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    println!(
        "scoring's reconciler scored the cohort on both bases in {:.1} s",
        started.elapsed().as_secs_f64()
    );

    let ranking_config = backends.service_config(dti_ranking::Settings {
        reconcile_interval_secs: 3600,
        ..dti_ranking::Settings::default()
    });
    let built = dti_ranking::build_with_sync(&ranking_config).await?;
    let sync = built.sync.clone();
    let ranking = built.kit.spawn()?;
    let mut client = RankingServiceClient::new(ranking.channel());
    let token = backends.token(Role::Verifier);

    // Cold rebuilds from PostgreSQL.
    let round = round();
    let mut rebuilds = Vec::new();
    for _ in 0..5 {
        let started = Instant::now();
        sync.rebuild(&round, Basis::SelfAssessed).await?;
        rebuilds.push(started.elapsed());
    }
    report(
        "cold rebuild of the 10 sorted sets from PostgreSQL",
        &mut rebuilds,
    );
    let redis = redis::Client::open(dti_testkit::redis_url())?;
    let mut conn = redis.get_multiplexed_async_connection().await?;
    let mut flushed_reads = Vec::new();
    for _ in 0..5 {
        backends.delete_redis_keys().await?;
        let started = Instant::now();
        let request = GetRankingRequest {
            round: Some(common::RoundRef {
                year: 2023,
                framework: FRAMEWORK.into(),
            }),
            basis: dti_proto::dti::scoring::v1::Basis::SelfAssessed as i32,
            group_code: String::new(),
            page_size: 50,
            page_token: String::new(),
        };
        let page = client
            .get_ranking(with_auth(request, &token))
            .await?
            .into_inner();
        flushed_reads.push(started.elapsed());
        assert_eq!(usize::try_from(page.unit_count)?, units);
    }
    report(
        "first ranking page after Redis lost every key (rebuild included)",
        &mut flushed_reads,
    );
    sync.rebuild(&round, Basis::Verified).await?;

    // Unary reads, one caller at a time, against a bare answer of each server.
    let reads = env_number("DTI_BENCH_READS", 1_000);
    let round_ref = common::RoundRef {
        year: 2023,
        framework: FRAMEWORK.into(),
    };
    let self_assessed = dti_proto::dti::scoring::v1::Basis::SelfAssessed as i32;
    let bare_ranking = bare_answers(ranking.channel(), reads, "ranking").await?;
    let middle = {
        let request = GetRankingRequest {
            round: Some(round_ref.clone()),
            basis: self_assessed,
            group_code: String::new(),
            page_size: u32::try_from(units / 2)?.clamp(1, 1000),
            page_token: String::new(),
        };
        let page = client
            .get_ranking(with_auth(request, &token))
            .await?
            .into_inner();
        page.next_page_token
    };
    for (kind, page_token) in [
        ("GetRanking, first page of 50", String::new()),
        ("GetRanking, a page of 50 in the middle", middle),
    ] {
        let mut samples = timed(reads, |_| {
            let mut client = client.clone();
            let request = GetRankingRequest {
                round: Some(round_ref.clone()),
                basis: self_assessed,
                group_code: String::new(),
                page_size: 50,
                page_token: page_token.clone(),
            };
            let request = with_auth(request, &token);
            async move {
                let page = client.get_ranking(request).await?.into_inner();
                anyhow::ensure!(page.units.len() == 50.min(units), "a full page");
                Ok(())
            }
        })
        .await?;
        report_read(kind, &mut samples, bare_ranking);
    }
    let mut samples = timed(reads, |i| {
        let mut client = client.clone();
        let request = GetUnitPositionRequest {
            round: Some(round_ref.clone()),
            basis: self_assessed,
            unit: Some(common::UnitRef {
                unit_id: seeded[i % seeded.len()].0.clone(),
            }),
            group_code: String::new(),
        };
        let request = with_auth(request, &token);
        async move {
            client.get_unit_position(request).await?;
            Ok(())
        }
    })
    .await?;
    report_read("GetUnitPosition", &mut samples, bare_ranking);
    let bare_scoring = bare_answers(scoring.channel(), reads, "scoring").await?;
    let scorecards = ScoringServiceClient::new(scoring.channel());
    let mut samples = timed(reads, |i| {
        let mut client = scorecards.clone();
        let request = GetScorecardRequest {
            round: Some(round_ref.clone()),
            unit: Some(common::UnitRef {
                unit_id: seeded[i % seeded.len()].0.clone(),
            }),
            basis: self_assessed,
        };
        let request = with_auth(request, &token);
        async move {
            let card = client.get_scorecard(request).await?.into_inner();
            anyhow::ensure!(
                !card.indicators.is_empty(),
                "a scorecard with its indicators"
            );
            Ok(())
        }
    })
    .await?;
    report_read(
        "GetScorecard (every indicator with its explanation)",
        &mut samples,
        bare_scoring,
    );

    // One unit's change reaching the ranking.
    let mut rng = SampleRng::new(2023);
    let mut max_a: u64 = 0;
    for (_, _, rows) in &seeded {
        for (code, values) in rows {
            if code == "5.1" {
                if let Some(a) = values.as_ref().and_then(|v| v["a"].as_u64()) {
                    max_a = max_a.max(a);
                }
            }
        }
    }
    let mut versions = vec![1i32; seeded.len()];
    let marker_key = format!(
        "{}ranking:2023:{FRAMEWORK}:self:version",
        backends.redis_prefix
    );
    let mut ordinary = Vec::new();
    let mut in_range = Vec::new();
    let mut moving = Vec::new();
    let mut scoring_stage = Vec::new();
    let plan: Vec<u8> = (0..changes)
        .map(|i| (i % 2) as u8)
        .chain(std::iter::repeat_n(2, range_changes))
        .collect();
    for kind in plan {
        let i = usize::try_from(rng.between(0, u64::try_from(seeded.len() - 1)?))?;
        let (unit, id, rows) = &mut seeded[i];
        rows.retain(|(code, _)| code != "2.1" && code != "5.1");
        rows.push(("2.1".into(), Some(json!({"yes": rng.chance(50)}))));
        match kind {
            0 => {}
            1 => rows.push(("5.1".into(), Some(json!({"a": rng.between(1, max_a - 1)})))),
            _ => {
                max_a += 1;
                rows.push(("5.1".into(), Some(json!({"a": max_a}))));
            }
        }
        versions[i] += 1;
        let before = self_version(&pool).await?;
        submit_version(&pool, &backends.nats_prefix, unit, *id, versions[i], rows).await?;
        let committed = Instant::now();
        let scored_pool = pool.clone();
        let scored = tokio::spawn(async move {
            while self_version(&scored_pool).await? <= before {
                tokio::time::sleep(Duration::from_millis(1)).await;
            }
            anyhow::Ok(committed.elapsed())
        });
        // The sets and their marker change in one MULTI: the marker's version is what the
        // next read answers with.
        loop {
            let marker: Option<u64> = redis::cmd("GET")
                .arg(&marker_key)
                .query_async(&mut conn)
                .await?;
            if marker.is_some_and(|version| version > before) {
                break;
            }
            if committed.elapsed() > Duration::from_secs(30) {
                anyhow::bail!("the change of {unit} did not reach the ranking");
            }
            tokio::time::sleep(Duration::from_micros(250)).await;
        }
        let elapsed = committed.elapsed();
        scoring_stage.push(scored.await??);
        let request = GetUnitPositionRequest {
            round: Some(common::RoundRef {
                year: 2023,
                framework: FRAMEWORK.into(),
            }),
            basis: dti_proto::dti::scoring::v1::Basis::SelfAssessed as i32,
            unit: Some(common::UnitRef {
                unit_id: unit.clone(),
            }),
            group_code: String::new(),
        };
        let position = client
            .get_unit_position(with_auth(request, &token))
            .await?
            .into_inner();
        assert!(position.cohort_version > before, "a reader sees the change");
        match kind {
            0 => ordinary.push(elapsed),
            1 => in_range.push(elapsed),
            _ => moving.push(elapsed),
        }
        // Let the verified basis settle so changes do not queue behind each other.
        tokio::time::sleep(Duration::from_millis(30)).await;
    }
    report(
        "(stage) change committed → its scores committed by the scoring service",
        &mut scoring_stage,
    );
    report("ordinary indicator change → ranking", &mut ordinary);
    report("min-max change inside the range → ranking", &mut in_range);
    let mut both: Vec<Duration> = ordinary.iter().chain(&in_range).copied().collect();
    report("ordinary and min-max changes together → ranking", &mut both);
    report(
        "min-max change moving the range (every unit re-scored) → ranking",
        &mut moving,
    );
    let floor = zadd_reference(&backends.redis_prefix, units).await?;
    println!(
        "reference: a plain ZADD pipeline updating 2 sets × {units} members (a range move's \
         writes: the total and one group of every unit): median {:.1} ms of 10",
        floor.as_secs_f64() * 1000.0
    );

    if let Some(addr) = scoring.metrics_addr {
        for line in dti_testkit::metrics::scrape(addr)
            .await?
            .lines()
            .filter(|line| {
                line.starts_with("dti_scoring_unit_rescore_seconds")
                    || line.starts_with("dti_ranking_sync_seconds")
            })
        {
            println!("  {line}");
        }
    }
    ranking.stop().await?;
    scoring.stop().await?;
    backends.close().await?;
    Ok(())
}
