//! `dtictl` as a user meets it: exit codes, stdout and stderr of every command.

use serde_json::{json, Value};
use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn dtictl(args: &[&str], stdin: Option<&str>) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_dtictl"))
        .args(args)
        .env_remove("DTI_FRAMEWORK_DIR")
        .env("DTI_LANG", "en")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("dtictl starts");
    if let Some(text) = stdin {
        child
            .stdin
            .take()
            .unwrap()
            .write_all(text.as_bytes())
            .unwrap();
    }
    drop(child.stdin.take());
    child.wait_with_output().unwrap()
}

fn score_stdin(document: &Value) -> Output {
    dtictl(&["score", "--input", "-"], Some(&document.to_string()))
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

fn assert_invalid(output: &Output, expected: &[&str]) {
    assert_eq!(output.status.code(), Some(2), "stderr: {}", stderr(output));
    assert!(
        output.stdout.is_empty(),
        "nothing on stdout, got {}",
        String::from_utf8_lossy(&output.stdout)
    );
    let err = stderr(output);
    for line in expected {
        assert!(
            err.lines().any(|l| l.contains(line)),
            "expected a line with {line:?} in:\n{err}"
        );
    }
}

fn district(values: Value) -> Value {
    json!({"framework": "hcm-2023-district", "units": [{"unit": "quan-1", "values": values}]})
}

#[test]
fn score_matches_the_contracts_worked_examples() {
    for name in ["district", "department"] {
        let data = repo().join("tests/data/contract");
        let input = data.join(format!("{name}-sample.json"));
        let output = dtictl(&["score", "--input", input.to_str().unwrap()], None);
        assert!(output.status.success(), "{}", stderr(&output));
        let got: Value = serde_json::from_slice(&output.stdout).unwrap();
        let want: Value = serde_json::from_str(
            &std::fs::read_to_string(data.join(format!("{name}-sample.expected.json"))).unwrap(),
        )
        .unwrap();
        assert_eq!(got, want, "{name}");
    }
}

#[test]
fn explain_adds_an_explanation_per_indicator() {
    let output = score_stdin(&district(json!({"1.2": {"a": 7, "b": 34}})));
    assert!(output.status.success());
    let plain: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert!(plain["units"][0].get("explanations").is_none());
    let output = dtictl(
        &["score", "--explain", "--input", "-"],
        Some(&district(json!({"1.2": {"a": 7, "b": 34}})).to_string()),
    );
    let explained: Value = serde_json::from_slice(&output.stdout).unwrap();
    let unit = &explained["units"][0];
    assert_eq!(unit["indicators"]["1.2"], "2.06");
    assert_eq!(unit["explanations"].as_object().unwrap().len(), 51);
    assert_eq!(unit["explanations"]["1.2"]["kind"], "ratio");
    assert_eq!(unit["explanations"]["1.2"]["raw"]["exact"], "35/17");
    assert_eq!(unit["explanations"]["2.1"]["outcome"], "missing");
}

#[test]
fn each_invalid_input_exits_2_naming_the_place() {
    let cases: Vec<(Value, &str)> = vec![
        (
            district(json!({"1.2": {"a": -1, "b": 4}})),
            "unit quan-1, indicator 1.2, variable a: must not be negative",
        ),
        (
            district(json!({"1.2": {"a": 2.5, "b": 4}})),
            "unit quan-1, indicator 1.2, variable a: must be a whole number",
        ),
        (
            district(json!({"10.1": {"a": 1}})),
            "unit quan-1, indicator 10.1: indicator code is not in framework",
        ),
        (
            district(json!({"9.1": {"status": "planned"}})),
            "unit quan-1, indicator 9.1, variable status: \"planned\" is not one of",
        ),
        (
            district(json!({"8.1": {"a": 3, "b": 0}})),
            "unit quan-1, indicator 8.1, variable b: denominator is zero",
        ),
        (
            district(json!({"8.1": {"a": 3}})),
            "unit quan-1, indicator 8.1, variable b: missing",
        ),
        (
            district(json!({"8.1": {"a": 3, "b": 4, "c": 1}})),
            "unit quan-1, indicator 8.1, variable c: variable is not defined",
        ),
        (
            json!({"framework": "hcm-2099-district", "units": []}),
            "framework \"hcm-2099-district\" is not known",
        ),
    ];
    for (document, expected) in cases {
        assert_invalid(&score_stdin(&document), &[expected]);
    }
}

#[test]
fn malformed_json_and_unreadable_files_exit_2() {
    assert_invalid(
        &dtictl(
            &["score", "--input", "-"],
            Some("{\"framework\": \"hcm-2023-district\", "),
        ),
        &["input is not valid JSON"],
    );
    assert_invalid(
        &dtictl(&["score", "--input", "-"], Some("[1, 2]")),
        &["input must be a JSON object"],
    );
    assert_invalid(
        &dtictl(&["score", "--input", "/nonexistent/cohort.json"], None),
        &["cannot read /nonexistent/cohort.json"],
    );
}

#[test]
fn every_problem_is_listed_one_per_line() {
    let document = json!({"framework": "hcm-2023-district", "units": [
        {"unit": "A", "values": {"1.2": {"a": -1, "b": 3}}},
        {"unit": "B", "values": {"1.3": {"a": 1, "b": 0}}, "not_applicable": ["0.1"]}]});
    let output = score_stdin(&document);
    assert_invalid(
        &output,
        &[
            "unit A, indicator 1.2, variable a",
            "unit B, indicator 1.3, variable b",
            "unit B, indicator 0.1",
        ],
    );
    assert_eq!(stderr(&output).lines().count(), 3);
}

#[test]
fn warnings_go_to_stderr_and_scoring_continues() {
    let output = score_stdin(&district(json!({"1.2": {"a": 9, "b": 4}})));
    assert!(output.status.success());
    assert!(stderr(&output).starts_with("warning: unit quan-1, indicator 1.2, variable a"));
    let scored: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(scored["units"][0]["indicators"]["1.2"], "10.00");
}

#[test]
fn validate_reports_without_scoring() {
    let output = dtictl(
        &["validate", "--input", "-"],
        Some(&district(json!({"1.2": {"a": 1, "b": 4}})).to_string()),
    );
    assert!(output.status.success());
    assert_eq!(
        String::from_utf8_lossy(&output.stdout).trim(),
        "valid: 1 unit(s) for framework hcm-2023-district"
    );
    assert_invalid(
        &dtictl(
            &["validate", "--input", "-"],
            Some(&district(json!({"1.2": {"a": 1, "b": 0}})).to_string()),
        ),
        &["denominator is zero"],
    );
}

#[test]
fn frameworks_are_listed_and_shown() {
    let output = dtictl(&["frameworks"], None);
    assert!(output.status.success());
    let text = String::from_utf8_lossy(&output.stdout);
    for id in [
        "hcm-2023-department",
        "hcm-2023-district",
        "mic-2022-province",
    ] {
        assert!(text.contains(id), "{text}");
    }
    let output = dtictl(&["framework", "show", "hcm-2023-district"], None);
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(text.contains("the source's header says 690"), "{text}");
    assert!(text.contains("Hoạt động chính quyền số"));
    let output = dtictl(&["framework", "show", "mic-2022-province", "--json"], None);
    let shown: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(shown["general_info"].as_array().unwrap().len(), 17);
    assert_invalid(
        &dtictl(&["framework", "show", "nope"], None),
        &["framework \"nope\" is not known"],
    );
}

#[test]
fn a_new_years_framework_from_a_directory_scores_without_code_changes() {
    let dir = repo().join("shared/domain/tests/data");
    let document = json!({"framework": "test-2025-district", "units": [
        {"unit": "A", "values": {"1.1": {"online": 60, "total": 100}, "1.2": {"status": "in_progress"}, "2.1": {"a": 4}, "3.1": {"a": 1, "b": 2}}},
        {"unit": "B", "values": {"1.1": {"online": 80, "total": 100}, "2.1": {"a": 8}}}]});
    let output = dtictl(
        &[
            "--framework-dir",
            dir.to_str().unwrap(),
            "score",
            "--input",
            "-",
        ],
        Some(&document.to_string()),
    );
    assert!(output.status.success(), "{}", stderr(&output));
    let scored: Value = serde_json::from_slice(&output.stdout).unwrap();
    let a = &scored["units"][0];
    assert_eq!(
        a["indicators"],
        json!({"1.1": "24.00", "1.2": "5.00", "2.1": "0.00", "3.1": "10.00"})
    );
    assert_eq!(
        a["groups"],
        json!({"1": "29.00", "2": "0.00", "3": "10.00"})
    );
    assert_eq!(scored["units"][1]["total"], "60.00");
    assert_eq!(
        (a["rank"].as_u64(), scored["units"][1]["rank"].as_u64()),
        (Some(2), Some(1))
    );
}

#[test]
fn a_broken_framework_file_exits_2_naming_file_and_code() {
    let dir = tempfile::tempdir().unwrap();
    let text = std::fs::read_to_string(
        repo().join("shared/domain/tests/data/hcm-2025-district-test.toml"),
    )
    .unwrap();
    std::fs::write(
        dir.path().join("bad.toml"),
        text.replace("kind = \"ratio\"", "kind = \"percent\""),
    )
    .unwrap();
    let output = dtictl(
        &[
            "--framework-dir",
            dir.path().to_str().unwrap(),
            "frameworks",
        ],
        None,
    );
    assert_invalid(
        &output,
        &["bad.toml: 3.1: rule kind \"percent\" is not known"],
    );
}

#[test]
fn generate_is_deterministic_and_scores() {
    let generate = || {
        dtictl(
            &[
                "generate",
                "--framework",
                "hcm-2023-district",
                "--registry-cohort",
                "2023",
            ],
            None,
        )
    };
    let first = generate();
    let second = generate();
    assert!(first.status.success());
    assert_eq!(first.stdout, second.stdout);
    let cohort: Value = serde_json::from_slice(&first.stdout).unwrap();
    assert_eq!(cohort["units"].as_array().unwrap().len(), 22);
    assert_eq!(cohort["units"][0]["unit"], "thu-duc");
    let scored = dtictl(
        &["score", "--input", "-"],
        Some(&String::from_utf8_lossy(&first.stdout)),
    );
    assert!(scored.status.success(), "{}", stderr(&scored));
    assert_invalid(
        &dtictl(&["generate", "--framework", "mic-2022-province"], None),
        &["has no scoring rules"],
    );
    // 2024 lists no cohort: every district active in 2024, the same units as 2023's.
    let later = dtictl(
        &[
            "generate",
            "--framework",
            "hcm-2023-district",
            "--registry-cohort",
            "2024",
        ],
        None,
    );
    assert!(later.status.success(), "{}", stderr(&later));
    let later: Value = serde_json::from_slice(&later.stdout).unwrap();
    let units = |cohort: &Value| -> std::collections::BTreeSet<String> {
        cohort["units"]
            .as_array()
            .unwrap()
            .iter()
            .map(|unit| unit["unit"].as_str().unwrap().to_owned())
            .collect()
    };
    assert_eq!(units(&later), units(&cohort));
}

#[test]
fn usage_errors_exit_2() {
    let output = dtictl(&["score"], None);
    assert_eq!(output.status.code(), Some(2));
    assert!(output.stdout.is_empty());
}
