//! `dtictl owner …` and `dtictl sync plan|start|status|log` against the whole platform in
//! process: the data owners submit the sample Appendix III values, the operator looks at
//! completeness and the dry run, pushes to the reference national receiver and follows the
//! run; the receiver then holds exactly what the owners submitted, and a second sync pushes
//! nothing. Bad files exit 2 naming department, item and field; wrong roles exit 4.

mod support;

use std::collections::BTreeMap;

use dti_auth::Role;
use serde_json::Value;
use support::{repo_file, text, Stack};

const SAMPLE: &str = "deploy/samples/hcm-2023-owner-values.json";

/// What the receiver has accepted: (kind, code) → value.
async fn received(stack: &Stack) -> anyhow::Result<BTreeMap<(String, String), Value>> {
    let state: dti_national_receiver::ReceiverState = reqwest::Client::new()
        .get(format!("{}/control/state", stack.receiver_url))
        .send()
        .await?
        .error_for_status()?
        .json()
        .await?;
    Ok(state
        .accepted
        .into_iter()
        .map(|push| ((push.kind, push.code), push.value))
        .collect())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn owners_submit_and_the_year_is_synced_once() -> anyhow::Result<()> {
    let stack = Stack::start().await?;
    let sample = repo_file(SAMPLE);
    let file: Value = serde_json::from_str(&std::fs::read_to_string(&sample)?)?;
    let owners = file["owners"].as_object().expect("owners");

    let submitted = stack.ok(&["owner", "submit", "--file", &sample]).await;
    assert_eq!(submitted.lines().count(), owners.len(), "{submitted}");
    // Submitting the same file again changes nothing.
    let again = stack.json(&["owner", "submit", "--file", &sample]).await;
    for (department, response) in again.as_object().expect("per department") {
        assert_eq!(response.get("changed"), None, "{department}: {response}");
    }

    let shown = stack
        .json(&[
            "owner",
            "show",
            "--year",
            "2023",
            "--department",
            "cuc-thue",
        ])
        .await;
    let parts = shown["parts"].as_array().expect("parts");
    assert_eq!(parts.len(), 1, "{shown}");
    assert_eq!(parts[0]["item"]["code"], "7.7");
    assert!(shown.get("missing").is_none(), "{shown}");

    let completeness = stack
        .json(&["owner", "completeness", "--year", "2023"])
        .await;
    assert!(completeness.get("missing").is_none(), "{completeness}");
    let items = completeness["items"].as_array().expect("items").len();
    assert_eq!(completeness["complete"], Value::from(items));
    let table = stack.ok(&["owner", "completeness", "--year", "2023"]).await;
    assert!(
        table.contains("Cục Thuế") || table.contains("cuc-thue"),
        "{table}"
    );

    let plan = stack.json(&["sync", "plan", "--year", "2023"]).await;
    assert_eq!(plan["toPush"], Value::from(items), "{plan}");
    let digest = plan["planDigest"].as_str().expect("digest").to_owned();

    // Only an operator (or the sync job) may push; a data owner may not.
    let owner = stack.department_token("so-tttt");
    let denied = stack
        .dtictl_with(
            &["sync", "start", "--year", "2023"],
            &[("DTI_TOKEN", &owner)],
        )
        .await;
    assert_eq!(denied.status.code(), Some(4), "{}", text(&denied.stderr));

    let run = stack
        .json(&[
            "sync",
            "start",
            "--year",
            "2023",
            "--plan-digest",
            &digest,
            "--wait",
            "--wait-secs",
            "120",
        ])
        .await;
    assert_eq!(run["accepted"], Value::from(items), "{run}");
    assert!(run.get("pending").is_none(), "{run}");
    let run_id = run["runId"].as_str().expect("run id").to_owned();

    // The receiver holds exactly what the owners submitted.
    let received = received(&stack).await?;
    assert_eq!(received.len(), items);
    for (department, part) in owners {
        for (key, value) in part["general_info"].as_object().expect("general info") {
            let got = &received[&("general_info".to_owned(), key.clone())];
            assert_eq!(got, value, "{department} {key}: {got}");
        }
    }
    let single = &received[&("indicator".to_owned(), "7.7".to_owned())];
    let numerator = owners["cuc-thue"]["indicators"]["7.7"]["numerator"].to_string();
    assert!(
        single.to_string().contains(&numerator),
        "7.7 as pushed: {single}"
    );

    let status = stack.json(&["sync", "status", "--run-id", &run_id]).await;
    assert_eq!(status["accepted"], Value::from(items));
    let log = stack
        .json(&[
            "sync", "log", "--year", "2023", "--run-id", &run_id, "--limit", "1000",
        ])
        .await;
    let accepted = log["entries"]
        .as_array()
        .expect("entries")
        .iter()
        .filter(|entry| entry["event"] == "PUSH_EVENT_ACCEPTED")
        .count();
    // The log records one acceptance per owner's part (multi-owner items have several).
    let parts: usize = owners
        .values()
        .map(|part| {
            part["indicators"].as_object().map_or(0, |m| m.len())
                + part["general_info"].as_object().map_or(0, |m| m.len())
        })
        .sum();
    assert_eq!(accepted, parts, "one acceptance per owner's part");

    // A second sync finds nothing to push.
    let plan = stack.json(&["sync", "plan", "--year", "2023"]).await;
    assert!(plan.get("toPush").is_none(), "{plan}");
    let human = stack.ok(&["sync", "plan", "--year", "2023"]).await;
    assert!(human.contains("0 of"), "{human}");

    // Bad input: a year outside the set, an unknown run.
    let bad = stack.dtictl(&["sync", "plan", "--year", "1999"]).await;
    assert_eq!(bad.status.code(), Some(2), "{}", text(&bad.stderr));
    let bad = stack
        .dtictl(&["sync", "status", "--run-id", "not-a-run"])
        .await;
    assert_eq!(bad.status.code(), Some(2), "{}", text(&bad.stderr));
    assert!(
        text(&bad.stderr).contains("run_id"),
        "{}",
        text(&bad.stderr)
    );

    stack.stop().await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_owner_files_and_other_departments_are_refused() -> anyhow::Result<()> {
    let stack = Stack::start().await?;
    let mut file: Value = serde_json::from_str(&std::fs::read_to_string(repo_file(SAMPLE))?)?;
    file["owners"]["so-tttt"]["indicators"]["7.7"] = serde_json::json!({"numerator": 1});
    file["owners"]["cuc-thue"]["indicators"]["7.7"]["numerator"] = Value::from("many");
    file["owners"]["so-khong-co"] = serde_json::json!({});
    file["owners"]["cuc-thong-ke"]["general_info"]["population"] = Value::from(-5);
    let dir = tempfile::tempdir()?;
    let path = dir.path().join("owners.json");
    std::fs::write(&path, file.to_string())?;
    let path = path.to_string_lossy().into_owned();

    let out = stack.dtictl(&["owner", "submit", "--file", &path]).await;
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    let stderr = text(&out.stderr);
    for expected in [
        "department so-tttt / indicator 7.7: owned by cuc-thue",
        "cuc-thue, indicator 7.7, variable numerator",
        "department so-khong-co: owns no item",
        "department cuc-thong-ke / general information population / value",
    ] {
        assert!(stderr.contains(expected), "{expected:?} in {stderr}");
    }
    // Nothing was sent: no department has a stored part.
    let stored: i64 = sqlx::query_scalar("SELECT count(*) FROM national_owner_parts")
        .fetch_one(stack.backends.db.pool())
        .await?;
    assert_eq!(stored, 0);

    // A data owner reads only its own department.
    let other = stack.department_token("cuc-thue");
    let denied = stack
        .dtictl_with(
            &["owner", "show", "--year", "2023", "--department", "so-tttt"],
            &[("DTI_TOKEN", &other)],
        )
        .await;
    assert_eq!(denied.status.code(), Some(4), "{}", text(&denied.stderr));
    // A unit submitter may not see completeness.
    let unit = stack.unit_token("quan-1");
    let denied = stack
        .dtictl_with(
            &["owner", "completeness", "--year", "2023"],
            &[("DTI_TOKEN", &unit)],
        )
        .await;
    assert_eq!(denied.status.code(), Some(4), "{}", text(&denied.stderr));
    // A verifier may not submit owners' values.
    let verifier = stack.token(Role::Verifier);
    let denied = stack
        .dtictl_with(
            &[
                "owner",
                "submit",
                "--file",
                &repo_file(SAMPLE),
                "--department",
                "cuc-thue",
            ],
            &[("DTI_TOKEN", &verifier)],
        )
        .await;
    assert_eq!(denied.status.code(), Some(4), "{}", text(&denied.stderr));
    stack.stop().await
}
