//! The burst of submissions: each unit's versions with its own values of indicator 5.1, sent
//! by a few workers in turns and retried until acknowledged.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use anyhow::{bail, ensure, Context};
use dti_tests::text;
use serde_json::{json, Value};

use super::{Chaos, MAX_VERSIONS, MIN_VERSIONS, SUBMIT_PATIENCE, THROTTLE, WORKERS, YEAR};

/// The cohort file's unit values with indicator 5.1 set to `a` (the same unit submitting
/// different values each time; a version's values also name its `dtictl` request id).
pub fn with_5_1(unit: &Value, a: u64) -> Value {
    let mut unit = unit.clone();
    unit["values"]["5.1"] = json!({ "a": a });
    if let Some(list) = unit
        .get_mut("not_applicable")
        .and_then(|list| list.as_array_mut())
    {
        list.retain(|code| code != "5.1");
    }
    unit
}

/// Value of 5.1's `a` in version `version` of the unit at `index`.
pub fn value_of(index: usize, version: u32) -> u64 {
    5 + (index as u64 * 7 + u64::from(version) * 13) % 400
}

/// What the burst acknowledged: per unit, the versions in the order the service gave them.
pub type Acknowledged = BTreeMap<String, Vec<u32>>;

/// One unit's version `version`, retried (same values, so the same request id) until the
/// submission service acknowledges it; the version it answered.
pub fn submit(
    chaos: &Chaos,
    file: &Path,
    unit: &str,
    failures: &Mutex<u32>,
) -> anyhow::Result<u32> {
    let started = Instant::now();
    loop {
        let out = chaos.stack().dtictl(
            &[
                "submit",
                "--year",
                YEAR,
                "--input",
                &file.to_string_lossy(),
                "--unit",
                unit,
            ],
            &[("DTI_LANG", "en")],
        )?;
        let stdout = text(&out.stdout);
        if out.status.success() {
            let version = stdout
                .rsplit("submitted version ")
                .next()
                .and_then(|v| v.trim().parse().ok())
                .with_context(|| format!("dtictl submit printed: {stdout}"))?;
            return Ok(version);
        }
        *failures.lock().unwrap_or_else(|p| p.into_inner()) += 1;
        if started.elapsed() > SUBMIT_PATIENCE {
            bail!(
                "{unit}: no submission acknowledged within {SUBMIT_PATIENCE:?}: {}",
                text(&out.stderr)
            );
        }
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// The burst: each worker sends its units' versions 1, 2, … in turns until the chaos is over
/// (at least `MIN_VERSIONS`, at most `MAX_VERSIONS`).
pub fn burst(
    chaos: &Chaos,
    version_files: &[PathBuf],
    units: &[String],
    worker: usize,
    chaos_over: &AtomicBool,
    acknowledged: &Mutex<Acknowledged>,
    failures: &Mutex<u32>,
) -> anyhow::Result<()> {
    let mine: Vec<&String> = units.iter().skip(worker).step_by(WORKERS).collect();
    for version in 1..=MAX_VERSIONS + 1 {
        // Workers stop at different versions: units end on different latest versions.
        if version > MIN_VERSIONS + worker as u32 && chaos_over.load(Ordering::SeqCst) {
            return Ok(());
        }
        ensure!(
            version <= MAX_VERSIONS,
            "worker {worker} sent {MAX_VERSIONS} versions of its units before the chaos was over"
        );
        for unit in &mine {
            std::thread::sleep(THROTTLE);
            let file = &version_files[version as usize - 1];
            let answered = submit(chaos, file, unit, failures)?;
            acknowledged
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .entry((*unit).clone())
                .or_default()
                .push(answered);
        }
    }
    unreachable!("the loop returns")
}
