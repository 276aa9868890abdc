//! Submission throughput against the real PostgreSQL and NATS, in one run:
//!
//! 1. 10,000 distinct units each submit all 51 district indicators concurrently through gRPC
//!    with `SubmitAssessment` (one call, one transaction: draft replaced by the 51 values,
//!    the version and its 51 value rows, two audit entries, the outbox event);
//! 2. for comparison, 2,000 more units use the interactive flow (CreateDraft, SetValues with 51
//!    indicators, Submit: three calls, three transactions);
//! 3. `pgbench` on the same database server, 8 clients, one transaction inserting 51 rows;
//!
//! and prints submissions/s, p50/p99 latency and the ratio of (1) to pgbench's tps, and for
//! (1) and (3) the CPU time the whole machine spent per transaction (`/proc/stat`), with the
//! bench process's own part (the service and its gRPC clients, `/proc/self/stat`): where a
//! submission's cost lies beside a bare insert's.
//!
//! `cargo bench -p dti-submission --bench submit_throughput` (env `DTI_BENCH_UNITS`,
//! `DTI_BENCH_FLOW_UNITS`, `DTI_BENCH_CONCURRENCY`, `DTI_BENCH_PGBENCH_SECS` change the
//! defaults 10000, 2000, 32, 15).

use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use dti_domain::round::RoundAction;
use dti_domain::sample::{sample_cohort, SampleOptions};
use dti_domain::values::decode_cohort;
use dti_domain::FrameworkCatalog;
use dti_domain::UnitId;
use dti_proto::convert::indicator_to_proto;
use dti_proto::dti::common::v1::{IndicatorValue, RoundRef, UnitRef};
use dti_proto::dti::submission::v1::submission_service_client::SubmissionServiceClient;
use dti_proto::dti::submission::v1::{
    CreateDraftRequest, SetValuesRequest, SubmitAssessmentRequest, SubmitRequest,
};
use dti_submission::Settings;
use dti_testkit::{with_auth, TestBackends};
use dti_workflow::rounds;
use tokio::sync::Semaphore;
use tonic::transport::Channel;

