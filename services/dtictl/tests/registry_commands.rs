//! `dtictl registry` against the whole platform running in-process: an operator adds a unit
//! and a 2024 cohort, opens the 2024 round, the new unit submits and is ranked — no rebuild, no
//! restart of any service. Bad input exits 2 naming the entry; another role exits 4.

mod support;

use std::time::Duration;

use dti_auth::Role;
use dti_testkit::{eventually, Poll};
use serde_json::{json, Value};
use support::{repo_file, text, Stack, SAMPLE};

const ROUND_2024: [&str; 4] = ["--year", "2024", "--framework", "hcm-2023-district"];

fn with_round_2024<'a>(command: &[&'a str]) -> Vec<&'a str> {
    let mut line = command.to_vec();
    line.extend(ROUND_2024);
    line
}

/// The sample's quan-1 and quan-3, and quan-1's values once more as `huyen-moi`.
fn cohort_file_with_the_new_unit(dir: &std::path::Path) -> anyhow::Result<String> {
    let sample: Value = serde_json::from_str(&std::fs::read_to_string(repo_file(SAMPLE))?)?;
    let unit = |id: &str| {
        sample["units"]
            .as_array()
            .and_then(|units| units.iter().find(|u| u["unit"] == id))
            .cloned()
    };
    let (Some(quan_1), Some(quan_3)) = (unit("quan-1"), unit("quan-3")) else {
        anyhow::bail!("the sample has quan-1 and quan-3");
    };
    let mut new_unit = quan_1.clone();
    new_unit["unit"] = json!("huyen-moi");
    let file = dir.join("cohort-2024.json");
    let cohort = json!({"framework": sample["framework"], "units": [quan_1, quan_3, new_unit]});
    std::fs::write(&file, cohort.to_string())?;
    Ok(file.display().to_string())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_operator_adds_a_unit_and_a_2024_cohort_and_the_unit_submits_and_is_ranked(
) -> anyhow::Result<()> {
    let stack = Stack::start().await?;

    let added = stack
        .ok(&[
            "registry",
            "unit",
            "--id",
            "huyen-moi",
            "--name",
            "Huyện Mới",
            "--kind",
            "district",
            "--active-from",
            "2024",
            "--reason",
            "a district formed in 2024",
        ])
        .await;
    assert!(added.contains("revision 2 stored"), "{added}");
    let cohort = stack
        .ok(&with_round_2024(&[
            "registry",
            "cohort",
            "--unit",
            "quan-1",
            "--unit",
            "quan-3",
            "--unit",
            "huyen-moi",
        ]))
        .await;
    assert!(cohort.contains("revision 3 stored"), "{cohort}");
    let exported = stack.ok(&["registry", "export"]).await;
    assert!(exported.contains("Huyện Mới"), "{exported}");
    assert!(
        exported.contains(r#"units = ["quan-1", "quan-3", "huyen-moi"]"#),
        "{exported}"
    );
    // The same file imported again changes nothing.
    let dir = tempfile::tempdir()?;
    let file = dir.path().join("registry.toml");
    std::fs::write(&file, &exported)?;
    let file = file.display().to_string();
    let again = stack
        .ok(&[
            "registry",
            "import",
            "--input",
            &file,
            "--expected-revision",
            "3",
        ])
        .await;
    assert!(again.contains("unchanged at revision 3"), "{again}");

    // The 2024 round takes the registry's cohort: the new unit is in it.
    let opened = stack.ok(&with_round_2024(&["round", "open"])).await;
    assert!(opened.contains("3 unit(s)"), "{opened}");
    let input = cohort_file_with_the_new_unit(dir.path())?;
    let submitted = stack
        .ok(&["submit", "--year", "2024", "--input", &input])
        .await;
    assert!(
        submitted.contains("huyen-moi: submitted version 1"),
        "{submitted}"
    );

    // Scored and ranked: the new unit holds quan-1's score, since it submitted quan-1's values
    // (a unit is ranked at 0.00 until its submission is scored).
    fn score(ranking: &Value, id: &str) -> Option<Value> {
        ranking["units"]
            .as_array()
            .and_then(|units| units.iter().find(|u| u["unit"]["unitId"] == id))
            .map(|u| u["score"].clone())
    }
    let ranking = eventually(
        "the ranking service to rank the new unit with quan-1's score",
        Poll::new(Duration::from_secs(60), Duration::from_millis(300)),
        || {
            let stack = &stack;
            async move {
                let ranking = stack.json(&with_round_2024(&["ranking", "show"])).await;
                let new_unit = score(&ranking, "huyen-moi");
                let scored = new_unit.is_some() && new_unit != Some(json!("0.00"));
                Ok((scored && new_unit == score(&ranking, "quan-1")).then_some(ranking))
            }
        },
    )
    .await?;
    assert_eq!(ranking["unitCount"], 3, "{ranking}");
    // The commands that call the services know the new unit from the registry in force: its
    // position, the round found without --framework.
    let position = stack
        .json(&["position", "--year", "2024", "--unit", "huyen-moi"])
        .await;
    assert_eq!(
        Some(position["position"]["score"].clone()),
        score(&ranking, "huyen-moi"),
        "{position}"
    );

    // Bad input names the entry (2) and stores nothing; another role may not edit (4).
    let stderr = stack
        .exits(
            &[
                "registry",
                "unit",
                "--id",
                "xa-moi",
                "--name",
                "Xã Mới",
                "--kind",
                "village",
            ],
            None,
            2,
        )
        .await;
    assert!(stderr.contains("--kind village"), "{stderr}");
    let stderr = stack
        .exits(
            &with_round_2024(&[
                "registry", "cohort", "--unit", "quan-1", "--unit", "quan-99",
            ]),
            None,
            2,
        )
        .await;
    assert!(stderr.contains("unit quan-99 is not defined"), "{stderr}");
    // A merger recorded; the reverse one would be a cycle.
    let lineage = |from: &'static str, to: &'static str, year: &'static str| {
        let mut line = vec!["registry", "lineage", "--from", from, "--to", to];
        line.extend(["--effective-year", year, "--change", "merged"]);
        line
    };
    stack.ok(&lineage("huyen-moi", "quan-1", "2025")).await;
    let stderr = stack
        .exits(&lineage("quan-1", "huyen-moi", "2026"), None, 2)
        .await;
    assert!(stderr.contains("form a cycle"), "{stderr}");
    let broken = dir.path().join("broken.toml");
    std::fs::write(&broken, "schema = 1\n[[units]]\nid = \"a\"\n")?;
    let stderr = stack
        .exits(
            &[
                "registry",
                "import",
                "--input",
                &broken.display().to_string(),
            ],
            None,
            2,
        )
        .await;
    assert!(stderr.contains("not a valid registry file"), "{stderr}");
    let stale = stack
        .exits(
            &[
                "registry",
                "import",
                "--input",
                &file,
                "--expected-revision",
                "3",
            ],
            None,
            3,
        )
        .await;
    assert!(stale.contains("revision 4"), "{stale}");
    let verifier = stack.token(Role::Verifier);
    let denied = stack
        .exits(
            &["registry", "import", "--input", &file],
            Some(&verifier),
            4,
        )
        .await;
    assert!(!denied.is_empty());
    // A unit's submitter may read the registry but not change it.
    let unit = stack.unit_token("quan-1");
    let read = stack
        .dtictl_with(&["registry", "export"], &[("DTI_TOKEN", &unit)])
        .await;
    assert_eq!(read.status.code(), Some(0), "{}", text(&read.stderr));
    let shown = stack.json(&["registry", "export"]).await;
    assert_eq!(shown["revision"], "4", "{shown}");
    stack.stop().await
}
