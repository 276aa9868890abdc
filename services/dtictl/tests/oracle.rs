//! Differential test: `dtictl score` against an independent Python reading of the scoring
//! contract (`tests/oracle/score_contract.py`) on generated cohorts, to the cent.

use serde_json::Value;
use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Stdio};

fn run(program: &str, args: &[&str], stdin: &[u8]) -> Vec<u8> {
    let mut child = Command::new(program)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("{program} starts: {e}"));
    child.stdin.take().unwrap().write_all(stdin).unwrap();
    let output = child.wait_with_output().unwrap();
    assert!(
        output.status.success(),
        "{program} {args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    output.stdout
}

fn normalised(output: &[u8]) -> Value {
    let document: Value = serde_json::from_slice(output).unwrap();
    let units: serde_json::Map<String, Value> = document["units"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| {
            (
                u["unit"].as_str().unwrap().to_string(),
                serde_json::json!([u["indicators"], u["groups"], u["total"], u["rank"]]),
            )
        })
        .collect();
    Value::Object(units)
}

#[test]
fn dtictl_agrees_with_an_independent_reading_of_the_contract() {
    let oracle =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/oracle/score_contract.py");
    let dtictl = env!("CARGO_BIN_EXE_dtictl");
    let mut compared = 0;
    for framework in ["hcm-2023-district", "hcm-2023-department"] {
        for (seed, units, missing, na) in [
            (1u64, 40u32, 5u32, 3u32),
            (2, 25, 30, 10),
            (3, 60, 0, 0),
            (4, 3, 50, 20),
            (5, 120, 8, 5),
        ] {
            let seed = seed.to_string();
            let units = units.to_string();
            let (missing, na) = (missing.to_string(), na.to_string());
            let cohort = run(
                dtictl,
                &[
                    "generate",
                    "--framework",
                    framework,
                    "--units",
                    &units,
                    "--seed",
                    &seed,
                    "--missing-percent",
                    &missing,
                    "--not-applicable-percent",
                    &na,
                ],
                b"",
            );
            let ours = run(dtictl, &["score", "--input", "-"], &cohort);
            let theirs = run("python3", &[oracle.to_str().unwrap(), "-"], &cohort);
            assert_eq!(
                normalised(&ours),
                normalised(&theirs),
                "{framework} seed {seed}"
            );
            compared += 1;
        }
    }
    assert_eq!(compared, 10);
}