fn env_or(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn round() -> RoundRef {
    RoundRef {
        year: 2023,
        framework: "hcm-2023-district".into(),
    }
}

/// Every unit's 51 indicators as protobuf.
fn cohort(units: usize) -> anyhow::Result<Vec<(String, Vec<IndicatorValue>)>> {
    let catalog = FrameworkCatalog::builtin()?;
    let framework = catalog.get_str("hcm-2023-district").context("framework")?;
    let options = SampleOptions {
        units,
        seed: 79,
        unit_prefix: "bench-unit-".into(),
        missing_percent: 0,
        not_applicable_percent: 0,
        ..SampleOptions::default()
    };
    let text = sample_cohort(framework, &options).to_string();
    let decoded = decode_cohort(&text, &catalog)
        .value
        .context("sample cohort is valid")?;
    Ok(decoded
        .units
        .iter()
        .map(|unit| {
            let values = unit
                .values
                .iter()
                .map(|(code, values)| indicator_to_proto(code.as_str(), values))
                .collect();
            (unit.unit.to_string(), values)
        })
        .collect())
}

/// Creates the 2023 district round with the synthetic `cohort` and opens it for a day, as
/// `OpenRound` would. The synthetic units are not in the unit registry, which `OpenRound` checks
/// a listed cohort against, so the round is opened through the workflow directly (the same
/// rows, audit entries and `round.state_changed.v1` event).
async fn open_synthetic_round(
    backends: &TestBackends,
    nats_prefix: &str,
    cohort: &[(String, Vec<IndicatorValue>)],
) -> anyhow::Result<()> {
    let round = dti_domain::RoundRef {
        year: 2023,
        framework: "hcm-2023-district".parse()?,
    };
    let units = cohort
        .iter()
        .map(|(unit, _)| UnitId::parse(unit.clone()))
        .collect::<Result<Vec<_>, _>>()?;
    let operator = dti_testkit::tokens::city(dti_auth::Role::Operator);
    let deadline = chrono::Utc::now() + chrono::Duration::days(1);
    let mut tx = backends.db.pool().begin().await?;
    let catalog = dti_domain::FrameworkCatalog::builtin()?;
    let framework = catalog
        .get(&round.framework)
        .ok_or_else(|| anyhow::anyhow!("no framework {}", round.framework))?;
    let hash = dti_domain::framework::content_hash(framework);
    rounds::create_draft(&mut tx, &round, &hash, &units, &operator).await?;
    rounds::transition(
        &mut tx,
        nats_prefix,
        &round,
        RoundAction::Open,
        Some(deadline),
        &operator,
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// One unit's whole assessment in one call; returns its latency.
async fn submit_assessment(
    channel: Channel,
    bearer: String,
    unit: String,
    values: Vec<IndicatorValue>,
) -> anyhow::Result<Duration> {
    let started = Instant::now();
    anyhow::ensure!(values.len() == 51, "{unit} has {} indicators", values.len());
    let request = SubmitAssessmentRequest {
        round: Some(round()),
        unit: Some(UnitRef {
            unit_id: unit.clone(),
        }),
        values,
        not_applicable: Vec::new(),
        client_request_id: format!("bench-{unit}"),
        ..Default::default()
    };
    let version = SubmissionServiceClient::new(channel)
        .submit_assessment(with_auth(request, &bearer))
        .await?
        .into_inner()
        .version;
    anyhow::ensure!(version == 1, "{unit} got version {version}");
    Ok(started.elapsed())
}

/// One unit's interactive flow (three calls); returns (whole latency, submit-call latency).
async fn submit_unit(
    channel: Channel,
    bearer: String,
    unit: String,
    values: Vec<IndicatorValue>,
) -> anyhow::Result<(Duration, Duration)> {
    let started = Instant::now();
    let mut client = SubmissionServiceClient::new(channel);
    let draft = CreateDraftRequest {
        round: Some(round()),
        unit: Some(UnitRef {
            unit_id: unit.clone(),
        }),
    };
    let id = client
        .create_draft(with_auth(draft, &bearer))
        .await?
        .into_inner()
        .submission_id;
    anyhow::ensure!(values.len() == 51, "{unit} has {} indicators", values.len());
    let set = SetValuesRequest {
        submission_id: id.clone(),
        values,
        ..Default::default()
    };
    client.set_values(with_auth(set, &bearer)).await?;
    let submit_started = Instant::now();
    let submit = SubmitRequest {
        submission_id: id,
        client_request_id: format!("bench-{unit}"),
    };
    let version = client
        .submit(with_auth(submit, &bearer))
        .await?
        .into_inner()
        .version;
    anyhow::ensure!(version == 1, "{unit} got version {version}");
    Ok((started.elapsed(), submit_started.elapsed()))
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let index = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[index.min(sorted.len() - 1)]
}

/// `pgbench` on the same server: 8 clients, one transaction inserting 51 rows; returns tps.
fn pgbench_tps(database: &str, seconds: usize) -> anyhow::Result<f64> {
    let script = tempfile::NamedTempFile::new()?;
    std::fs::write(
        script.path(),
        "\\set unit random(1, 1000000000)\n\
         BEGIN;\n\
         INSERT INTO bench_values (unit, indicator_code, variables) \
         SELECT :unit, g::text, '{\"a\": 7, \"b\": 34}'::jsonb FROM generate_series(1, 51) AS g;\n\
         END;\n",
    )?;
    let host = std::env::var("PGHOST").unwrap_or_else(|_| "127.0.0.1".into());
    let output = Command::new("pgbench")
        .args([
            "-h", &host, "-U", "postgres", "-n", "-c", "8", "-j", "2", "-T",
        ])
        .arg(seconds.to_string())
        .arg("-f")
        .arg(script.path())
        .arg(database)
        .output()
        .context("running pgbench (install postgresql-contrib)")?;
    let stdout = String::from_utf8_lossy(&output.stdout);
    anyhow::ensure!(
        output.status.success(),
        "pgbench failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    stdout
        .lines()
        .find_map(|line| {
            let rest = line.strip_prefix("tps = ")?;
            rest.split_whitespace().next()?.parse().ok()
        })
        .with_context(|| format!("no tps in pgbench output:\n{stdout}"))
}

/// Runs `work` for every unit, `concurrency` at a time; returns each result and the wall time.
async fn run_all<T, F, Fut>(
    cohort: Vec<(String, Vec<IndicatorValue>)>,
    concurrency: usize,
    work: F,
) -> anyhow::Result<(Vec<T>, Duration)>
where
    T: Send + 'static,
    F: Fn(String, Vec<IndicatorValue>) -> Fut,
    Fut: std::future::Future<Output = anyhow::Result<T>> + Send + 'static,
{
    let gate = Arc::new(Semaphore::new(concurrency));
    let started = Instant::now();
    let mut tasks = Vec::with_capacity(cohort.len());
    for (unit, values) in cohort {
        let permit = Arc::clone(&gate).acquire_owned().await?;
        let running = work(unit, values);
        tasks.push(tokio::spawn(async move {
            let result = running.await;
            drop(permit);
            result
        }));
    }
    let mut results = Vec::with_capacity(tasks.len());
    for task in tasks {
        results.push(task.await??);
    }
    Ok((results, started.elapsed()))
}

/// CPU time spent so far, in clock ticks: the whole machine's busy time (`/proc/stat`) and this
/// process's (`/proc/self/stat`). Linux only; zero elsewhere.
#[derive(Debug, Clone, Copy, Default)]
struct CpuTicks {
    machine: u64,
    this_process: u64,
}

impl CpuTicks {
    fn now() -> Self {
        let machine = std::fs::read_to_string("/proc/stat")
            .ok()
            .and_then(|text| {
                let fields: Vec<u64> = text
                    .lines()
                    .next()?
                    .split_whitespace()
                    .skip(1)
                    .filter_map(|f| f.parse().ok())
                    .collect();
                // user nice system idle iowait irq softirq steal: busy is all but idle and iowait.
                Some(fields.iter().take(8).sum::<u64>() - fields.get(3)? - fields.get(4)?)
            })
            .unwrap_or(0);
        let this_process = std::fs::read_to_string("/proc/self/stat")
            .ok()
            .and_then(|text| {
                // Fields after the command's closing parenthesis; utime and stime are 14 and 15.
                let rest = text.rsplit_once(')')?.1;
                let fields: Vec<&str> = rest.split_whitespace().collect();
                Some(fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?)
            })
            .unwrap_or(0);
        Self {
            machine,
            this_process,
        }
    }

    /// Milliseconds of CPU per transaction since `start`, for the machine and this process.
    fn per_transaction_since(self, start: CpuTicks, transactions: f64) -> (f64, f64) {
        // Linux reports both files in USER_HZ, 100 ticks a second on every common build.
        let ms_per_tick = 10.0;
        let per = |ticks: u64| ticks as f64 * ms_per_tick / transactions.max(1.0);
        (
            per(self.machine.saturating_sub(start.machine)),
            per(self.this_process.saturating_sub(start.this_process)),
        )
    }
}

fn ms(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1e3
}

#[tokio::main(flavor = "multi_thread")]
async fn main() -> anyhow::Result<()> {
    let units = env_or("DTI_BENCH_UNITS", 10_000);
    let flow_units = env_or("DTI_BENCH_FLOW_UNITS", 2_000);
    let concurrency = env_or("DTI_BENCH_CONCURRENCY", 32);
    let pgbench_secs = env_or("DTI_BENCH_PGBENCH_SECS", 15);
    let backends = TestBackends::create().await?;
    let mut config = backends.service_config(Settings::default());
    config.database.max_connections = 16;
    let service = dti_submission::build(&config).await?.spawn()?;
    let channel = service.channel();

    let mut cohort = cohort(units + flow_units)?;
    open_synthetic_round(&backends, &config.nats.prefix, &cohort).await?;
    let flow_cohort = cohort.split_off(units);
    let tokens: std::collections::HashMap<String, String> = cohort
        .iter()
        .chain(&flow_cohort)
        .map(|(unit, _)| (unit.clone(), backends.unit_token(unit)))
        .collect();
    let tokens = Arc::new(tokens);

    println!("SubmitAssessment: {units} units × 51 indicators, {concurrency} at a time");
    let cpu_before = CpuTicks::now();
    let (mut one_call, elapsed) = run_all(cohort, concurrency, |unit, values| {
        let (channel, bearer) = (channel.clone(), tokens[&unit].clone());
        submit_assessment(channel, bearer, unit, values)
    })
    .await?;
    one_call.sort();
    let per_second = units as f64 / elapsed.as_secs_f64();
    let (submit_cpu, submit_cpu_here) =
        CpuTicks::now().per_transaction_since(cpu_before, units as f64);

    println!("interactive flow: {flow_units} units × 51 indicators, {concurrency} at a time");
    let (flow, flow_elapsed) = run_all(flow_cohort, concurrency, |unit, values| {
        let (channel, bearer) = (channel.clone(), tokens[&unit].clone());
        submit_unit(channel, bearer, unit, values)
    })
    .await?;
    let mut whole: Vec<Duration> = flow.iter().map(|(w, _)| *w).collect();
    let mut submit_only: Vec<Duration> = flow.iter().map(|(_, s)| *s).collect();
    whole.sort();
    submit_only.sort();
    let flow_per_second = flow_units as f64 / flow_elapsed.as_secs_f64();

    let versions: i64 = sqlx::query_scalar("SELECT count(*) FROM submission_versions")
        .fetch_one(backends.db.pool())
        .await?;
    anyhow::ensure!(
        versions == (units + flow_units) as i64,
        "{versions} versions for {} units",
        units + flow_units
    );
    service.stop().await?;

    sqlx::query("CREATE TABLE bench_values (unit BIGINT, indicator_code TEXT, variables JSONB)")
        .execute(backends.db.pool())
        .await?;
    let database = backends.db.name().to_owned();
    let cpu_before = CpuTicks::now();
    let tps = tokio::task::spawn_blocking(move || pgbench_tps(&database, pgbench_secs)).await??;
    let (pgbench_cpu, _) =
        CpuTicks::now().per_transaction_since(cpu_before, tps * pgbench_secs as f64);

    println!(
        "SubmitAssessment:       {units} units in {:.2} s = {per_second:.1} submissions/s",
        elapsed.as_secs_f64()
    );
    println!(
        "  latency:              p50 {:.1} ms, p99 {:.1} ms",
        ms(percentile(&one_call, 0.50)),
        ms(percentile(&one_call, 0.99))
    );
    println!(
        "interactive (3 calls):  {flow_units} units in {:.2} s = {flow_per_second:.1} submissions/s",
        flow_elapsed.as_secs_f64()
    );
    println!(
        "  per unit:             p50 {:.1} ms, p99 {:.1} ms; Submit call alone p50 {:.1} ms, p99 {:.1} ms",
        ms(percentile(&whole, 0.50)),
        ms(percentile(&whole, 0.99)),
        ms(percentile(&submit_only, 0.50)),
        ms(percentile(&submit_only, 0.99))
    );
    println!("pgbench (8 clients, one transaction inserting 51 rows): {tps:.1} tps");
    println!(
        "CPU per transaction, whole machine: SubmitAssessment {submit_cpu:.2} ms \
         (this process, the service and its clients: {submit_cpu_here:.2} ms); \
         pgbench {pgbench_cpu:.2} ms"
    );
    println!(
        "ratio SubmitAssessment/s ÷ pgbench tps: {:.2} (goal ≥ 1.0); interactive flow: {:.2}",
        per_second / tps,
        flow_per_second / tps
    );
    backends.close().await?;
    Ok(())
}
