//! `dtictl framework add|list` against the whole platform running in-process: an operator
//! stores a 2024 framework, opens a round with it, units submit and are scored and ranked by
//! its rules — no rebuild, no restart of any service — and the round pins its content hash.
//! The same file again stores nothing; other content under a stored id is refused (3) and the
//! round's scores do not move; a broken file exits 2 naming the problem, another role 4.

mod support;

use std::path::Path;
use std::time::Duration;

use dti_testkit::{eventually, Poll};
use serde_json::{json, Value};
use support::{repo_file, Stack, SAMPLE};

const FRAMEWORK_2024: &str = "hcm-2024-district";
const ROUND_2024: [&str; 4] = ["--year", "2024", "--framework", FRAMEWORK_2024];

fn with_round_2024<'a>(command: &[&'a str]) -> Vec<&'a str> {
    let mut line = command.to_vec();
    line.extend(ROUND_2024);
    line
}

/// The 2023 district set issued again as `hcm-2024-district` for 2024, with indicator 1.2 of
/// group 1 worth 5 points more and 1.3 worth 5 less (the group still sums), so its scores
/// differ from the 2023 set's.
fn framework_2024(points_12: u32) -> anyhow::Result<String> {
    let text =
        std::fs::read_to_string(repo_file("shared/domain/frameworks/hcm-2023-district.toml"))?;
    let mut out = String::new();
    let mut current = String::new();
    for line in text.lines() {
        let trimmed = line.trim_start();
        if trimmed.starts_with("code = ") {
            current = trimmed
                .trim_start_matches("code = ")
                .trim_matches('"')
                .to_owned();
        }
        let line = match trimmed {
            l if l.starts_with("id = \"hcm-2023-district\"") => {
                format!("id = \"{FRAMEWORK_2024}\"")
            }
            l if l.starts_with("year = 2023") => "year = 2024".to_owned(),
            l if l.starts_with("points = ") && (current == "1.2" || current == "1.3") => {
                let points: u32 = l
                    .trim_start_matches("points = ")
                    .split_whitespace()
                    .next()
                    .unwrap_or("0")
                    .parse()?;
                let shifted = if current == "1.2" {
                    points + points_12
                } else {
                    points - points_12
                };
                format!("points = {shifted}")
            }
            _ => line.to_owned(),
        };
        out.push_str(&line);
        out.push('\n');
    }
    anyhow::ensure!(out.contains(FRAMEWORK_2024), "the 2023 file names its id");
    Ok(out)
}

/// The sample's quan-1 and quan-3 as a cohort file of the 2024 framework.
fn cohort_file(dir: &Path) -> anyhow::Result<String> {
    let sample: Value = serde_json::from_str(&std::fs::read_to_string(repo_file(SAMPLE))?)?;
    let units: Vec<Value> = sample["units"]
        .as_array()
        .map(|units| {
            units
                .iter()
                .filter(|u| u["unit"] == "quan-1" || u["unit"] == "quan-3")
                .cloned()
                .collect()
        })
        .unwrap_or_default();
    anyhow::ensure!(units.len() == 2, "the sample has quan-1 and quan-3");
    let file = dir.join("cohort-2024.json");
    std::fs::write(
        &file,
        json!({"framework": FRAMEWORK_2024, "units": units}).to_string(),
    )?;
    Ok(file.display().to_string())
}

fn write(dir: &Path, name: &str, text: &str) -> anyhow::Result<String> {
    let file = dir.join(name);
    std::fs::write(&file, text)?;
    Ok(file.display().to_string())
}

