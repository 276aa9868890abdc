//! Benchmark: `dtictl score` on a generated cohort of 10,000 district units, as a user runs it
//! (the release binary, reading a file, writing JSON). Reports wall time per run and the peak
//! resident memory of each scoring process. Goal: ≤ 1 s wall on the 2-core reference machine.
//!
//! Run with `cargo bench -p dtictl --bench score_cohort` (units and runs can be set with
//! `DTI_BENCH_UNITS` and `DTI_BENCH_RUNS`).

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn env_number(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// Runs a command to completion and returns its wall time and its own peak RSS in KiB.
fn run_measured(command: &mut Command) -> (Duration, i64) {
    let started = Instant::now();
    let child = command.spawn().expect("command starts");
    let pid = child.id() as libc::pid_t;
    let mut status = 0;
    // SAFETY: wait4 writes only into the zeroed rusage and status we pass; the child is ours
    // and is reaped exactly once here (std's handle is dropped without waiting).
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    let reaped = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
    let elapsed = started.elapsed();
    assert_eq!(reaped, pid, "wait4 reaps the child");
    assert!(
        libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0,
        "command failed: {command:?}"
    );
    drop(child);
    (elapsed, usage.ru_maxrss)
}

fn main() {
    let dtictl = env!("CARGO_BIN_EXE_dtictl");
    let units = env_number("DTI_BENCH_UNITS", 10_000);
    let runs = env_number("DTI_BENCH_RUNS", 5);
    let dir = tempfile::tempdir().expect("temporary directory");
    let cohort = dir.path().join("cohort.json");
    let file = std::fs::File::create(&cohort).expect("cohort file");
    let (generated_in, _) = run_measured(
        Command::new(dtictl)
            .args([
                "generate",
                "--framework",
                "hcm-2023-district",
                "--units",
                &units.to_string(),
                "--seed",
                "10000",
            ])
            .stdout(file),
    );
    let size = std::fs::metadata(&cohort).expect("cohort written").len();
    println!(
        "cohort: {units} district units, {:.1} MB of JSON (generated in {:.0} ms)",
        size as f64 / 1e6,
        generated_in.as_secs_f64() * 1000.0
    );
    let mut times = Vec::with_capacity(runs);
    let mut peak = 0;
    for _ in 0..runs {
        let (elapsed, rss) = run_measured(
            Command::new(dtictl)
                .args(["score", "--input", cohort.to_str().expect("utf-8 path")])
                .stdout(Stdio::null()),
        );
        times.push(elapsed);
        peak = peak.max(rss);
    }
    times.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    println!(
        "dtictl score: {runs} runs, min {:.0} ms, median {:.0} ms, max {:.0} ms; peak RSS {:.0} MiB",
        ms(times[0]),
        ms(times[times.len() / 2]),
        ms(times[times.len() - 1]),
        peak as f64 / 1024.0
    );
}
