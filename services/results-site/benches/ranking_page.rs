//! Latency of a ranking page against a bare static answer of the same server, in the same
//! run: the submission and verification services and the site in-process on a test database
//! (as `cargo test` runs them), every district of the 2023 cohort published, then
//! `REQUESTS` sequential GETs of the ranking page (rendered each time; the revision from the
//! site's cache, the round's revision list asked for again once a second as in production)
//! and of `/healthz`. Prints p50/p99 of each and their ratio.
//!
//! `cargo bench -p dti-results-site --bench ranking_page [-- REQUESTS]`

#[path = "../tests/support/mod.rs"]
mod support;

use std::time::{Duration, Instant};

use support::{values, Platform};

const DISTRICTS: [&str; 22] = [
    "thu-duc",
    "quan-1",
    "quan-3",
    "quan-4",
    "quan-5",
    "quan-6",
    "quan-7",
    "quan-8",
    "quan-10",
    "quan-11",
    "quan-12",
    "binh-tan",
    "binh-thanh",
    "go-vap",
    "phu-nhuan",
    "tan-binh",
    "tan-phu",
    "huyen-binh-chanh",
    "huyen-can-gio",
    "huyen-cu-chi",
    "huyen-hoc-mon",
    "huyen-nha-be",
];

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let index = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[index.min(sorted.len() - 1)]
}

async fn timed(platform: &Platform, path: &str, requests: usize) -> Vec<Duration> {
    let mut times = Vec::with_capacity(requests);
    for _ in 0..requests {
        let started = Instant::now();
        let answer = platform.get(path).await;
        times.push(started.elapsed());
        assert_eq!(answer.status, 200, "{path}");
    }
    times.sort();
    times
}

fn millis(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1000.0
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> anyhow::Result<()> {
    let requests: usize = std::env::args()
        .skip(1)
        .find_map(|arg| arg.parse().ok())
        .unwrap_or(2000);
    let platform =
        Platform::start_with(|settings| settings.latest_check_interval_ms = 1000).await?;
    let cohort: Vec<(&str, Vec<_>)> = DISTRICTS
        .iter()
        .enumerate()
        .map(|(i, unit)| (*unit, values(i as u64 % 11, 2 + i as u64 % 7)))
        .collect();
    platform.published_round(2023, &cohort).await?;
    let page = "/2023/hcm-2023-district";
    // Warm both paths (first fetch of the revision, connection set-up).
    timed(&platform, page, 20).await;
    timed(&platform, "/healthz", 20).await;
    let ranking = timed(&platform, page, requests).await;
    let bare = timed(&platform, "/healthz", requests).await;
    let (p50, p99) = (percentile(&ranking, 0.5), percentile(&ranking, 0.99));
    let (bare50, bare99) = (percentile(&bare, 0.5), percentile(&bare, 0.99));
    let size = platform.get(page).await.body.len();
    println!(
        "ranking page ({} units, {size} bytes), {requests} sequential requests",
        DISTRICTS.len()
    );
    println!(
        "  ranking page  p50 {:.3} ms  p99 {:.3} ms",
        millis(p50),
        millis(p99)
    );
    println!(
        "  bare /healthz p50 {:.3} ms  p99 {:.3} ms",
        millis(bare50),
        millis(bare99)
    );
    println!(
        "  ratio         p50 {:.1}x  p99 {:.1}x",
        p50.as_secs_f64() / bare50.as_secs_f64(),
        p99.as_secs_f64() / bare99.as_secs_f64()
    );
    let goal = Duration::from_millis(20);
    println!(
        "  goal p99 <= 20 ms: {}",
        if p99 <= goal { "met" } else { "NOT met" }
    );
    platform.stop().await
}
