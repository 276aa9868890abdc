//! `dtictl scorecard`, `what-if`, `position` and `ranking show` against the whole platform
//! running in-process, after every district submitted the sample cohort: each answer equals
//! what the scoring engine (`dtictl score`) computes for the same inputs — exact decimal
//! strings, never floats — and a what-if equals the engine on the changed cohort. Bad input
//! exits 2 naming the field; another unit or a role that may not read exits 4.

mod support;

use std::collections::BTreeMap;
use std::time::Duration;

use dti_auth::Role;
use dti_testkit::{eventually, Poll};
use serde_json::Value;
use support::{repo_file, with_round, Stack, SAMPLE};

const UNIT: &str = "quan-1";

/// `args… --year 2023 --framework hcm-2023-district --unit quan-1`.
fn for_unit<'a>(args: &[&'a str]) -> Vec<&'a str> {
    let mut line = with_round(args);
    line.extend(["--unit", UNIT]);
    line
}

/// A two-decimal score string as hundredths of a point, read exactly.
fn cents(score: &str) -> i64 {
    let (whole, fraction) = score.split_once('.').expect("a two-decimal score");
    assert_eq!(fraction.len(), 2, "{score}");
    let magnitude = whole.trim_start_matches('-').parse::<i64>().expect("whole") * 100
        + fraction.parse::<i64>().expect("fraction");
    if score.starts_with('-') {
        -magnitude
    } else {
        magnitude
    }
}

/// The engine's unit entry of `unit` in a scored cohort.
fn engine_unit<'a>(scored: &'a Value, unit: &str) -> &'a Value {
    scored["units"]
        .as_array()
        .and_then(|units| units.iter().find(|u| u["unit"] == unit))
        .unwrap_or_else(|| panic!("the engine scored no unit {unit}"))
}

/// The engine's scores (`dtictl score`) of the sample cohort with `change` made to quan-1's
/// entry, written to `name` in `dir`.
async fn scored_with(
    stack: &Stack,
    dir: &tempfile::TempDir,
    name: &str,
    change: impl FnOnce(&mut Value),
) -> anyhow::Result<Value> {
    let mut cohort: Value = serde_json::from_str(&std::fs::read_to_string(repo_file(SAMPLE))?)?;
    let unit = cohort["units"]
        .as_array_mut()
        .and_then(|units| units.iter_mut().find(|u| u["unit"] == UNIT))
        .expect("quan-1 is in the sample");
    change(unit);
    let file = dir.path().join(name);
    std::fs::write(&file, cohort.to_string())?;
    Ok(stack
        .json(&["score", "--input", &file.to_string_lossy()])
        .await)
}

/// A what-if's hypothetical total and every indicator's score are the engine's `unit` entry.
fn assert_hypothetical_is(what_if: &Value, unit: &Value) {
    let hypothetical = &what_if["hypothetical"];
    assert_eq!(hypothetical["total"], unit["total"], "{what_if}");
    for indicator in hypothetical["indicators"].as_array().into_iter().flatten() {
        let code = indicator["indicatorCode"].as_str().unwrap_or_default();
        assert_eq!(
            indicator["score"], unit["indicators"][code],
            "indicator {code}"
        );
    }
}

/// Unit → (rank, score) of a ranking message (or the engine's by total or by a group).
type Standings = BTreeMap<String, (u64, String)>;

