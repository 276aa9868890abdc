//! `dtictl owner …` and `dtictl sync plan|start|status|log` against the whole platform in
//! process: the data owners submit the sample Appendix III values, the operator looks at
//! completeness and the dry run, pushes to the reference national receiver and follows the
//! run; the receiver then holds exactly what the owners submitted, and a second sync pushes
//! nothing. Every owner and sync subcommand's bad input exits 2 naming the field (a bad file
//! names department, item and field), and its wrong role exits 4.

mod support;

use std::collections::BTreeMap;

use dti_auth::Role;
use serde_json::Value;
use support::{bad_input, repo_file, wrong_role, Stack};

const SAMPLE: &str = "deploy/samples/hcm-2023-owner-values.json";

/// What the receiver has accepted: (kind, code) → value.
async fn received(stack: &Stack) -> anyhow::Result<BTreeMap<(String, String), Value>> {
    let state: dti_national_receiver::ReceiverState = reqwest::Client::new()
        .get(format!("{}/control/state", stack.receiver_url))
        .bearer_auth(support::RECEIVER_CONTROL_TOKEN)
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

    stack.stop().await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn owner_and_sync_commands_name_bad_input_and_refuse_the_wrong_role() -> anyhow::Result<()> {
    let stack = Stack::start().await?;
    let sample = repo_file(SAMPLE);
    let mut file: Value = serde_json::from_str(&std::fs::read_to_string(&sample)?)?;
    file["owners"]["so-tttt"]["indicators"]["7.7"] = serde_json::json!({"numerator": 1});
    file["owners"]["cuc-thue"]["indicators"]["7.7"]["numerator"] = Value::from("many");
    file["owners"]["so-khong-co"] = serde_json::json!({});
    file["owners"]["cuc-thong-ke"]["general_info"]["population"] = Value::from(-5);
    let dir = tempfile::tempdir()?;
    let path = dir.path().join("owners.json");
    std::fs::write(&path, file.to_string())?;
    let path = path.to_string_lossy().into_owned();

    // owner submit: the whole file is checked (department, item and field named), nothing sent;
    // a department the file does not hold; a verifier may not submit owners' values.
    let verifier = stack.token(Role::Verifier);
    let cuc_thue = [
        "owner",
        "submit",
        "--file",
        &sample,
        "--department",
        "cuc-thue",
    ];
    stack
        .refuses([
            bad_input(
                vec!["owner", "submit", "--file", &path],
                &[
                    "department so-tttt / indicator 7.7: owned by cuc-thue",
                    "cuc-thue, indicator 7.7, variable numerator",
                    "department so-khong-co: owns no item",
                    "department cuc-thong-ke / general information population / value",
                ],
            ),
            bad_input(
                vec![
                    "owner",
                    "submit",
                    "--file",
                    &sample,
                    "--department",
                    "so-khong-co",
                ],
                &["--department so-khong-co"],
            ),
            wrong_role(cuc_thue.to_vec(), &verifier),
        ])
        .await;
    // Nothing was sent: no department has a stored part.
    let stored: i64 = sqlx::query_scalar("SELECT count(*) FROM national_owner_parts")
        .fetch_one(stack.backends.db.pool())
        .await?;
    assert_eq!(stored, 0);

    // owner show and completeness: years outside 2000–2100 or before the national set's
    // (2022), a department that owns nothing; a data owner reads only its own department, and
    // a unit submitter none.
    let other = stack.department_token("cuc-thue");
    let unit = stack.unit_token("quan-1");
    let show = |year| vec!["owner", "show", "--year", year, "--department", "cuc-thue"];
    let completeness = |year| vec!["owner", "completeness", "--year", year];
    let mut nowhere = completeness("2023");
    nowhere.extend(["--department", "so-khong-co"]);
    let so_tttt = vec!["owner", "show", "--year", "2023", "--department", "so-tttt"];
    stack
        .refuses([
            bad_input(
                show("1999"),
                &["year: must be a year between 2000 and 2100"],
            ),
            bad_input(
                show("2021"),
                &["year: the national set mic-2022-province applies from 2022"],
            ),
            wrong_role(so_tttt, &other),
            wrong_role(show("2023"), &unit),
            bad_input(
                completeness("2101"),
                &["year: must be a year between 2000 and 2100"],
            ),
            bad_input(nowhere, &["department_id: so-khong-co owns no item"]),
            wrong_role(completeness("2023"), &unit),
        ])
        .await;

    // sync plan and start: only an operator (or the sync job) may plan and push; a start
    // needs the plan's digest.
    let owner = stack.department_token("so-tttt");
    let plan = |year| vec!["sync", "plan", "--year", year];
    let start = |digest| vec!["sync", "start", "--year", "2023", "--plan-digest", digest];
    stack
        .refuses([
            bad_input(
                plan("1999"),
                &["year: must be a year between 2000 and 2100"],
            ),
            wrong_role(plan("2023"), &verifier),
            wrong_role(plan("2023"), &owner),
            bad_input(start(" "), &["plan_digest: required"]),
            bad_input(
                vec!["sync", "start", "--year", "2021", "--plan-digest", "d"],
                &["year: the national set mic-2022-province applies from 2022"],
            ),
            wrong_role(vec!["sync", "start", "--year", "2023"], &owner),
            wrong_role(start("d"), &verifier),
        ])
        .await;

    // sync status and log: a run id that is not a UUID, a run that does not exist, a limit
    // above 5000; a data owner may not read a run, a unit submitter or an approver no log.
    let unknown = "00000000-0000-4000-8000-000000000000";
    let status = |run| vec!["sync", "status", "--run-id", run];
    let log = |extra: &[&'static str]| [&["sync", "log", "--year", "2023"][..], extra].concat();
    let approver = stack.token(Role::Approver);
    stack
        .refuses([
            bad_input(status("not-a-run"), &["run_id"]),
            bad_input(status(unknown), &[unknown]),
            wrong_role(status(unknown), &owner),
            wrong_role(status(unknown), &unit),
            bad_input(log(&["--limit", "5001"]), &["limit: must be at most 5000"]),
            bad_input(log(&["--run-id", "run-7"]), &["run_id"]),
            bad_input(
                vec!["sync", "log", "--year", "1999"],
                &["year: must be a year between 2000 and 2100"],
            ),
            wrong_role(log(&[]), &unit),
            wrong_role(log(&[]), &approver),
        ])
        .await;
    stack.stop().await
}