/// Each unit's total in a ranking or in `dtictl score`'s output.
fn totals(units: &Value, unit: &str, score: &str) -> Vec<(String, String)> {
    let mut totals: Vec<(String, String)> = units
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|u| {
            let id = u.pointer(unit)?.as_str()?.to_owned();
            let total = u.get(score)?.as_str()?.to_owned();
            Some((id, total))
        })
        .collect();
    totals.sort();
    totals
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_operator_stores_a_framework_and_a_round_opened_with_it_is_scored_by_its_rules(
) -> anyhow::Result<()> {
    let stack = Stack::start().await?;
    let dir = tempfile::tempdir()?;
    let framework = write(dir.path(), "hcm-2024-district.toml", &framework_2024(5)?)?;

    let stored = stack
        .ok(&[
            "framework",
            "add",
            "--input",
            &framework,
            "--reason",
            "the 2024 set",
        ])
        .await;
    assert!(
        stored.contains("framework hcm-2024-district stored"),
        "{stored}"
    );
    // The same file again (a retry) stores nothing.
    let again = stack.ok(&["framework", "add", "--input", &framework]).await;
    assert!(again.contains("already known with this content"), "{again}");

    // A round opened with it, without units, takes every active district; two submit.
    let opened = stack.ok(&with_round_2024(&["round", "open"])).await;
    assert!(opened.contains("22 unit(s)"), "{opened}");
    let cohort = cohort_file(dir.path())?;
    let submitted = stack
        .ok(&["submit", "--year", "2024", "--input", &cohort])
        .await;
    assert!(
        submitted.contains("quan-3: submitted version 1"),
        "{submitted}"
    );

    // Scored and ranked by the stored rules: the served totals equal the engine's on the same
    // file, offline, with the framework as a directory file.
    let engine = stack
        .json(&[
            "--framework-dir",
            &dir.path().display().to_string(),
            "score",
            "--input",
            &cohort,
        ])
        .await;
    let expected = totals(&engine["units"], "/unit", "total");
    assert_eq!(expected.len(), 2, "{engine}");
    let with_2023_rules = {
        let mut file: Value = serde_json::from_str(&std::fs::read_to_string(&cohort)?)?;
        file["framework"] = json!("hcm-2023-district");
        let path = write(dir.path(), "cohort-2023-rules.json", &file.to_string())?;
        let scored = stack.json(&["score", "--input", &path]).await;
        totals(&scored["units"], "/unit", "total")
    };
    assert_ne!(expected, with_2023_rules, "the 2024 rules score otherwise");
    let served = eventually(
        "the ranking service to rank both units by the stored framework",
        Poll::new(Duration::from_secs(60), Duration::from_millis(300)),
        || {
            let stack = &stack;
            let expected = expected.clone();
            async move {
                let ranking = stack.json(&with_round_2024(&["ranking", "show"])).await;
                let served: Vec<(String, String)> =
                    totals(&ranking["units"], "/unit/unitId", "score")
                        .into_iter()
                        .filter(|(unit, _)| unit == "quan-1" || unit == "quan-3")
                        .collect();
                Ok((served == expected).then_some(served))
            }
        },
    )
    .await?;
    assert_eq!(served, expected);

    // The round pins the stored content; the platform lists it as stored, pinned by the round.
    let round = stack.json(&with_round_2024(&["round", "show"])).await;
    let list = stack.json(&["framework", "list"]).await;
    let known = list["frameworks"]
        .as_array()
        .and_then(|all| all.iter().find(|f| f["frameworkId"] == FRAMEWORK_2024))
        .cloned()
        .unwrap_or_default();
    assert_eq!(known["origin"], "FRAMEWORK_ORIGIN_STORED", "{list}");
    assert_eq!(
        known["pinnedByRounds"],
        json!(["2024/hcm-2024-district"]),
        "{list}"
    );
    assert_eq!(round["frameworkHash"], known["contentHash"], "{round}");
    assert_eq!(
        known["contentHash"].as_str().map(str::len),
        Some(64),
        "{known}"
    );

    // Other content under the stored id is refused (3), naming it; the round's scores stay.
    let changed = write(dir.path(), "changed.toml", &framework_2024(10)?)?;
    let stderr = stack
        .exits(&["framework", "add", "--input", &changed], None, 3)
        .await;
    assert!(
        stderr.contains("hcm-2024-district is already known with other content"),
        "{stderr}"
    );
    // So is other content under a built-in id.
    let built_in = framework_2024(5)?.replace(
        &format!("id = \"{FRAMEWORK_2024}\""),
        "id = \"hcm-2023-district\"",
    );
    let built_in = write(dir.path(), "built-in.toml", &built_in)?;
    let stderr = stack
        .exits(&["framework", "add", "--input", &built_in], None, 3)
        .await;
    assert!(
        stderr.contains("hcm-2023-district is already known with other content"),
        "{stderr}"
    );
    let ranking = stack.json(&with_round_2024(&["ranking", "show"])).await;
    let after: Vec<(String, String)> = totals(&ranking["units"], "/unit/unitId", "score")
        .into_iter()
        .filter(|(unit, _)| unit == "quan-1" || unit == "quan-3")
        .collect();
    assert_eq!(after, expected);

    // A broken file names its problem and sends nothing (2); a unit may not store one (4).
    let broken = framework_2024(5)?
        .replace(
            &format!("id = \"{FRAMEWORK_2024}\""),
            "id = \"hcm-2025-district\"",
        )
        .replacen("points = ", "points = 1", 1);
    let broken = write(dir.path(), "broken.toml", &broken)?;
    let stderr = stack
        .exits(&["framework", "add", "--input", &broken], None, 2)
        .await;
    assert!(stderr.contains("points"), "{stderr}");
    let other = framework_2024(5)?.replace(
        &format!("id = \"{FRAMEWORK_2024}\""),
        "id = \"hcm-2025-district\"",
    );
    let other = write(dir.path(), "other.toml", &other)?;
    let unit = stack.unit_token("quan-1");
    stack
        .exits(&["framework", "add", "--input", &other], Some(&unit), 4)
        .await;
    let list = stack.json(&["framework", "list"]).await;
    let ids: Vec<&str> = list["frameworks"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|f| f["frameworkId"].as_str())
        .collect();
    assert!(
        !ids.contains(&"hcm-2025-district"),
        "nothing stored: {ids:?}"
    );
    stack.stop().await
}

