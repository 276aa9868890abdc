//! `dtictl verify …` against the whole platform running in-process: a verifier verifies the
//! sample round from the sample decisions file (adjustments, insufficient evidence, the rest
//! accepted), asks a unit for clarification, the unit resubmits, and the round is verified —
//! every verified total the engine's over the verified inputs (`dtictl score`). Then every
//! subcommand's bad input (exit 2, naming the field) and wrong role (exit 4).

mod review_support;
mod support;

use dti_auth::Role;
use review_support::{
    apply_decisions, engine_totals, sample_cohort, sample_decisions, set_values, submitted_round,
    write_json,
};
use serde_json::{json, Value};
use support::{bad_input, repo_file, with_round, wrong_role, Stack};

fn states(listed: &Value) -> Vec<(String, String)> {
    listed["submissions"]
        .as_array()
        .map(|list| {
            list.iter()
                .map(|s| {
                    (
                        s["unit"]["unitId"].as_str().unwrap_or("").to_owned(),
                        s["state"].as_str().unwrap_or("").to_owned(),
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

fn row<'a>(shown: &'a Value, code: &str) -> &'a Value {
    shown["sideBySide"]["rows"]
        .as_array()
        .and_then(|rows| rows.iter().find(|r| r["indicatorCode"] == code))
        .expect("a row per indicator")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_verifier_verifies_the_sample_round_from_the_decisions_file() -> anyhow::Result<()> {
    let stack = Stack::start().await?;
    let dir = tempfile::tempdir()?;
    submitted_round(&stack).await;

    let listed = stack.json(&with_round(&["verify", "list"])).await;
    assert_eq!(states(&listed).len(), 22, "{listed}");
    assert!(states(&listed).iter().all(|(_, s)| s == "submitted"));
    let started = stack.ok(&with_round(&["verify", "start"])).await;
    assert!(started.contains(": under_verification"), "{started}");

    let decisions_file = repo_file("deploy/samples/hcm-2023-districts-decisions.json");
    let decide_file = with_round(&["verify", "decide", "--file", &decisions_file]);
    let decided = stack.json(&decide_file).await;
    let units = decided["units"].as_array().expect("units");
    let decided_units: Vec<&str> = units.iter().filter_map(|u| u["unitId"].as_str()).collect();
    assert_eq!(decided_units, ["quan-1", "binh-tan", "go-vap"], "{decided}");
    for unit in units {
        // The file's decisions and, as the file says accept_rest, every other indicator.
        assert_eq!(unit["sent"], 51, "{unit}");
        assert_eq!(unit["version"], 1, "{unit}");
        let changed = unit["response"]["changedIndicatorCodes"].as_array();
        assert_eq!(changed.map(Vec::len), Some(51), "{unit}");
    }
    // Sending the file again records nothing new.
    let again = stack.json(&decide_file).await;
    for unit in again["units"].as_array().expect("units") {
        let changed = unit["response"]["changedIndicatorCodes"].as_array();
        assert_eq!(changed.map_or(0, Vec::len), 0, "{unit}");
        let id = unit["unitId"].as_str().expect("unit id");
        let in_file = sample_decisions()["units"][id]["indicators"]
            .as_object()
            .map(|indicators| indicators.len());
        assert_eq!(
            unit["sent"].as_u64(),
            in_file.map(|n| n as u64),
            "the rest is decided already: {unit}"
        );
    }

    let shown = stack
        .json(&with_round(&["verify", "show", "--unit", "quan-1"]))
        .await;
    let minutes = row(&shown, "1.2");
    assert_eq!(minutes["decision"], "DECISION_KIND_OVERRIDDEN", "{minutes}");
    assert_eq!(
        minutes["verifiedValue"]["values"]["variables"]["a"]["count"], "98",
        "{minutes}"
    );
    assert_eq!(
        row(&shown, "2.4")["decision"],
        "DECISION_KIND_EVIDENCE_INSUFFICIENT"
    );
    assert_eq!(row(&shown, "1.1")["decision"], "DECISION_KIND_ACCEPTED");
    let human = stack
        .ok(&with_round(&["verify", "show", "--unit", "quan-1"]))
        .await;
    assert!(human.contains("Quận 1"), "{human}");
    assert!(human.contains("a=98 b=264"), "{human}");
    assert!(human.contains("overridden"), "{human}");

    // quan-3: one acceptance in a file and --accept-rest accept its every indicator; then it
    // is asked about 5.1, and accepting the whole round leaves it alone.
    let one = write_json(
        &dir,
        "quan-3-decisions.json",
        &json!({"units": {"quan-3": {"indicators": {"1.1": {"decision": "accept"}}}}}),
    );
    let decided = stack
        .json(&with_round(&[
            "verify",
            "decide",
            "--file",
            &one,
            "--accept-rest",
        ]))
        .await;
    assert_eq!(decided["units"][0]["sent"], 51, "{decided}");
    let asked = stack
        .json(&with_round(&[
            "verify",
            "clarify",
            "--unit",
            "quan-3",
            "--indicator",
            "5.1",
            "--question",
            "Xin gửi quyết định phê duyệt cấp độ của từng hệ thống.",
        ]))
        .await;
    assert_eq!(asked["state"], "clarification_requested", "{asked}");
    let accepted = stack
        .json(&with_round(&["verify", "decide", "--all-accept"]))
        .await;
    let accepted_units: Vec<&str> = accepted["units"]
        .as_array()
        .expect("units")
        .iter()
        .filter_map(|u| u["unitId"].as_str())
        .collect();
    assert_eq!(accepted_units.len(), 18, "{accepted}");
    assert!(accepted_units.contains(&"thu-duc"), "{accepted}");
    assert!(!accepted_units.contains(&"quan-3"), "{accepted}");
    assert!(!accepted_units.contains(&"quan-1"), "all decided already");
    let blocked = (stack.exits(&with_round(&["verify", "complete-round"]), None, 3)).await;
    assert!(blocked.contains("quan-3"), "{blocked}");

    // quan-3 answers with a new version (one more approved system).
    let mut cohort = sample_cohort();
    let quan_3 = cohort["units"]
        .as_array()
        .and_then(|units| units.iter().find(|u| u["unit"] == "quan-3"))
        .cloned()
        .expect("quan-3");
    let systems = quan_3["values"]["5.1"]["a"].as_u64().expect("5.1 a") + 1;
    set_values(&mut cohort, "quan-3", "5.1", json!({"a": systems}));
    let answer = write_json(
        &dir,
        "quan-3.json",
        &json!({"framework": "hcm-2023-district", "units": [
            cohort["units"].as_array().and_then(|u| u.iter().find(|u| u["unit"] == "quan-3"))
        ]}),
    );
    let resubmitted = stack
        .ok(&[
            "submit", "--year", "2023", "--input", &answer, "--unit", "quan-3",
        ])
        .await;
    assert!(
        resubmitted.contains("quan-3: submitted version 2"),
        "{resubmitted}"
    );
    let changes = stack
        .ok(&with_round(&["verify", "show", "--unit", "quan-3"]))
        .await;
    assert!(changes.contains("changes since version 1"), "{changes}");
    assert!(changes.contains("5.1 changed"), "{changes}");
    assert!(changes.contains("Xin gửi quyết định"), "{changes}");

    let accepted = stack
        .json(&with_round(&["verify", "decide", "--all-accept"]))
        .await;
    assert_eq!(accepted["units"][0]["unitId"], "quan-3", "{accepted}");
    assert_eq!(
        accepted["units"][0]["sent"], 1,
        "only the changed 5.1: {accepted}"
    );
    assert_eq!(accepted["units"][0]["version"], 2, "{accepted}");
    let completed = stack
        .json(&with_round(&["verify", "complete", "--all"]))
        .await;
    assert_eq!(
        completed["submissions"].as_array().map(Vec::len),
        Some(22),
        "{completed}"
    );
    let verified = stack
        .json(&with_round(&["verify", "list", "--state", "verified"]))
        .await;
    assert_eq!(states(&verified).len(), 22, "{verified}");
    let done = stack.ok(&with_round(&["verify", "complete-round"])).await;
    assert!(done.contains(": verified"), "{done}");

    // Every verified total is the engine's over the verified inputs.
    let expected =
        engine_totals(&stack, &dir, &apply_decisions(&cohort, &sample_decisions())).await;
    for unit in ["quan-1", "binh-tan", "go-vap", "quan-3", "thu-duc"] {
        let shown = stack
            .json(&with_round(&["verify", "show", "--unit", unit]))
            .await;
        assert_eq!(
            shown["sideBySide"]["verifiedTotal"].as_str(),
            Some(expected[unit].0.as_str()),
            "{unit}"
        );
    }
    stack.stop().await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn verify_commands_name_bad_input_and_refuse_the_wrong_role() -> anyhow::Result<()> {
    let stack = Stack::start().await?;
    let dir = tempfile::tempdir()?;
    submitted_round(&stack).await;
    let unit = stack.unit_token("quan-1");
    let approver = stack.token(Role::Approver);

    // show before the round's verification has started: the side-by-side view alone.
    let before = stack
        .json(&with_round(&["verify", "show", "--unit", "quan-1"]))
        .await;
    assert_eq!(before["sideBySide"]["state"], "submitted", "{before}");
    assert!(before["review"].is_null(), "not opened: {before}");

    // start
    let no_such = ["--year", "2023", "--framework", "no-such"];
    let start = with_round(&["verify", "start"]);
    stack
        .refuses([
            bad_input(
                [&["verify", "start"][..], &no_such].concat(),
                &["--framework"],
            ),
            wrong_role(start.clone(), &approver),
        ])
        .await;
    stack.ok(&start).await;
    stack.exits(&start, None, 3).await;

    // list and show
    stack
        .refuses([
            bad_input(
                with_round(&["verify", "list", "--state", "lost"]),
                &["--state"],
            ),
            wrong_role(with_round(&["verify", "list"]), &unit),
            bad_input(
                with_round(&["verify", "show", "--unit", "quan-99"]),
                &["--unit"],
            ),
            wrong_role(with_round(&["verify", "show", "--unit", "quan-1"]), &unit),
        ])
        .await;

    // decide: every problem of the file at once, nothing sent.
    let broken = json!({
        "round": {"year": 2023, "framework": "hcm-2023-district"},
        "units": {
            "quan-1": {"indicators": {
                "6.13": {"decision": "adjust", "values": {"a": 10, "z": 3}, "reason": "recount"},
                "2.4": {"decision": "evidence_insufficient"},
                "99.1": {"decision": "accept"}
            }},
            "quan-99": {"indicators": {"1.1": {"decision": "accept"}}}
        }
    });
    let broken = write_json(&dir, "broken.json", &broken);
    // A unit of the registry outside the round's cohort (a department).
    let unknown_unit =
        json!({"units": {"so-tttt": {"indicators": {"1.1": {"decision": "accept"}}}}});
    let unknown = write_json(&dir, "unknown.json", &unknown_unit);
    let decide = |file| with_round(&["verify", "decide", "--file", file]);
    stack
        .refuses([
            bad_input(
                decide(&broken),
                &[
                    "unit quan-1, indicator 6.13, variable z",
                    "unit quan-1 / indicator 2.4 / reason",
                    "unit quan-1 / indicator 99.1",
                    "unit quan-99",
                ],
            ),
            bad_input(decide(&unknown), &["unit so-tttt"]),
        ])
        .await;
    let listed = stack.json(&with_round(&["verify", "list"])).await;
    assert!(
        states(&listed).iter().all(|(_, s)| s == "submitted"),
        "nothing was opened or decided: {listed}"
    );
    let sample = repo_file("deploy/samples/hcm-2023-districts-decisions.json");
    stack
        .refuses([
            wrong_role(decide(&sample), &unit),
            wrong_role(with_round(&["verify", "decide", "--all-accept"]), &approver),
        ])
        .await;

    // clarify
    let clarify = |indicator, question| {
        let mut args = with_round(&["verify", "clarify", "--unit", "quan-1"]);
        args.extend(["--indicator", indicator, "--question", question]);
        args
    };
    stack
        .refuses([
            bad_input(clarify("77.7", " "), &["--indicator", "--question"]),
            wrong_role(clarify("1.2", "Why?"), &approver),
        ])
        .await;

    // complete
    stack
        .refuses([
            bad_input(
                with_round(&["verify", "complete", "--unit", "no-such"]),
                &["--unit"],
            ),
            wrong_role(with_round(&["verify", "complete", "--all"]), &unit),
        ])
        .await;
    let undecided = with_round(&["verify", "complete", "--unit", "quan-1"]);
    let undecided = stack.exits(&undecided, None, 3).await;
    assert!(undecided.contains("quan-1"), "{undecided}");

    // complete-round
    let nope = ["--year", "2023", "--framework", "nope"];
    stack
        .refuses([
            bad_input(
                [&["verify", "complete-round"][..], &nope].concat(),
                &["--framework"],
            ),
            wrong_role(with_round(&["verify", "complete-round"]), &unit),
        ])
        .await;
    stack.stop().await
}
