//! Benchmark: a whole cohort submitting at once, end to end, at growing sizes. For each size
//! (default 1,000, 3,000 and 10,000 units) on a fresh database and prefixes:
//! 1. the submission, scoring and ranking services start as separate processes (the release
//!    binaries), as in production;
//! 2. an operator imports a registry (`ImportRegistry`) of the city's units plus that many
//!    generated district-kind units (`bench-00001`, …; not the city's registry) and opens a 2024
//!    round of `hcm-2023-district` for exactly those units;
//! 3. every unit submits one whole sample assessment through gRPC (64 in flight);
//! 4. the clock stops when the ranking service answers, on both bases, exactly the ranking the
//!    engine gives on those assessments (scores to the cent and competition ranks).
//!
//! It prints, per size: the submissions acknowledged per second; the time from the first
//! submission until every unit is scored and ranked, and from the last acknowledgement; each
//! service's peak resident memory (`VmHWM`); and the physical reference measured in the same
//! run: the engine scoring the cohort on both bases plus one plain `ZADD` pipeline of its
//! sorted sets. Then how time and memory grow per unit from the smallest size to the largest.
//!
//! `cargo build --release -p dti-submission -p dti-scoring -p dti-ranking && cargo bench -p
//! dti-tests --bench scale` (env `DTI_BENCH_SIZES`, comma-separated, and `DTI_BENCH_INFLIGHT`).

mod support;

use std::collections::HashMap;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use dti_auth::Role;
use dti_domain::sample::{sample_cohort, SampleOptions};
use dti_domain::values::{decode_cohort, Cohort};
use dti_domain::{FrameworkCatalog, FrameworkId, RoundRef, UnitRegistry};
use dti_engine::{score_cohort, Explain};
use dti_proto::dti::scoring::v1::Basis;
use dti_proto::dti::submission::v1::registry_service_client::RegistryServiceClient;
use dti_proto::dti::submission::v1::{ImportRegistryRequest, SubmitAssessmentRequest};
use dti_testkit::{with_auth, SubmissionApi, TestBackends};
use support::{
    engine_ranking, env_number, ms, percentile, round_ref, served_ranking, submit_all,
    submit_request,
};
use tokio::process::Child;
use tonic::transport::Channel;

const FRAMEWORK: &str = "hcm-2023-district";
const YEAR: u16 = 2024;

/// One service process of the bench.
struct Process {
    name: &'static str,
    child: Child,
    grpc_port: u16,
}

impl Process {
    /// Starts `binary` on the bench's backends, its settings in `<env_prefix>*` variables.
    fn start(
        name: &'static str,
        env_prefix: &str,
        backends: &TestBackends,
        binaries: &std::path::Path,
    ) -> anyhow::Result<Self> {
        let binary = binaries.join(format!("dti-{name}"));
        if !binary.is_file() {
            bail!(
                "{} is missing: cargo build --release -p dti-submission -p dti-scoring -p dti-ranking first",
                binary.display()
            );
        }
        let grpc_port = dti_tests::free_port()?;
        let metrics_port = dti_tests::free_port()?;
        let child = backends
            .service_process(
                &binary,
                env_prefix,
                &format!("127.0.0.1:{grpc_port}"),
                metrics_port,
            )
            .spawn()
            .with_context(|| format!("starting {}", binary.display()))?;
        Ok(Self {
            name,
            child,
            grpc_port,
        })
    }

    /// A channel to its gRPC port, once it answers (at most 60 s).
    async fn channel(&self) -> anyhow::Result<Channel> {
        let url = format!("http://127.0.0.1:{}", self.grpc_port);
        let started = Instant::now();
        loop {
            match Channel::from_shared(url.clone())?.connect().await {
                Ok(channel) => return Ok(channel),
                Err(error) if started.elapsed() > Duration::from_secs(60) => {
                    bail!("{} did not answer on {url}: {error}", self.name)
                }
                Err(_) => tokio::time::sleep(Duration::from_millis(100)).await,
            }
        }
    }

