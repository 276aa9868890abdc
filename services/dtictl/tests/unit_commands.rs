//! `dtictl draft show|set|not-applicable|clear|submit|versions` against the whole platform
//! running in-process: a unit fills in its draft from the sample cohort, marks and clears an
//! indicator, submits (a retry returns the same version) and lists its versions; bad input
//! exits 2 naming the unit, indicator and variable, and another unit or role exits 4.

mod support;

use dti_auth::Role;
use serde_json::{json, Value};
use support::{repo_file, Stack, ROUND, SAMPLE};

const UNIT: &str = "quan-1";

/// `draft <command> <args> --year 2023 --framework hcm-2023-district --unit quan-1`.
fn draft<'a>(command: &'a str, args: &[&'a str]) -> Vec<&'a str> {
    let mut line = vec!["draft", command];
    line.extend_from_slice(args);
    line.extend(ROUND);
    line.extend(["--unit", UNIT]);
    line
}

/// The sample cohort's entry of `unit`.
fn sample_unit(unit: &str) -> anyhow::Result<Value> {
    let text = std::fs::read_to_string(repo_file(SAMPLE))?;
    let cohort: Value = serde_json::from_str(&text)?;
    cohort["units"]
        .as_array()
        .and_then(|units| units.iter().find(|u| u["unit"] == unit))
        .cloned()
        .ok_or_else(|| anyhow::anyhow!("unit {unit} is not in the sample"))
}

/// The indicator codes of a submission's (or version's) values, sorted.
fn codes(message: &Value, field: &str) -> Vec<String> {
    let mut codes: Vec<String> = message[field]
        .as_array()
        .map(|items| {
            items
                .iter()
                .filter_map(|item| item["indicatorCode"].as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default();
    codes.sort();
    codes
}

/// Sorted keys of a JSON object.
fn keys(object: &Value) -> Vec<String> {
    let mut keys: Vec<String> = object
        .as_object()
        .map(|o| o.keys().cloned().collect())
        .unwrap_or_default();
    keys.sort();
    keys
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_unit_fills_in_marks_clears_submits_and_lists_its_draft() -> anyhow::Result<()> {
    let stack = Stack::start().await?;
    stack.open_round().await;
    let dir = tempfile::tempdir()?;
    let sample = repo_file(SAMPLE);
    let expected = sample_unit(UNIT)?;

    // No draft yet: showing it is a request for something that does not exist (2).
    stack.exits(&draft("show", &[]), None, 2).await;

    // A cohort file with --unit choosing the unit.
    let set = stack.json(&draft("set", &["--file", &sample])).await;
    assert_eq!(set["state"], "SUBMISSION_STATE_DRAFT", "{set}");
    assert_eq!(codes(&set, "values"), keys(&expected["values"]), "{set}");
    assert_eq!(
        codes(&set, "notApplicable"),
        expected["not_applicable"]
            .as_array()
            .map(|a| a
                .iter()
                .filter_map(|c| c.as_str().map(str::to_owned))
                .collect::<Vec<_>>())
            .unwrap_or_default()
    );
    let a = &set["values"]
        .as_array()
        .and_then(|v| v.iter().find(|i| i["indicatorCode"] == "1.2"))
        .expect("1.2 is set")["variables"]["a"]["count"];
    assert_eq!(
        a,
        &json!(expected["values"]["1.2"]["a"].to_string()),
        "{set}"
    );

    // The human view names the unit and its indicators in Vietnamese.
    let shown = stack.ok(&draft("show", &[])).await;
    assert!(shown.contains("Quận 1"), "{shown}");
    assert!(shown.contains("draft, latest version 0"), "{shown}");
    let catalog = dti_domain::FrameworkCatalog::builtin()?;
    let framework = catalog.get_str("hcm-2023-district").expect("framework");
    let name = &framework.indicator_by_str("1.2").expect("1.2").name;
    // Long names are cut to fit a table column; their beginning is shown.
    let beginning: String = name.chars().take(40).collect();
    assert!(shown.contains(&beginning), "{shown}");

    // A unit file with three problems: every one is listed, naming unit, indicator and
    // variable, and nothing is stored.
    let bad = dir.path().join("bad.json");
    std::fs::write(
        &bad,
        json!({"unit": UNIT, "values": {
            "9.9": {"a": 1},
            "1.2": {"a": -1, "zz": 3, "b": 10}
        }})
        .to_string(),
    )?;
    let bad = bad.to_string_lossy().into_owned();
    let stderr = stack.exits(&draft("set", &["--file", &bad]), None, 2).await;
    for problem in [
        "unit quan-1, indicator 9.9",
        "unit quan-1, indicator 1.2, variable a",
        "unit quan-1, indicator 1.2, variable zz",
    ] {
        assert!(stderr.contains(problem), "{problem} missing in: {stderr}");
    }
    // A file of another unit, and a missing file, are refused before any call.
    let other = dir.path().join("other.json");
    std::fs::write(&other, sample_unit("quan-3")?.to_string())?;
    let other = other.to_string_lossy().into_owned();
    let stderr = stack
        .exits(&draft("set", &["--file", &other]), None, 2)
        .await;
    assert!(stderr.contains("unit quan-3"), "{stderr}");
    stack
        .exits(&draft("set", &["--file", "/no/such/file.json"]), None, 2)
        .await;
    // A cohort file of another framework is not this round's.
    let departments = repo_file("deploy/samples/hcm-2023-departments.json");
    let stderr = stack
        .exits(&draft("set", &["--file", &departments]), None, 2)
        .await;
    assert!(stderr.contains("hcm-2023-department"), "{stderr}");
    let unchanged = stack.json(&draft("show", &[])).await;
    assert_eq!(unchanged["values"], set["values"]);

    // Not applicable and clear, with their bad inputs.
    let marked = stack
        .json(&draft(
            "not-applicable",
            &["--indicator", "6.13", "--reason", "no online dossiers"],
        ))
        .await;
    assert!(
        codes(&marked, "notApplicable").contains(&"6.13".to_owned()),
        "{marked}"
    );
    assert!(
        !codes(&marked, "values").contains(&"6.13".to_owned()),
        "{marked}"
    );
    let stderr = stack
        .exits(
            &draft("not-applicable", &["--indicator", "99.1", "--reason", "  "]),
            None,
            2,
        )
        .await;
    assert!(stderr.contains("indicator 99.1"), "{stderr}");
    assert!(stderr.contains("--reason"), "{stderr}");
    let cleared = stack.json(&draft("clear", &["--indicator", "6.13"])).await;
    assert!(
        !codes(&cleared, "notApplicable").contains(&"6.13".to_owned()),
        "{cleared}"
    );
    let stderr = stack
        .exits(&draft("clear", &["--indicator", "6"]), None, 2)
        .await;
    assert!(stderr.contains("indicator 6"), "{stderr}");
    // Put 6.13 back as the sample has it.
    stack.ok(&draft("set", &["--file", &sample])).await;

    // Another unit's submitter, and a verifier, may not touch quan-1's draft (4).
    let quan_3 = stack.unit_token("quan-3");
    let verifier = stack.token(Role::Verifier);
    for args in [
        draft("show", &[]),
        draft("set", &["--file", &sample]),
        draft("not-applicable", &["--indicator", "1.3", "--reason", "x"]),
        draft("clear", &["--indicator", "1.3"]),
        draft("submit", &[]),
        draft("versions", &[]),
    ] {
        stack.exits(&args, Some(&quan_3), 4).await;
    }
    stack
        .exits(&draft("set", &["--file", &sample]), Some(&verifier), 4)
        .await;
    stack.exits(&draft("submit", &[]), Some(&verifier), 4).await;

    // Submit; a retry of the same draft returns the same version.
    let submitted = stack.ok(&draft("submit", &[])).await;
    assert!(submitted.contains("submitted version 1"), "{submitted}");
    let again = stack.json(&draft("submit", &[])).await;
    assert_eq!(again["version"], 1, "{again}");
    assert_eq!(again["submission"]["state"], "SUBMISSION_STATE_SUBMITTED");
    // An explicit empty request id is the service's to refuse, naming the field (2).
    let stderr = stack
        .exits(&draft("submit", &["--request-id", ""]), None, 2)
        .await;
    assert!(stderr.contains("client_request_id"), "{stderr}");

    // An edit after submitting makes a draft again; submitting it creates version 2.
    stack
        .ok(&draft(
            "not-applicable",
            &["--indicator", "8.3", "--reason", "no survey this year"],
        ))
        .await;
    let second = stack.json(&draft("submit", &[])).await;
    assert_eq!(second["version"], 2, "{second}");

    let versions = stack.json(&draft("versions", &[])).await;
    let listed = versions["versions"].as_array().cloned().unwrap_or_default();
    assert_eq!(listed.len(), 2, "{versions}");
    assert_eq!(codes(&listed[0], "values"), keys(&expected["values"]));
    assert!(codes(&listed[1], "notApplicable").contains(&"8.3".to_owned()));
    assert_eq!(listed[0]["submittedBy"], "dtictl-quan-1");
    let table = stack.ok(&draft("versions", &[])).await;
    assert!(table.contains("2 version(s)"), "{table}");
    // A framework that does not exist is named (2) without calling.
    let stderr = stack
        .exits(
            &[
                "draft",
                "versions",
                "--year",
                "2023",
                "--framework",
                "no-such",
                "--unit",
                UNIT,
            ],
            None,
            2,
        )
        .await;
    assert!(stderr.contains("--framework"), "{stderr}");
    // Without --framework, the registry's round of the year that assesses the unit is used.
    let inferred = stack
        .json(&["draft", "versions", "--year", "2023", "--unit", UNIT])
        .await;
    assert_eq!(inferred, versions);

    stack.stop().await
}
