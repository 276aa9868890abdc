//! What the verification and publication command tests share: the sample cohort with a
//! decisions file applied (the verified inputs as `dtictl score` reads them), the engine's
//! totals of such a cohort through `dtictl score`, and a round brought to `verified`.

#![allow(
    dead_code,
    reason = "each test binary uses a different part of this module"
)]

use std::collections::BTreeMap;

use serde_json::{json, Value};

use crate::support::{repo_file, with_round, Stack, SAMPLE};

/// A JSON file of the repository.
pub fn repo_json(relative: &str) -> Value {
    let text = std::fs::read_to_string(repo_file(relative)).expect("a repository file");
    serde_json::from_str(&text).expect("JSON")
}

/// The sample district cohort.
pub fn sample_cohort() -> Value {
    repo_json(SAMPLE)
}

/// The sample decisions file.
pub fn sample_decisions() -> Value {
    repo_json("deploy/samples/hcm-2023-districts-decisions.json")
}

fn unit_mut<'a>(cohort: &'a mut Value, unit: &str) -> &'a mut Value {
    cohort["units"]
        .as_array_mut()
        .expect("units")
        .iter_mut()
        .find(|u| u["unit"] == unit)
        .expect("the unit is in the cohort")
}

/// Sets `unit`'s values of indicator `code` (no longer not applicable).
pub fn set_values(cohort: &mut Value, unit: &str, code: &str, values: Value) {
    let entry = unit_mut(cohort, unit);
    entry["values"][code] = values;
    if let Some(marks) = entry["not_applicable"].as_array_mut() {
        marks.retain(|c| c != code);
    }
}

/// The cohort as verified: every decision of `decisions` (the decisions file's format)
/// applied to `cohort`; acceptances change nothing.
pub fn apply_decisions(cohort: &Value, decisions: &Value) -> Value {
    let mut verified = cohort.clone();
    for (unit, entry) in decisions["units"].as_object().expect("units") {
        for (code, decision) in entry["indicators"].as_object().expect("indicators") {
            match (decision["decision"].as_str(), decision.get("values")) {
                (Some("adjust"), Some(values)) => {
                    set_values(&mut verified, unit, code, values.clone());
                }
                (Some("adjust"), None) => {
                    let unit = unit_mut(&mut verified, unit);
                    if let Some(values) = unit["values"].as_object_mut() {
                        values.remove(code);
                    }
                    match unit["not_applicable"].as_array_mut() {
                        Some(marks) => marks.push(json!(code)),
                        None => unit["not_applicable"] = json!([code]),
                    }
                }
                (Some("evidence_insufficient"), _) => {
                    let unit = unit_mut(&mut verified, unit);
                    if let Some(values) = unit["values"].as_object_mut() {
                        values.remove(code);
                    }
                    if let Some(marks) = unit["not_applicable"].as_array_mut() {
                        marks.retain(|c| c != code);
                    }
                }
                _ => {}
            }
        }
    }
    verified
}

/// Writes `document` to a file in `dir`; its path.
pub fn write_json(dir: &tempfile::TempDir, name: &str, document: &Value) -> String {
    let path = dir.path().join(name);
    std::fs::write(&path, serde_json::to_string_pretty(document).expect("JSON")).expect("write");
    path.to_string_lossy().into_owned()
}

/// Each unit's total (two decimals) and rank as `dtictl score` computes them for `cohort`.
pub async fn engine_totals(
    stack: &Stack,
    dir: &tempfile::TempDir,
    cohort: &Value,
) -> BTreeMap<String, (String, u64)> {
    let path = write_json(dir, "verified-cohort.json", cohort);
    let scored: Value =
        serde_json::from_str(&stack.ok(&["score", "--input", &path]).await).expect("JSON");
    scored["units"]
        .as_array()
        .expect("units")
        .iter()
        .map(|u| {
            (
                u["unit"].as_str().expect("unit").to_owned(),
                (
                    u["total"].as_str().expect("total").to_owned(),
                    u["rank"].as_u64().expect("rank"),
                ),
            )
        })
        .collect()
}

/// Brings a closed round with submissions to `verified` through dtictl: started, the sample
/// decisions and every other indicator accepted, each submission and the round completed.
pub async fn verified_round(stack: &Stack) {
    stack.ok(&with_round(&["verify", "start"])).await;
    let decisions = repo_file("deploy/samples/hcm-2023-districts-decisions.json");
    stack
        .ok(&with_round(&["verify", "decide", "--file", &decisions]))
        .await;
    stack
        .ok(&with_round(&["verify", "decide", "--all-accept"]))
        .await;
    stack
        .ok(&with_round(&["verify", "complete", "--all"]))
        .await;
    stack.ok(&with_round(&["verify", "complete-round"])).await;
}

/// Opens the round, submits the sample cohort and closes the round (as the operator and the
/// units would).
pub async fn submitted_round(stack: &Stack) {
    stack.open_round().await;
    let submitted = stack.submit_sample().await;
    assert_eq!(submitted.matches("submitted version 1").count(), 22);
    stack.ok(&with_round(&["round", "close"])).await;
}
