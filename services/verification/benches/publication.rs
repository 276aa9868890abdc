//! How long publishing, the verified ranking and a unit's side-by-side view take against the
//! real PostgreSQL, for a district cohort of realistic size and for a large one.
//!
//! `cargo bench -p dti-verification --bench publication` creates a test database, stores five
//! approved rounds of generated, fully verified submissions (51 indicators per unit, every
//! indicator accepted) for each cohort size, then times through the library, without gRPC:
//! - `load`: reading a round's cohort inputs (both bases) in one consistent read;
//! - `ranking`: `RoundSteps::verified_ranking` (load, score both bases, rank);
//! - `side-by-side`: `Reviews::side_by_side` for one unit (load, score both bases with
//!   explanations, evidence);
//! - `freeze`: scoring the verified cohort with explanations, building the snapshot and its
//!   content hash (no database);
//! - `publish`: `Publications::publish` (state change, load, score with explanations,
//!   snapshot, content hash, revision and ranks written, audit, outbox), once per round.
//!
//! It prints the median, minimum and maximum of each and the process's peak resident memory.
//! Measured numbers are recorded in docs/verification.md.

use std::sync::Arc;
use std::time::{Duration, Instant};

use dti_auth::{Principal, Role};
use dti_domain::sample::{sample_cohort, SampleOptions};
use dti_domain::{FrameworkCatalog, RoundRef, UnitId};
use dti_service_kit::frameworks::FrameworkCache;
use dti_testkit::TestDatabase;
use dti_verification::publication::Publications;
use dti_verification::review::Reviews;
use dti_verification::rounds::RoundSteps;
use dti_verification::{Context, Settings};
use serde_json::Value;
use uuid::Uuid;

const FRAMEWORK: &str = "hcm-2023-district";
const ROUNDS: u16 = 5;

fn city(role: Role) -> Principal {
    Principal::city(format!("bench-{role}"), role)
}

/// Stores an approved round of `units` verified submissions for `year`.
async fn store_round(
    pool: &sqlx::PgPool,
    catalog: &FrameworkCatalog,
    year: u16,
    units: usize,
) -> anyhow::Result<()> {
    let framework = catalog.get_str(FRAMEWORK).expect("the district framework");
    let cohort = sample_cohort(
        framework,
        &SampleOptions {
            units,
            seed: u64::from(year),
            unit_prefix: "unit-".into(),
            ..SampleOptions::default()
        },
    );
    let mut tx = pool.begin().await?;
    let year = i16::try_from(year)?;
    sqlx::query("INSERT INTO rounds (year, framework, state) VALUES ($1, $2, 'approved')")
        .bind(year)
        .bind(FRAMEWORK)
        .execute(&mut *tx)
        .await?;
    let (mut ids, mut unit_ids) = (Vec::new(), Vec::new());
    let (mut value_ids, mut codes, mut variables, mut reasons) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for unit in cohort["units"].as_array().expect("units") {
        let id = Uuid::now_v7();
        let unit_id = unit["unit"].as_str().expect("id").to_owned();
        for (code, values) in unit["values"].as_object().expect("values") {
            value_ids.push(id);
            codes.push(code.clone());
            variables.push(Some(values.to_string()));
            reasons.push(None::<String>);
        }
        for code in unit["not_applicable"].as_array().expect("list") {
            value_ids.push(id);
            codes.push(code.as_str().expect("code").to_owned());
            variables.push(None);
            reasons.push(Some("not present in this unit".to_owned()));
        }
        ids.push(id);
        unit_ids.push(unit_id);
    }
    sqlx::query(
        "INSERT INTO round_units (year, framework, unit_id) SELECT $1, $2, unnest($3::text[])",
    )
    .bind(year)
    .bind(FRAMEWORK)
    .bind(&unit_ids)
    .execute(&mut *tx)
    .await?;
    sqlx::query(
        "INSERT INTO submissions (id, year, framework, unit_id, state, latest_version) \
         SELECT id, $1, $2, unit, 'verified', 1 FROM unnest($3::uuid[], $4::text[]) AS t(id, unit)",
    )
    .bind(year)
    .bind(FRAMEWORK)
    .bind(&ids)
    .bind(&unit_ids)
    .execute(&mut *tx)
    .await?;
    sqlx::query(
        "INSERT INTO submission_versions (submission_id, version, client_request_id, submitted_by) \
         SELECT id, 1, 'bench', 'bench' FROM unnest($1::uuid[]) AS t(id)",
    )
    .bind(&ids)
    .execute(&mut *tx)
    .await?;
    sqlx::query(
        "INSERT INTO submission_version_values (submission_id, version, indicator_code, \
         variables, not_applicable_reason) SELECT id, 1, code, vars::jsonb, reason \
         FROM unnest($1::uuid[], $2::text[], $3::text[], $4::text[]) AS t(id, code, vars, reason)",
    )
    .bind(&value_ids)
    .bind(&codes)
    .bind(&variables)
    .bind(&reasons)
    .execute(&mut *tx)
    .await?;
    sqlx::query(
        "INSERT INTO verified_values (submission_id, version, indicator_code, decision, decided_by) \
         SELECT id, 1, code, 'accepted', 'bench' FROM unnest($1::uuid[], $2::text[]) AS t(id, code)",
    )
    .bind(&value_ids)
    .bind(&codes)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(())
}