    /// Its peak resident memory so far, in MiB (`VmHWM` of `/proc/<pid>/status`).
    fn peak_mib(&self) -> anyhow::Result<f64> {
        let pid = self.child.id().context("the process has exited")?;
        let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
        let kib: f64 = status
            .lines()
            .find_map(|line| line.strip_prefix("VmHWM:"))
            .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
            .context("VmHWM")?;
        Ok(kib / 1024.0)
    }
}

/// The city's registry plus `units` generated district-kind units; their ids.
fn bench_registry(units: usize) -> anyhow::Result<(String, Vec<String>)> {
    let mut document = UnitRegistry::builtin()?.to_toml();
    let ids: Vec<String> = (1..=units).map(|n| format!("bench-{n:05}")).collect();
    for id in &ids {
        document.push_str(&format!(
            "\n[[units]]\nid = \"{id}\"\nname = \"Đơn vị thử tải {id}\"\nkind = \"district\"\n"
        ));
    }
    UnitRegistry::parse("the bench registry", &document).context("the bench registry")?;
    Ok((document, ids))
}

/// One size's figures.
struct Figures {
    units: usize,
    submit_rate: f64,
    submit_p50: Duration,
    submit_p99: Duration,
    ranked_after_first: Duration,
    ranked_after_last_ack: Duration,
    reference: Duration,
    peaks: Vec<(&'static str, f64)>,
}

async fn run(units: usize, inflight: usize, binaries: &std::path::Path) -> anyhow::Result<Figures> {
    let backends = TestBackends::create().await?;
    let catalog = FrameworkCatalog::builtin()?;
    let round = RoundRef {
        year: YEAR,
        framework: FrameworkId::parse(FRAMEWORK)?,
    };
    let (document, ids) = bench_registry(units)?;
    let definition = catalog.get(&round.framework).context("framework")?;
    let options = SampleOptions {
        units,
        seed: 2024,
        unit_ids: ids.clone(),
        missing_percent: 5,
        not_applicable_percent: 0,
        ..SampleOptions::default()
    };
    let cohort: Cohort = decode_cohort(&sample_cohort(definition, &options).to_string(), &catalog)
        .value
        .context("a sample cohort is valid")?;

    let submission = Process::start("submission", "DTI_SUBMISSION_", &backends, binaries)?;
    let submission_channel = submission.channel().await?;
    let operator = backends.token(Role::Operator);
    RegistryServiceClient::new(submission_channel.clone())
        .import_registry(with_auth(
            ImportRegistryRequest {
                document_toml: document,
                expected_revision: None,
                reason: format!("scale bench: {units} generated units"),
            },
            &operator,
        ))
        .await?;
    let scoring = Process::start("scoring", "DTI_SCORING_", &backends, binaries)?;
    let ranking = Process::start("ranking", "DTI_RANKING_", &backends, binaries)?;
    scoring.channel().await?;
    let ranking_channel = ranking.channel().await?;
    let id_refs: Vec<&str> = ids.iter().map(String::as_str).collect();
    SubmissionApi::new(&backends, submission_channel.clone())
        .open_round(round_ref(&round), &id_refs, Duration::from_secs(86_400))
        .await?;

    let requests: Vec<(SubmitAssessmentRequest, String)> = cohort
        .units
        .iter()
        .map(|values| {
            let request = submit_request(&round, values, format!("scale-{}", values.unit));
            (request, backends.unit_token(values.unit.as_str()))
        })
        .collect();
    let expected: HashMap<String, (i64, u32)> =
        engine_ranking(&score_cohort(&cohort, Explain::ScoresOnly)?);

    let (started, acks) = submit_all(submission_channel.clone(), requests, None, inflight).await?;
    anyhow::ensure!(
        acks.iter().all(|ack| ack.version == 1),
        "every unit's one submission is its version 1"
    );
    let last_ack = acks.iter().map(|ack| ack.at).max().unwrap_or(started);
    let mut latencies: Vec<Duration> = acks.iter().map(|ack| ack.latency).collect();
    let submitting = last_ack - started;

    let verifier = backends.token(Role::Verifier);
    let ranked = loop {
        let mut equal = true;
        for basis in [Basis::SelfAssessed, Basis::Verified] {
            let served = served_ranking(ranking_channel.clone(), &verifier, &round, basis).await?;
            if served != expected {
                equal = false;
                break;
            }
        }
        if equal {
            break Instant::now();
        }
        if last_ack.elapsed() > Duration::from_secs(900) {
            bail!("{units} units: the rankings did not equal the engine within 900 s");
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    let peaks = [&submission, &scoring, &ranking]
        .iter()
        .map(|process| Ok((process.name, process.peak_mib()?)))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let reference = support::reference(&[(round, cohort)], &backends.redis_prefix).await?;

    for mut process in [submission, scoring, ranking] {
        process.child.kill().await?;
    }
    backends.close().await?;
    latencies.sort();
    Ok(Figures {
        units,
        submit_rate: units as f64 / submitting.as_secs_f64(),
        submit_p50: percentile(&latencies, 0.50),
        submit_p99: percentile(&latencies, 0.99),
        ranked_after_first: ranked - started,
        ranked_after_last_ack: ranked - last_ack,
        reference,
        peaks,
    })
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let sizes: Vec<usize> = std::env::var("DTI_BENCH_SIZES")
        .unwrap_or_else(|_| "1000,3000,10000".into())
        .split(',')
        .map(|size| {
            size.trim()
                .parse()
                .context("DTI_BENCH_SIZES: whole numbers")
        })
        .collect::<anyhow::Result<_>>()?;
    let inflight = env_number("DTI_BENCH_INFLIGHT", 64);
    let binaries: PathBuf = dti_tests::binaries_dir()?;
    let mut all = Vec::new();
    for units in sizes {
        let figures = run(units, inflight, &binaries).await?;
        println!(
            "scale: {} units, each one whole assessment ({inflight} in flight): {:.1} submissions/s acknowledged (p50 {:.1} ms, p99 {:.1} ms)",
            figures.units,
            figures.submit_rate,
            ms(figures.submit_p50),
            ms(figures.submit_p99),
        );
        println!(
            "  first submission → every unit scored and ranked on both bases, equal to the engine: {:.2} s ({:.2} s after the last acknowledgement); reference (engine on both bases + one ZADD pipeline): {:.1} ms, ratio {:.0}×",
            figures.ranked_after_first.as_secs_f64(),
            figures.ranked_after_last_ack.as_secs_f64(),
            ms(figures.reference),
            figures.ranked_after_first.as_secs_f64() / figures.reference.as_secs_f64(),
        );
        let peaks: Vec<String> = figures
            .peaks
            .iter()
            .map(|(name, mib)| format!("{name} {mib:.0} MiB"))
            .collect();
        println!("  peak resident memory: {}", peaks.join(", "));
        all.push(figures);
    }
    if let (Some(first), Some(last)) = (all.first(), all.last()) {
        if last.units > first.units {
            let per_unit = |f: &Figures| f.ranked_after_first.as_secs_f64() * 1e3 / f.units as f64;
            println!(
                "growth {} → {} units ({:.1}× the units): time {:.1}× ({:.2} → {:.2} ms per unit; linear keeps it equal)",
                first.units,
                last.units,
                last.units as f64 / first.units as f64,
                last.ranked_after_first.as_secs_f64() / first.ranked_after_first.as_secs_f64(),
                per_unit(first),
                per_unit(last),
            );
            for ((name, small), (_, large)) in first.peaks.iter().zip(&last.peaks) {
                println!(
                    "  {name}: peak memory {small:.0} → {large:.0} MiB ({:.2}×)",
                    large / small
                );
            }
        }
    }
    Ok(())
}
