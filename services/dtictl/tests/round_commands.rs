//! `dtictl round` and `dtictl submit` against the whole platform running in-process: the
//! operator's round commands, each unit submitting a cohort file, and their refusals (bad input
//! exits 2 naming the field, a refused state change 3, the wrong role 4).

mod support;

use dti_auth::Role;
use support::{text, with_round, Stack};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_operator_opens_and_closes_a_round_and_units_submit() -> anyhow::Result<()> {
    let stack = Stack::start().await?;
    let opened = stack.ok(&with_round(&["round", "open"])).await;
    assert!(
        opened.contains("round 2023/hcm-2023-district: open"),
        "{opened}"
    );
    assert!(opened.contains("22 unit(s)"), "{opened}");

    let shown = stack.json(&with_round(&["round", "show"])).await;
    assert_eq!(shown["state"], "ROUND_STATE_OPEN", "{shown}");
    assert_eq!(
        shown["unitIds"].as_array().map(Vec::len),
        Some(22),
        "{shown}"
    );

    let submitted = stack.submit_sample().await;
    assert_eq!(submitted.matches("submitted version 1").count(), 22);

    // Opening it again is a refused state change (3); a unit may not close it (4).
    let again = stack.dtictl(&with_round(&["round", "open"])).await;
    assert_eq!(again.status.code(), Some(3), "{}", text(&again.stderr));
    let unit = stack.unit_token("quan-1");
    let denied = stack
        .dtictl_with(&with_round(&["round", "close"]), &[("DTI_TOKEN", &unit)])
        .await;
    assert_eq!(denied.status.code(), Some(4), "{}", text(&denied.stderr));
    // A verifier's token is not an operator's either.
    let verifier = stack.token(Role::Verifier);
    let denied = stack
        .dtictl_with(
            &with_round(&["round", "close"]),
            &[("DTI_TOKEN", &verifier)],
        )
        .await;
    assert_eq!(denied.status.code(), Some(4), "{}", text(&denied.stderr));

    // A unit submits only for itself, and a verifier not at all (4); a unit outside the
    // file, a year without a round and a unit unknown to the registry are bad input (2).
    let sample = support::repo_file(support::SAMPLE);
    let other_unit = stack.unit_token("quan-3");
    stack
        .refuses([
            support::wrong_role(
                vec![
                    "submit", "--year", "2023", "--input", &sample, "--unit", "quan-1",
                ],
                &other_unit,
            ),
            support::wrong_role(
                vec![
                    "submit", "--year", "2023", "--input", &sample, "--unit", "quan-1",
                ],
                &verifier,
            ),
            support::bad_input(
                vec![
                    "submit", "--year", "2023", "--input", &sample, "--unit", "quan-99",
                ],
                &["--unit"],
            ),
            support::bad_input(
                vec![
                    "submit", "--year", "2031", "--input", &sample, "--unit", "quan-1",
                ],
                &["quan-1"],
            ),
            support::bad_input(
                vec![
                    "round",
                    "open",
                    "--year",
                    "2024",
                    "--framework",
                    "hcm-2023-district",
                    "--unit",
                    "quan-99",
                    "--unit",
                    "so-tttt",
                ],
                &["unit_ids[0]", "quan-99", "unit_ids[1]", "so-tttt"],
            ),
        ])
        .await;

    let closed = stack.ok(&with_round(&["round", "close"])).await;
    assert!(closed.contains(": closed"), "{closed}");

    // 2024 has no cohort in the registry: the round takes every district active that year.
    let next_year = [
        "round",
        "open",
        "--year",
        "2024",
        "--framework",
        "hcm-2023-district",
    ];
    let opened = stack.ok(&next_year).await;
    assert!(
        opened.contains("round 2024/hcm-2023-district: open"),
        "{opened}"
    );
    assert!(opened.contains("22 unit(s)"), "{opened}");

    // Bad input names the field and exits 2.
    let bad = stack
        .dtictl(&["round", "show", "--year", "2023", "--framework", "no-such"])
        .await;
    assert_eq!(bad.status.code(), Some(2), "{}", text(&bad.stderr));
    assert!(
        text(&bad.stderr).contains("framework"),
        "{}",
        text(&bad.stderr)
    );

    stack.stop().await
}