fn ranking_standings(ranking: &Value) -> Standings {
    ranking["units"]
        .as_array()
        .map(|units| {
            units
                .iter()
                .map(|u| {
                    let unit = u["unit"]["unitId"].as_str().unwrap_or_default().to_owned();
                    let rank = u["rank"].as_u64().unwrap_or_default();
                    (
                        unit,
                        (rank, u["score"].as_str().unwrap_or_default().to_owned()),
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

/// The engine's standings by total (`group` None) or by a group: competition ranks, 1 + the
/// number of units with a strictly greater score.
fn engine_standings(scored: &Value, group: Option<&str>) -> Standings {
    let scores: Vec<(String, String)> = scored["units"]
        .as_array()
        .map(|units| {
            units
                .iter()
                .map(|u| {
                    let score = match group {
                        Some(code) => &u["groups"][code],
                        None => &u["total"],
                    };
                    let unit = u["unit"].as_str().unwrap_or_default().to_owned();
                    (unit, score.as_str().unwrap_or_default().to_owned())
                })
                .collect()
        })
        .unwrap_or_default();
    scores
        .iter()
        .map(|(unit, score)| {
            let above = scores
                .iter()
                .filter(|(_, s)| cents(s) > cents(score))
                .count();
            (unit.clone(), (above as u64 + 1, score.clone()))
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scorecards_what_ifs_positions_and_rankings_equal_the_engine() -> anyhow::Result<()> {
    let stack = Stack::start().await?;
    stack.open_round().await;
    stack.submit_sample().await;
    let sample = repo_file(SAMPLE);
    let scored = stack
        .json(&["score", "--input", &sample, "--explain"])
        .await;
    let expected = engine_standings(&scored, None);
    // The round's cohort is the sample's units.
    let round = stack.json(&with_round(&["round", "show"])).await;
    let units = expected.len();
    assert_eq!(
        round["unitIds"].as_array().map(Vec::len),
        Some(units),
        "{round}"
    );

    // The services score and rank asynchronously: wait until the ranking (every page of
    // five) is the engine's, and fail with the last answer if it never is.
    let ranked = eventually(
        "the ranking service to rank the whole cohort as the engine does",
        Poll::new(Duration::from_secs(90), Duration::from_millis(500)),
        || {
            let stack = &stack;
            let expected = &expected;
            async move {
                let ranking = stack
                    .json(&with_round(&["ranking", "show", "--page-size", "5"]))
                    .await;
                Ok((&ranking_standings(&ranking) == expected).then_some(ranking))
            }
        },
    )
    .await?;
    assert_eq!(ranked["unitCount"], units, "{ranked}");
    // Every page was followed: no token of a next page is left (pbjson omits an empty one).
    assert!(ranked.get("nextPageToken").is_none(), "{ranked}");
    let table = stack.ok(&with_round(&["ranking", "show"])).await;
    assert!(table.contains(&format!("{units} unit(s)")), "{table}");
    assert!(
        table.contains("Quận 1") && table.contains("Thủ Đức"),
        "{table}"
    );
    let top = stack
        .json(&with_round(&[
            "ranking",
            "show",
            "--limit",
            "5",
            "--page-size",
            "2",
        ]))
        .await;
    assert!(
        top["nextPageToken"].as_str().is_some_and(|t| !t.is_empty()),
        "{top}"
    );
    let top = top["units"].as_array().cloned().unwrap_or_default();
    assert_eq!(top.len(), 5);
    let mut best: Vec<(u64, String)> = expected.values().cloned().collect();
    best.sort_by_key(|(rank, _)| *rank);
    for (unit, (rank, score)) in top.iter().zip(&best) {
        assert_eq!(
            (unit["rank"].as_u64(), unit["score"].as_str()),
            (Some(*rank), Some(score.as_str()))
        );
    }
    let by_group = stack
        .json(&with_round(&["ranking", "show", "--group", "6"]))
        .await;
    assert_eq!(
        ranking_standings(&by_group),
        engine_standings(&scored, Some("6"))
    );
    // As a unit of the round it may read the ranking; a department is not assessed in it.
    stack
        .ok(&with_round(&[
            "ranking",
            "show",
            "--as-unit",
            "quan-3",
            "--limit",
            "1",
        ]))
        .await;
    let stderr = stack
        .exits(
            &with_round(&["ranking", "show", "--as-unit", "so-noi-vu"]),
            None,
            4,
        )
        .await;
    assert!(stderr.contains("so-noi-vu"), "{stderr}");
    let owner = stack.department_token("so-tttt");
    stack
        .exits(&with_round(&["ranking", "show"]), Some(&owner), 4)
        .await;
    let stderr = stack
        .exits(
            &with_round(&["ranking", "show", "--group", "99", "--limit", "0"]),
            None,
            2,
        )
        .await;
    assert!(
        stderr.contains("--group") && stderr.contains("--limit"),
        "{stderr}"
    );

    // The scorecard: total, groups and every indicator equal the engine's, and each
    // explanation is the engine's.
    let engine = engine_unit(&scored, UNIT);
    let card = stack.json(&for_unit(&["scorecard"])).await;
    assert_eq!(card["total"], engine["total"], "{card}");
    assert_eq!(card["inputVersion"], 1, "{card}");
    for group in card["groups"].as_array().cloned().unwrap_or_default() {
        let code = group["groupCode"].as_str().unwrap_or_default();
        assert_eq!(group["score"], engine["groups"][code], "group {code}");
    }
    let indicators = card["indicators"].as_array().cloned().unwrap_or_default();
    assert_eq!(
        indicators.len(),
        engine["indicators"].as_object().map_or(0, |o| o.len())
    );
    for indicator in &indicators {
        let code = indicator["indicatorCode"].as_str().unwrap_or_default();
        assert_eq!(
            indicator["score"], engine["indicators"][code],
            "indicator {code}"
        );
        assert_eq!(
            indicator["explanation"]["summary"], engine["explanations"][code]["summary"],
            "indicator {code}"
        );
    }
    let shown = stack.ok(&for_unit(&["scorecard"])).await;
    assert!(shown.contains("Quận 1"), "{shown}");
    let catalog = dti_domain::FrameworkCatalog::builtin()?;
    let framework = catalog.get_str("hcm-2023-district").expect("framework");
    for group in &framework.groups {
        assert!(shown.contains(group.name.as_str()), "{shown}");
    }
    assert!(shown.contains(&format!(
        "total: {}",
        engine["total"].as_str().unwrap_or_default()
    )));
    let explained = stack.ok(&for_unit(&["scorecard", "--explain"])).await;
    let summary = engine["explanations"]["5.1"]["summary"]
        .as_str()
        .unwrap_or_default();
    assert!(
        !summary.is_empty() && explained.contains(summary),
        "{explained}"
    );
    assert!(explained.contains("cohort: min"), "{explained}");
    // No verifier decided anything yet: every indicator keeps its self-assessed value (the
    // verified basis is scored asynchronously too).
    let verified = eventually(
        "the verified scorecard to be the self-assessed one",
        Poll::new(Duration::from_secs(30), Duration::from_millis(300)),
        || {
            let stack = &stack;
            async move {
                let card = stack
                    .json(&for_unit(&["scorecard", "--basis", "verified"]))
                    .await;
                Ok((card["total"] == engine["total"]).then_some(card))
            }
        },
    )
    .await?;
    assert_eq!(verified["basis"], "BASIS_VERIFIED", "{verified}");
    // Another unit's submitter, or a data owner, may not read quan-1's scorecard (4).
    let quan_3 = stack.unit_token("quan-3");
    let stderr = stack
        .exits(&for_unit(&["scorecard"]), Some(&quan_3), 4)
        .await;
    assert!(stderr.contains("quan-1"), "{stderr}");
    stack
        .exits(&for_unit(&["scorecard"]), Some(&owner), 4)
        .await;
    let stderr = stack
        .exits(
            &[
                "scorecard",
                "--year",
                "2023",
                "--framework",
                "no-such",
                "--unit",
                " quan-1",
            ],
            None,
            2,
        )
        .await;
    assert!(
        stderr.contains("--unit") && stderr.contains("--framework"),
        "{stderr}"
    );

    // The position: the engine's rank and score, by total and by a group.
    let position = stack.json(&for_unit(&["position"])).await;
    let (rank, score) = &expected[UNIT];
    assert_eq!(
        position["position"]["rank"].as_u64(),
        Some(*rank),
        "{position}"
    );
    assert_eq!(position["position"]["score"].as_str(), Some(score.as_str()));
    assert_eq!(position["unitCount"], units);
    let in_group = stack.json(&for_unit(&["position", "--group", "6"])).await;
    let (rank, score) = &engine_standings(&scored, Some("6"))[UNIT];
    assert_eq!(
        in_group["position"]["rank"].as_u64(),
        Some(*rank),
        "{in_group}"
    );
    assert_eq!(in_group["position"]["score"].as_str(), Some(score.as_str()));
    let shown = stack.ok(&for_unit(&["position"])).await;
    assert!(
        shown.contains(&format!("rank {} of {units} by total", expected[UNIT].0)),
        "{shown}"
    );
    let stderr = stack
        .exits(&for_unit(&["position", "--group", "99"]), None, 2)
        .await;
    assert!(stderr.contains("--group"), "{stderr}");
    stack
        .exits(&for_unit(&["position"]), Some(&quan_3), 4)
        .await;

    // A what-if equals the engine on the cohort with the change: a growth indicator and a
    // min-max one whose new value moves the cohort's maximum.
    let dir = tempfile::tempdir()?;
    let changed_scored = scored_with(&stack, &dir, "changed.json", |unit| {
        unit["values"]["6.13"]["a"] = 40.into();
        unit["values"]["5.1"]["a"] = 100.into();
    })
    .await?;
    let after = engine_unit(&changed_scored, UNIT);
    let set_both = for_unit(&["what-if", "--set", "6.13.a=40", "--set", "5.1.a=100"]);
    let what_if = stack.json(&set_both).await;
    assert_eq!(what_if["current"]["total"], engine["total"], "{what_if}");
    assert_hypothetical_is(&what_if, after);
    let change = cents(after["total"].as_str().unwrap_or_default())
        - cents(engine["total"].as_str().unwrap_or_default());
    assert_eq!(what_if["totalChangeCents"], change.to_string(), "{what_if}");
    let shown = stack.ok(&set_both).await;
    let total_line = format!(
        "total: {} → {}",
        engine["total"].as_str().unwrap_or_default(),
        after["total"].as_str().unwrap_or_default()
    );
    assert!(shown.contains(&total_line), "{shown}");
    for code in ["6.13", "5.1"] {
        let row = format!("{code} ");
        assert!(
            shown.lines().any(|line| line.contains(&row)
                && line.contains(after["indicators"][code].as_str().unwrap_or("?"))),
            "{shown}"
        );
    }
    // Declaring an indicator not applicable and clearing another equal the engine too.
    let marked_scored = scored_with(&stack, &dir, "marked.json", |unit| {
        let values = unit["values"].as_object_mut().expect("values");
        values.remove("1.2");
        values.remove("6.13");
        let marks = unit["not_applicable"].as_array_mut().expect("marks");
        marks.push("1.2".into());
    })
    .await?;
    let marked_unit = engine_unit(&marked_scored, UNIT);
    let what_if = stack
        .json(&for_unit(&[
            "what-if",
            "--not-applicable",
            "1.2",
            "--clear",
            "6.13",
        ]))
        .await;
    assert_hypothetical_is(&what_if, marked_unit);
    // Nothing was saved: the scorecard is as before.
    let again = stack.json(&for_unit(&["scorecard"])).await;
    assert_eq!(again["total"], engine["total"]);
    // Every bad expression is named at once.
    let stderr = stack
        .exits(
            &for_unit(&[
                "what-if",
                "--set",
                "6.13.zz=1",
                "--set",
                "99.1.a=1",
                "--set",
                "garbage",
                "--set",
                "6.13.a=-5",
            ]),
            None,
            2,
        )
        .await;
    for problem in [
        "variable zz",
        "indicator 99.1",
        "\"garbage\"",
        "indicator 6.13, variable a",
    ] {
        assert!(stderr.contains(problem), "{problem} missing in: {stderr}");
    }
    stack.exits(&for_unit(&["what-if"]), None, 2).await;
    // Only the unit's own submitter may ask (4), not another unit nor a verifier.
    let verifier = stack.token(Role::Verifier);
    for token in [&quan_3, &verifier] {
        stack
            .exits(
                &for_unit(&["what-if", "--set", "6.13.a=40"]),
                Some(token),
                4,
            )
            .await;
    }

    stack.stop().await
}
