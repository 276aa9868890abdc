//! Upload throughput: 200 concurrent uploads of distinct 5 MiB PDFs through the evidence
//! service (in-process, real PostgreSQL and NATS, filesystem backend with fsync on, each
//! upload from its own gRPC connection), compared in the same run with writing the same bytes
//! to the same disk directly (a file per document, `write` + `fsync`, like `dd conv=fsync`),
//! sequentially and with the same concurrency.
//!
//! `cargo bench -p dti-evidence --bench upload_throughput` (optional arguments: uploads,
//! MiB per upload). Goal: service MB/s ≥ 0.5 × the faster direct write. Environment:
//! `DTI_BENCH_DIR` (parent of the temporary directory, default `/var/tmp`),
//! `DTI_BENCH_UNITS` (spread the uploads over that many units, default 1: every upload
//! appends to the same unit's audit chain), `DTI_BENCH_FSYNC=0` (no fsync in the service).

use std::io::Write;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use dti_evidence::content_type::samples;
use dti_evidence::Settings;
use dti_proto::dti::common::v1::{RoundRef, UnitRef};
use dti_proto::dti::evidence::v1::evidence_service_client::EvidenceServiceClient;
use dti_proto::dti::evidence::v1::{upload_evidence_request, UploadEvidenceRequest, UploadHeader};
use dti_testkit::{with_auth, TestBackends};
use tonic::transport::Endpoint;

const YEAR: i16 = 2023;
const FRAMEWORK: &str = "hcm-2023-district";
/// Size of each upload message.
const CHUNK: usize = 256 * 1024;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1).filter(|arg| !arg.starts_with('-'));
    let uploads: usize = args.next().map(|n| n.parse()).transpose()?.unwrap_or(200);
    let mib: usize = args.next().map(|n| n.parse()).transpose()?.unwrap_or(5);
    let size = mib * 1024 * 1024;
    let base = Arc::new(samples::pdf(size));
    let documents: Vec<Arc<Vec<u8>>> = (0..uploads).map(|i| Arc::new(document(&base, i))).collect();
    let total_mb = (uploads * size) as f64 / 1e6;

    let work =
        tempfile::tempdir_in(std::env::var("DTI_BENCH_DIR").unwrap_or_else(|_| "/var/tmp".into()))?;
    println!(
        "{uploads} uploads × {mib} MiB = {total_mb:.0} MB, in {} ({} cores)",
        work.path().display(),
        cores()
    );

    let sequential = direct_sequential(&work.path().join("direct-seq"), &documents)?;
    report(
        "direct write, sequential (write+fsync)",
        total_mb,
        sequential,
    );
    let parallel = direct_parallel(&work.path().join("direct-par"), &documents).await?;
    report("direct write, concurrent (write+fsync)", total_mb, parallel);

    let unit_count: usize = std::env::var("DTI_BENCH_UNITS").map_or(Ok(1), |n| n.parse())?;
    let units: Vec<String> = (1..=unit_count).map(|n| format!("quan-{n}")).collect();
    let backends = TestBackends::create().await?;
    seed_round(backends.db.pool(), &units).await?;
    let fsync = std::env::var("DTI_BENCH_FSYNC").map_or(true, |v| v != "0");
    let settings = Settings::local(work.path().join("store"), fsync);
    let fsync = if settings.storage.fsync {
        "fsync"
    } else {
        "no fsync"
    };
    let config = backends.service_config(settings);
    let running = dti_evidence::build(&config).await?.spawn()?;
    let cpu_before = cpu_seconds();
    let machine_before = machine_busy_and_total();
    let uploaders: Vec<(String, String)> = units
        .iter()
        .map(|unit| (unit.clone(), backends.unit_token(unit)))
        .collect();
    let service = upload_all(&running.endpoint(), &uploaders, &documents).await?;
    let cpu = cpu_seconds() - cpu_before;
    let machine_after = machine_busy_and_total();
    report(
        &format!("evidence service (gRPC, sha256, {fsync})"),
        total_mb,
        service,
    );
    println!(
        "  CPU of the bench process (client and service) during the uploads: {cpu:.2} s \
         ({:.0} % of the cores)",
        100.0 * cpu / service.as_secs_f64() / cores() as f64
    );
    if let (Some(before), Some(after)) = (machine_before, machine_after) {
        println!(
            "  whole machine busy (PostgreSQL, NATS and kernel included): {:.0} %, iowait {:.0} %",
            100.0 * (after.0 - before.0) / (after.2 - before.2),
            100.0 * (after.1 - before.1) / (after.2 - before.2)
        );
    }

    let stored: i64 = sqlx::query_scalar("SELECT count(*) FROM evidence_objects")
        .fetch_one(backends.db.pool())
        .await?;
    anyhow::ensure!(
        stored == uploads as i64,
        "{stored} objects recorded, expected {uploads}"
    );
    println!(
        "ratio service / sequential direct write: {:.2}",
        sequential.as_secs_f64() / service.as_secs_f64()
    );
    println!(
        "ratio service / faster direct write: {:.2} (goal ≥ 0.5)",
        sequential.min(parallel).as_secs_f64() / service.as_secs_f64()
    );
    running.stop().await?;
    backends.close().await?;
    Ok(())
}

fn cores() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

/// User and system CPU time of this process so far, in seconds.
fn cpu_seconds() -> f64 {
    // SAFETY: getrusage only writes the struct it is given.
    let usage = unsafe {
        let mut usage = std::mem::zeroed::<libc::rusage>();
        libc::getrusage(libc::RUSAGE_SELF, &mut usage);
        usage
    };
    let seconds = |time: libc::timeval| time.tv_sec as f64 + time.tv_usec as f64 / 1e6;
    seconds(usage.ru_utime) + seconds(usage.ru_stime)
}