fn round(year: u16) -> RoundRef {
    RoundRef {
        year,
        framework: FRAMEWORK.parse().expect("framework id"),
    }
}

/// Median, minimum and maximum.
fn summary(mut times: Vec<Duration>) -> String {
    times.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    format!(
        "median {:>8.1} ms  (min {:.1}, max {:.1}, n={})",
        ms(times[times.len() / 2]),
        ms(times[0]),
        ms(times[times.len() - 1]),
        times.len()
    )
}

/// Peak resident memory of this process, from /proc.
fn peak_rss_mib() -> String {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            status
                .lines()
                .find(|line| line.starts_with("VmHWM:"))
                .and_then(|line| line.split_whitespace().nth(1))
                .and_then(|kb| kb.parse::<f64>().ok())
        })
        .map_or_else(
            || "unknown".to_owned(),
            |kb| format!("{:.0} MiB", kb / 1024.0),
        )
}

async fn measure(units: usize) -> anyhow::Result<()> {
    let db = TestDatabase::create().await?;
    let frameworks = FrameworkCache::load(db.pool().clone(), FrameworkCatalog::builtin()?).await?;
    let catalog = frameworks.catalog();
    for year in 2023..2023 + ROUNDS {
        store_round(db.pool(), &catalog, year, units).await?;
    }
    let context = Context {
        pool: db.pool().clone(),
        frameworks,
        nats_prefix: "bench".to_owned(),
        settings: Arc::new(Settings::default()),
    };
    let framework = Arc::clone(catalog.get_str(FRAMEWORK).expect("district"));
    let (reviews, steps, publications) = (
        Reviews::new(context.clone()),
        RoundSteps::new(context.clone()),
        Publications::new(context.clone()),
    );
    let (approver, verifier) = (city(Role::Approver), city(Role::Verifier));
    let width = units.to_string().len().max(3);
    let first_unit = UnitId::parse(format!("unit-{:0width$}", 1))?;

    let mut load = Vec::new();
    let mut ranking = Vec::new();
    let mut side_by_side = Vec::new();
    for _ in 0..5 {
        let started = Instant::now();
        let mut tx = context.read().await?;
        let inputs =
            dti_verification::inputs::load_round(&mut tx, &framework, &round(2023)).await?;
        drop(tx);
        load.push(started.elapsed());
        assert_eq!(inputs.units.len(), units);

        let started = Instant::now();
        let ranked = steps.verified_ranking(&verifier, &round(2023)).await?;
        ranking.push(started.elapsed());
        assert_eq!(ranked.units.len(), units);

        let started = Instant::now();
        let view = reviews
            .side_by_side(&verifier, &round(2023), &first_unit)
            .await?;
        side_by_side.push(started.elapsed());
        assert_eq!(view.rows.len(), 51);
    }
    let mut freeze = Vec::new();
    for _ in 0..3 {
        let mut tx = context.read().await?;
        let inputs =
            dti_verification::inputs::load_round(&mut tx, &framework, &round(2023)).await?;
        drop(tx);
        let started = Instant::now();
        let scores =
            dti_verification::scoring::cohort(inputs.verified_cohort(), dti_engine::Explain::Full)
                .await?;
        let reference = round(2023);
        let header = dti_verification::snapshot::Header {
            round: &reference,
            revision: 1,
            reason: "bench",
            published_by: "bench",
            published_at: chrono::Utc::now(),
        };
        let frozen = dti_verification::snapshot::build(header, &framework, &inputs, &scores);
        let hash = dti_verification::snapshot::content_hash(&frozen);
        freeze.push(started.elapsed());
        assert_eq!(hash.len(), 32);
    }
    let mut publish = Vec::new();
    let mut snapshot_bytes = 0;
    for year in 2023..2023 + ROUNDS {
        let started = Instant::now();
        let published = publications.publish(&approver, &round(year)).await?;
        publish.push(started.elapsed());
        assert!(published.hash_verified);
        assert_eq!(published.ranks.len(), units);
        let stored = publications.get(&verifier, &round(year), 1).await?;
        assert!(stored.hash_verified);
        let Some(Value::Array(ranked)) = stored.snapshot.as_ref().map(|s| &s["units"]) else {
            anyhow::bail!("a snapshot without units");
        };
        assert_eq!(ranked.len(), units);
        snapshot_bytes = stored
            .snapshot
            .as_ref()
            .and_then(|s| serde_json::to_vec(s).ok())
            .map_or(0, |bytes| bytes.len());
    }
    println!("cohort of {units} units, 51 indicators each:");
    println!("  load          {}", summary(load));
    println!("  ranking       {}", summary(ranking));
    println!("  side-by-side  {}", summary(side_by_side));
    println!("  freeze        {}", summary(freeze));
    println!("  publish       {}", summary(publish));
    println!(
        "  snapshot      {:.1} MiB of JSON",
        snapshot_bytes as f64 / (1024.0 * 1024.0)
    );
    db.close().await?;
    Ok(())
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let sizes: Vec<usize> = std::env::args()
        .skip(1)
        .filter_map(|arg| arg.parse().ok())
        .collect();
    let sizes = if sizes.is_empty() {
        vec![24, 1000]
    } else {
        sizes
    };
    for units in sizes {
        measure(units).await?;
    }
    println!("peak resident memory: {}", peak_rss_mib());
    Ok(())
}
