//! Benchmark: the deadline rush settles in seconds. Against the real PostgreSQL, NATS JetStream
//! and Redis (a fresh database and prefixes), the submission, scoring and ranking services run
//! as they do in production; both 2023 rounds are opened for their registry cohorts (the 22
//! districts with Thủ Đức City, and the 26 departments: 48 units), and the units submit whole
//! assessments through gRPC at a sustained rate (default 200 submissions/s for 60 s), each a
//! different sample assessment, so every submission changes its unit's scores.
//!
//! It reports:
//! - the submissions acknowledged per second, and their p50/p99 latency;
//! - the most events the scoring service's submission consumer ever held (pending plus
//!   delivered and not yet acknowledged, read from JetStream every 100 ms), beside the events
//!   one coalesced cohort pass takes (`service.consumer_batch`);
//! - the time from the last acknowledged submission until the ranking service answers, for both
//!   rounds and both bases, exactly the ranking the engine gives on every unit's latest
//!   submission (scores to the cent and competition ranks);
//! - the physical reference measured in the same run: the engine scoring both final cohorts on
//!   both bases plus one plain pipeline of `ZADD`s writing those 10 sorted sets per basis to
//!   Redis; the settle time is given as a ratio to it.
//!
//! `cargo bench -p dti-tests --bench burst` (env `DTI_BENCH_RATE`, `DTI_BENCH_SECS`,
//! `DTI_BENCH_INFLIGHT` change the defaults 200, 60, 64).

mod support;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use dti_auth::Role;
use dti_domain::sample::{sample_cohort, SampleOptions};
use dti_domain::values::{decode_cohort, Cohort};
use dti_domain::{FrameworkCatalog, FrameworkId, RoundRef, UnitRegistry};
use dti_engine::{score_cohort, Explain};
use dti_proto::dti::scoring::v1::Basis;
use dti_proto::dti::submission::v1::SubmitAssessmentRequest;
use dti_testkit::{SubmissionApi, TestBackends};
use support::{
    engine_ranking, env_number, ms, percentile, round_ref, served_ranking, submit_all,
    submit_request,
};

/// Sample assessments per unit; submission `n` of a unit sends variant `n % VARIANTS`.
const VARIANTS: usize = 16;

/// Per unit (round, unit): the highest version acknowledged and the variant it carried.
type Acknowledged = HashMap<(usize, usize), (u32, usize)>;

/// One round's units and their sample assessments.
struct RoundPlan {
    round: RoundRef,
    /// `variants[v].units[u]` is unit `u`'s assessment of variant `v`.
    variants: Vec<Cohort>,
}

impl RoundPlan {
    fn new(
        catalog: &FrameworkCatalog,
        registry: &UnitRegistry,
        framework: &str,
    ) -> anyhow::Result<Self> {
        let round = RoundRef {
            year: 2023,
            framework: FrameworkId::parse(framework)?,
        };
        let ids: Vec<String> = registry
            .cohort(&round)
            .context("a 2023 cohort")?
            .units
            .iter()
            .map(ToString::to_string)
            .collect();
        let definition = catalog.get(&round.framework).context("framework")?;
        let variants = (0..VARIANTS)
            .map(|seed| {
                let options = SampleOptions {
                    units: ids.len(),
                    seed: 2023 + seed as u64,
                    unit_ids: ids.clone(),
                    missing_percent: 5,
                    not_applicable_percent: 0,
                    ..SampleOptions::default()
                };
                let text = sample_cohort(definition, &options).to_string();
                decode_cohort(&text, catalog)
                    .value
                    .context("a sample cohort is valid")
            })
            .collect::<anyhow::Result<Vec<_>>>()?;
        Ok(Self { round, variants })
    }

    fn units(&self) -> usize {
        self.variants[0].units.len()
    }