/// Busy, iowait and total jiffies of the machine, from `/proc/stat`.
fn machine_busy_and_total() -> Option<(f64, f64, f64)> {
    let stat = std::fs::read_to_string("/proc/stat").ok()?;
    let fields: Vec<f64> = stat
        .lines()
        .next()?
        .split_whitespace()
        .skip(1)
        .filter_map(|field| field.parse().ok())
        .collect();
    let total: f64 = fields.iter().sum();
    let idle = fields.get(3)? + fields.get(4)?;
    Some((total - idle, *fields.get(4)?, total))
}

/// Document `index`: the base PDF with the index written into its padding (distinct bytes,
/// so nothing is deduplicated).
fn document(base: &[u8], index: usize) -> Vec<u8> {
    let mut bytes = base.to_vec();
    bytes[20..28].copy_from_slice(&(index as u64).to_le_bytes());
    bytes
}

fn report(what: &str, total_mb: f64, took: Duration) {
    println!(
        "{what:<42} {:>8.2} s {:>9.1} MB/s",
        took.as_secs_f64(),
        total_mb / took.as_secs_f64()
    );
}

/// Writes every document to its own file in `dir`, one after the other, each fsynced.
fn direct_sequential(dir: &Path, documents: &[Arc<Vec<u8>>]) -> anyhow::Result<Duration> {
    std::fs::create_dir_all(dir)?;
    let started = Instant::now();
    for (index, document) in documents.iter().enumerate() {
        write_synced(&dir.join(format!("{index}.pdf")), document)?;
    }
    std::fs::File::open(dir)?.sync_all()?;
    Ok(started.elapsed())
}

/// Writes every document to its own file in `dir`, all at once on blocking threads.
async fn direct_parallel(dir: &Path, documents: &[Arc<Vec<u8>>]) -> anyhow::Result<Duration> {
    std::fs::create_dir_all(dir)?;
    let started = Instant::now();
    let writes: Vec<_> = documents
        .iter()
        .enumerate()
        .map(|(index, document)| {
            let path = dir.join(format!("{index}.pdf"));
            let document = Arc::clone(document);
            tokio::task::spawn_blocking(move || write_synced(&path, &document))
        })
        .collect();
    for write in writes {
        write.await??;
    }
    std::fs::File::open(dir)?.sync_all()?;
    Ok(started.elapsed())
}

fn write_synced(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    let mut file = std::fs::File::create(path)?;
    file.write_all(bytes)?;
    file.sync_all()?;
    Ok(())
}

/// Uploads every document concurrently, each over its own connection, spread over the
/// `uploaders` (unit, bearer) in turn.
async fn upload_all(
    endpoint: &str,
    uploaders: &[(String, String)],
    documents: &[Arc<Vec<u8>>],
) -> anyhow::Result<Duration> {
    let started = Instant::now();
    let uploads: Vec<_> = documents
        .iter()
        .enumerate()
        .map(|(index, document)| {
            let channel = Endpoint::from_shared(endpoint.to_owned()).map(|e| e.connect_lazy());
            let (unit, bearer) = uploaders[index % uploaders.len()].clone();
            let document = Arc::clone(document);
            tokio::spawn(async move {
                let mut client = EvidenceServiceClient::new(channel?);
                let messages = messages(index, &unit, document);
                let response = client
                    .upload_evidence(with_auth(futures::stream::iter(messages), &bearer))
                    .await?;
                anyhow::ensure!(!response.into_inner().already_attached, "deduplicated");
                Ok::<(), anyhow::Error>(())
            })
        })
        .collect();
    for upload in uploads {
        upload.await??;
    }
    Ok(started.elapsed())
}

/// The header and chunks of upload `index` (chunks are cut as the stream is polled).
fn messages(
    index: usize,
    unit: &str,
    document: Arc<Vec<u8>>,
) -> impl Iterator<Item = UploadEvidenceRequest> {
    let header = UploadHeader {
        round: Some(RoundRef {
            year: YEAR as u32,
            framework: FRAMEWORK.into(),
        }),
        unit: Some(UnitRef {
            unit_id: unit.into(),
        }),
        indicator_code: "1.1".into(),
        file_name: format!("bao-cao-{index}.pdf"),
        declared_content_type: "application/pdf".into(),
    };
    let chunks = document.len().div_ceil(CHUNK);
    std::iter::once(UploadEvidenceRequest {
        part: Some(upload_evidence_request::Part::Header(header)),
    })
    .chain((0..chunks).map(move |at| {
        let end = ((at + 1) * CHUNK).min(document.len());
        UploadEvidenceRequest {
            part: Some(upload_evidence_request::Part::Chunk(
                document[at * CHUNK..end].to_vec(),
            )),
        }
    }))
}

async fn seed_round(pool: &sqlx::PgPool, units: &[String]) -> anyhow::Result<()> {
    sqlx::query("INSERT INTO rounds (year, framework, state) VALUES ($1, $2, 'open')")
        .bind(YEAR)
        .bind(FRAMEWORK)
        .execute(pool)
        .await?;
    for unit in units {
        sqlx::query("INSERT INTO round_units (year, framework, unit_id) VALUES ($1, $2, $3)")
            .bind(YEAR)
            .bind(FRAMEWORK)
            .bind(unit)
            .execute(pool)
            .await?;
    }
    Ok(())
}
