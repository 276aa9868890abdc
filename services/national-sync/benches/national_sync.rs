//! Benchmark of national sync on the real stack (PostgreSQL of `DTI_TEST_DATABASE_URL`, the
//! reference receiver in-process on loopback): a whole year's owner submissions (every owner,
//! all 121 items), the dry run of a complete year, and pushing a whole year with 4 workers.
//! Prints medians and the process's peak RSS; the numbers are recorded in
//! `docs/national-sync.md`.
//!
//! `cargo bench -p dti-national-sync --bench national_sync`

use std::sync::Arc;
use std::time::{Duration, Instant};

use dti_auth::{Principal, Role};
use dti_domain::framework::VariableType;
use dti_national_receiver::{Receiver, ReceiverSettings};
use dti_national_sync::dispatch::{Dispatcher, RetryPolicy};
use dti_national_sync::events::EventSubjects;
use dti_national_sync::national_api::{HttpNationalApi, HttpSettings};
use dti_national_sync::national_set::{ItemShape, NationalSet};
use dti_national_sync::owner_values::{self, RequestedPart, RequestedValue};
use dti_national_sync::sync_runs::{self, SyncContext, Trigger};
use dti_national_sync::{plan, snapshot};
use serde_json::{json, Value};
use tokio_util::sync::CancellationToken;

const YEARS: u32 = 5;
const FIRST_YEAR: u32 = 2024;
const PLAN_RUNS: usize = 50;
const WORKERS: usize = 4;

fn sample(ty: &VariableType, year: u32) -> Value {
    match ty {
        VariableType::Count | VariableType::Money => json!(1000 + year),
        VariableType::Bool => json!(true),
        VariableType::Choice { choices } => json!(choices[0]),
        VariableType::Decimal => json!("12.5"),
        VariableType::Text => json!("text"),
        VariableType::Activities => json!([]),
    }
}

fn requests(set: &NationalSet, department: &str, year: u32) -> Vec<RequestedPart> {
    set.items()
        .iter()
        .filter(|item| item.owners.iter().any(|o| o.as_str() == department))
        .map(|item| {
            let value = match &item.shape {
                ItemShape::Indicator(_) => RequestedValue::Variables(
                    set.indicator(item)
                        .map(|indicator| {
                            indicator
                                .variables
                                .iter()
                                .map(|v| (v.name.to_string(), sample(&v.ty, year)))
                                .collect()
                        })
                        .unwrap_or_default(),
                ),
                ItemShape::GeneralInfo(ty) => RequestedValue::Field(sample(ty, year)),
            };
            RequestedPart {
                item: item.key.clone(),
                field: item.key.code.clone(),
                value,
                evidence: vec![],
            }
        })
        .collect()
}

fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}

fn peak_rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let db = dti_testkit::TestDatabase::create().await?;
    let pool = db.pool().clone();
    let set = Arc::new(NationalSet::builtin("mic-2022-province")?);
    let subjects = EventSubjects::new("bench");
    let operator = Principal::city("bench-operator", Role::Operator);

    let mut submissions = Vec::new();
    for year in FIRST_YEAR..FIRST_YEAR + YEARS {
        let started = Instant::now();
        for owner in set.owners() {
            let actor = Principal::data_owner(format!("bench-{owner}"), owner.to_string());
            let parts = requests(&set, owner.as_str(), year);
            owner_values::submit(&pool, &set, &subjects, &actor, owner, year, parts).await?;
        }
        submissions.push(started.elapsed());
    }

    let year = set.year(FIRST_YEAR).map_err(anyhow::Error::msg)?;
    let mut plans = Vec::new();
    for _ in 0..PLAN_RUNS {
        let started = Instant::now();
        let state = snapshot::load(&pool, &set, year).await?;
        let planned = plan::plan(&set, &state, year, "79");
        assert_eq!(planned.to_push().count(), set.items().len());
        plans.push(started.elapsed());
    }

    let receiver =
        Receiver::bind("127.0.0.1:0".parse()?, None, ReceiverSettings::default()).await?;
    let url = receiver.base_url()?;
    let stop_receiver = CancellationToken::new();
    let serving = tokio::spawn(receiver.serve(stop_receiver.clone().cancelled_owned()));
    let api = Arc::new(HttpNationalApi::new(&HttpSettings {
        endpoint: url,
        ca_file: None,
        api_token: None,
        request_timeout: Duration::from_secs(10),
        connect_timeout: Duration::from_secs(5),
    })?);
    let policy = RetryPolicy {
        min_delay: Duration::from_millis(50),
        max_delay: Duration::from_millis(500),
        max_retries: 3,
        requeue_delay: Duration::from_secs(1),
        max_requeue_delay: Duration::from_secs(10),
        lease: Duration::from_secs(30),
    };
    let mut pushes = Vec::new();
    for year in FIRST_YEAR..FIRST_YEAR + YEARS {
        let year = set.year(year).map_err(anyhow::Error::msg)?;
        let context = SyncContext {
            set: &set,
            subjects: &subjects,
            province: "79",
        };
        let started = Instant::now();
        let run =
            sync_runs::start(&pool, context, &operator, year, Trigger::Operator, None).await?;
        assert_eq!(usize::try_from(run.items)?, set.items().len());
        let dispatcher = Dispatcher::new(
            pool.clone(),
            set.clone(),
            subjects.clone(),
            api.clone(),
            policy,
            Duration::from_millis(20),
        );
        let shutdown = CancellationToken::new();
        let workers = tokio::spawn(dispatcher.run(WORKERS, shutdown.clone()));
        loop {
            let pending: i64 = sqlx::query_scalar(
                "SELECT count(*) FROM national_push_jobs WHERE state = 'pending'",
            )
            .fetch_one(&pool)
            .await?;
            if pending == 0 {
                break;
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        pushes.push(started.elapsed());
        shutdown.cancel();
        workers.await??;
    }
    stop_receiver.cancel();
    serving.await??;

    let items = set.items().len();
    let submission = median(submissions);
    let dry_run = median(plans);
    let push = median(pushes);
    println!("national_sync bench ({items} items per year, {YEARS} years, {WORKERS} push workers)");
    let owners = set.owners().len();
    println!(
        "  owner submissions of a whole year ({owners} owners, all items): median {submission:.1?}"
    );
    println!("  dry run of a complete year ({PLAN_RUNS} runs): median {dry_run:.1?}");
    println!(
        "  push of a whole year to the loopback receiver: median {push:.1?} ({:.0} items/s)",
        items as f64 / push.as_secs_f64()
    );
    if let Some(kib) = peak_rss_kib() {
        println!("  peak RSS: {:.1} MiB", kib as f64 / 1024.0);
    }
    pool.close().await;
    db.close().await?;
    Ok(())
}