/// Departments assessed additionally on the district set's digital-economy group and its
/// min-max indicator 5.1 (the Hà Nội rule), as a framework of its own.
const INCLUDING: &str = "test-2024-department-digital-economy";
const INCLUDING_FILE: &str = "shared/domain/tests/data/test-2024-department-digital-economy.toml";

/// Departments that report, each with the included values of one sample district.
const REPORTING: [(&str, &str); 3] = [
    ("so-ke-hoach-dau-tu", "quan-1"),
    ("so-tai-chinh", "quan-3"),
    ("so-cong-thuong", "thu-duc"),
];

/// A cohort file of `framework` with the sample's values of 5.1 and group 7: for the
/// departments when `as_departments`, else for the districts they take them from.
fn included_cohort(dir: &Path, framework: &str, as_departments: bool) -> anyhow::Result<String> {
    let sample: Value = serde_json::from_str(&std::fs::read_to_string(repo_file(SAMPLE))?)?;
    let mut units = Vec::new();
    for (department, district) in REPORTING {
        let unit = sample["units"]
            .as_array()
            .and_then(|all| all.iter().find(|u| u["unit"] == district))
            .ok_or_else(|| anyhow::anyhow!("{district} is in the sample"))?;
        let values: serde_json::Map<String, Value> = unit["values"]
            .as_object()
            .into_iter()
            .flatten()
            .filter(|(code, _)| code.as_str() == "5.1" || code.starts_with("7."))
            .map(|(code, value)| (code.clone(), value.clone()))
            .collect();
        anyhow::ensure!(values.len() == 4, "{district} reports 5.1 and 7.1–7.3");
        let id = if as_departments { department } else { district };
        units.push(json!({"unit": id, "values": values}));
    }
    write(
        dir,
        &format!("{framework}-{as_departments}.json"),
        &json!({"framework": framework, "units": units}).to_string(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_framework_including_another_sets_group_is_scored_by_that_groups_rules_in_its_round(
) -> anyhow::Result<()> {
    let stack = Stack::start().await?;
    let dir = tempfile::tempdir()?;
    let round = ["--year", "2024", "--framework", INCLUDING];
    let with_round =
        |command: &[&'static str]| -> Vec<&str> { command.iter().copied().chain(round).collect() };

    // Including from a framework the platform does not know is refused (2), naming it.
    let unknown = write(
        dir.path(),
        "unknown.toml",
        &std::fs::read_to_string(repo_file(INCLUDING_FILE))?.replace(
            "framework = \"hcm-2023-district\"",
            "framework = \"hn-2024-district\"",
        ),
    )?;
    let stderr = stack
        .exits(&["framework", "add", "--input", &unknown], None, 2)
        .await;
    assert!(
        stderr.contains("includes hn-2024-district: framework hn-2024-district is not known here"),
        "{stderr}"
    );

    let file = repo_file(INCLUDING_FILE);
    let stored = stack
        .ok(&[
            "framework",
            "add",
            "--input",
            &file,
            "--reason",
            "digital economy",
        ])
        .await;
    assert!(
        stored.contains(&format!("framework {INCLUDING} stored")),
        "{stored}"
    );
    // Offline commands read the file from a directory.
    let frameworks_dir = repo_file("shared/domain/tests/data");
    let shown = stack
        .ok(&[
            "--framework-dir",
            &frameworks_dir,
            "framework",
            "show",
            INCLUDING,
        ])
        .await;
    assert!(
        shown.contains("7 Hoạt động kinh tế số — 90 points (included from hcm-2023-district)"),
        "{shown}"
    );

    // The round's cohort: the departments with digital-economy duties.
    let mut cohort = vec!["registry", "cohort", "--reason", "digital-economy duties"];
    cohort.extend(round);
    for (department, _) in REPORTING {
        cohort.extend(["--unit", department]);
    }
    stack.ok(&cohort).await;
    let opened = stack.ok(&with_round(&["round", "open"])).await;
    assert!(opened.contains("3 unit(s)"), "{opened}");
    let departments = included_cohort(dir.path(), INCLUDING, true)?;
    let submitted = stack
        .ok(&["submit", "--year", "2024", "--input", &departments])
        .await;
    assert!(
        submitted.contains("so-cong-thuong: submitted version 1"),
        "{submitted}"
    );

    // By the district set's rules over this round's cohort: each department's total is what
    // the district it took its values from scores on the district set in a cohort of the same
    // three (every other district indicator missing scores 0).
    let districts = included_cohort(dir.path(), "hcm-2023-district", false)?;
    let by_district = stack.json(&["score", "--input", &districts]).await;
    let district_totals = totals(&by_district["units"], "/unit", "total");
    let expected: Vec<(String, String)> = {
        let mut expected: Vec<(String, String)> = REPORTING
            .iter()
            .filter_map(|(department, district)| {
                let total = district_totals.iter().find(|(id, _)| id == district)?;
                Some((department.to_string(), total.1.clone()))
            })
            .collect();
        expected.sort();
        expected
    };
    assert_eq!(expected.len(), 3, "{by_district}");
    let offline = stack
        .json(&[
            "--framework-dir",
            &frameworks_dir,
            "score",
            "--input",
            &departments,
        ])
        .await;
    assert_eq!(totals(&offline["units"], "/unit", "total"), expected);
    let served = eventually(
        "the ranking service to rank the departments on the included group",
        Poll::new(Duration::from_secs(60), Duration::from_millis(300)),
        || {
            let stack = &stack;
            let expected = expected.clone();
            let with_round = with_round(&["ranking", "show"]);
            async move {
                let ranking = stack.json(&with_round).await;
                let served = totals(&ranking["units"], "/unit/unitId", "score");
                Ok((served == expected).then_some(served))
            }
        },
    )
    .await?;
    assert_eq!(served, expected);
    stack.stop().await
}