    fn request(&self, unit: usize, variant: usize, request_id: String) -> SubmitAssessmentRequest {
        submit_request(&self.round, &self.variants[variant].units[unit], request_id)
    }

    /// The cohort whose unit `u` submitted `latest[u]` last.
    fn latest(&self, latest: &[usize]) -> Cohort {
        Cohort {
            framework: Arc::clone(&self.variants[0].framework),
            units: latest
                .iter()
                .enumerate()
                .map(|(unit, &variant)| self.variants[variant].units[unit].clone())
                .collect(),
        }
    }
}

/// The most events `consumer` held (pending + delivered and not acknowledged), polled every
/// 100 ms until `stop` is set.
async fn watch_consumer(
    stream: async_nats::jetstream::stream::Stream,
    consumer: &'static str,
    stop: Arc<tokio::sync::Notify>,
) -> anyhow::Result<u64> {
    let mut most = 0;
    loop {
        if let Ok(info) = stream.consumer_info(consumer).await {
            let held = info.num_pending + u64::try_from(info.num_ack_pending)?;
            most = most.max(held);
        }
        tokio::select! {
            () = stop.notified() => return Ok(most),
            () = tokio::time::sleep(Duration::from_millis(100)) => {}
        }
    }
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let rate = env_number("DTI_BENCH_RATE", 200);
    let seconds = env_number("DTI_BENCH_SECS", 60);
    let inflight = env_number("DTI_BENCH_INFLIGHT", 64);
    let backends = TestBackends::create().await?;
    let catalog = FrameworkCatalog::builtin()?;
    let registry = UnitRegistry::builtin()?;
    let plans = Arc::new(vec![
        RoundPlan::new(&catalog, &registry, "hcm-2023-district")?,
        RoundPlan::new(&catalog, &registry, "hcm-2023-department")?,
    ]);

    let scoring_settings = dti_scoring::Settings::default();
    let batch = scoring_settings.consumer_batch;
    let submission =
        dti_submission::build(&backends.service_config(dti_submission::Settings::default()))
            .await?
            .spawn()?;
    let scoring = dti_scoring::build(&backends.service_config(scoring_settings))
        .await?
        .spawn()?;
    let ranking_service =
        dti_ranking::build(&backends.service_config(dti_ranking::Settings::default()))
            .await?
            .spawn()?;
    let api = SubmissionApi::new(&backends, submission.channel());
    for plan in plans.iter() {
        let round = round_ref(&plan.round);
        api.open_round(round, &[], Duration::from_secs(86_400))
            .await?;
    }

    // The slots of the burst: submission n goes to unit n mod 48, in rate order.
    let slots: Vec<(usize, usize)> = plans
        .iter()
        .enumerate()
        .flat_map(|(p, plan)| (0..plan.units()).map(move |u| (p, u)))
        .collect();
    let total = rate * seconds;
    let tokens: Vec<Vec<String>> = plans
        .iter()
        .map(|plan| {
            plan.variants[0]
                .units
                .iter()
                .map(|unit| backends.unit_token(unit.unit.as_str()))
                .collect()
        })
        .collect();

    let nats = async_nats::connect(dti_testkit::nats_url()).await?;
    let stream = async_nats::jetstream::new(nats)
        .get_stream(dti_testkit::events::stream_name(&backends.nats_prefix))
        .await?;
    let stop = Arc::new(tokio::sync::Notify::new());
    let scoring_watch = tokio::spawn(watch_consumer(
        stream.clone(),
        dti_scoring::ON_SUBMISSION_CONSUMER,
        Arc::clone(&stop),
    ));
    let ranking_watch = tokio::spawn(watch_consumer(
        stream,
        dti_ranking::ON_SCORES_CONSUMER,
        Arc::clone(&stop),
    ));

    let requests = (0..total).map(|n| {
        let (p, u) = slots[n % slots.len()];
        let variant = (n / slots.len()) % VARIANTS;
        let request = plans[p].request(u, variant, format!("burst-{n}"));
        (request, tokens[p][u].clone())
    });
    let (started, acks) =
        submit_all(submission.channel(), requests, Some(rate as f64), inflight).await?;
    // Per unit, the variant of the highest version acknowledged.
    let mut acknowledged: Acknowledged = HashMap::new();
    for (n, ack) in acks.iter().enumerate() {
        let entry = acknowledged.entry(slots[n % slots.len()]).or_insert((0, 0));
        if ack.version > entry.0 {
            *entry = (ack.version, (n / slots.len()) % VARIANTS);
        }
    }
    let last_ack = acks.iter().map(|ack| ack.at).max().unwrap_or(started);
    let mut latencies: Vec<Duration> = acks.iter().map(|ack| ack.latency).collect();
    let burst = last_ack - started;

    let latest: Vec<Vec<usize>> = plans
        .iter()
        .enumerate()
        .map(|(p, plan)| {
            (0..plan.units())
                .map(|u| acknowledged.get(&(p, u)).map_or(0, |&(_, variant)| variant))
                .collect()
        })
        .collect();
    let final_cohorts: Vec<(RoundRef, Cohort)> = plans
        .iter()
        .zip(&latest)
        .map(|(plan, latest)| (plan.round.clone(), plan.latest(latest)))
        .collect();
    let expected: Vec<HashMap<String, (i64, u32)>> = final_cohorts
        .iter()
        .map(|(_, cohort)| {
            score_cohort(cohort, Explain::ScoresOnly).map(|scores| engine_ranking(&scores))
        })
        .collect::<Result<_, _>>()?;
    let verifier = backends.token(Role::Verifier);
    let ranking_channel = ranking_service.channel();
    let settled = loop {
        let mut equal = true;
        'rounds: for (plan, expected) in plans.iter().zip(&expected) {
            for basis in [Basis::SelfAssessed, Basis::Verified] {
                let served =
                    served_ranking(ranking_channel.clone(), &verifier, &plan.round, basis).await?;
                if &served != expected {
                    equal = false;
                    break 'rounds;
                }
            }
        }
        if equal {
            break Some(last_ack.elapsed());
        }
        if last_ack.elapsed() > Duration::from_secs(180) {
            break None;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    stop.notify_waiters();
    let most_scoring = scoring_watch.await??;
    let most_ranking = ranking_watch.await??;

    let reference = support::reference(&final_cohorts, &backends.redis_prefix).await?;

    latencies.sort();
    println!(
        "burst: {total} whole assessments of {} units in {:.1} s = {:.1} acknowledged submissions/s (asked {rate}/s for {seconds} s, at most {inflight} in flight)",
        slots.len(),
        burst.as_secs_f64(),
        total as f64 / burst.as_secs_f64(),
    );
    println!(
        "  submit latency p50 {:.1} ms, p99 {:.1} ms",
        ms(percentile(&latencies, 0.50)),
        ms(percentile(&latencies, 0.99)),
    );
    println!(
        "  scoring's submission consumer held at most {most_scoring} events (one coalesced pass takes up to {batch}); ranking's score consumer at most {most_ranking}"
    );
    println!(
        "  reference: the engine on both final cohorts and bases + one ZADD pipeline of their sets: {:.1} ms (median of 5)",
        ms(reference)
    );
    match settled {
        Some(settled) => println!(
            "  last acknowledged submission → every ranking equals the engine on the latest inputs: {:.0} ms = {:.1}× the reference (goal ≤ 2 s)",
            ms(settled),
            settled.as_secs_f64() / reference.as_secs_f64()
        ),
        None => println!("  the rankings did not equal the engine within 180 s of the last submission"),
    }

    ranking_service.stop().await?;
    scoring.stop().await?;
    submission.stop().await?;
    backends.close().await?;
    anyhow::ensure!(settled.is_some(), "the burst did not settle");
    Ok(())
}
