//! `dtictl approval`, `publish`, `publication`, `objection`, `correction`, `finalize` and
//! `round progress|reopen` against the whole platform running in-process: the sample round,
//! verified from the sample decisions file, is ranked — every verified and self-assessed total
//! and rank the engine's (`dtictl score` over the verified and the submitted inputs) —,
//! approved, published, objected to, corrected and finalized once its provisional period
//! (`support::PROVISIONAL_PERIOD_SECS`) has ended; then every subcommand's bad input (exit 2,
//! naming the field) and wrong role (exit 4).

mod review_support;
mod support;

use std::time::Duration;

use dti_auth::Role;
use dti_testkit::{wait_until, Poll};
use review_support::{
    apply_decisions, engine_totals, sample_cohort, sample_decisions, set_values, submitted_round,
    verified_round, write_json,
};
use serde_json::{json, Value};
use support::{bad_input, text, with_round, wrong_role, Stack, PROVISIONAL_PERIOD_SECS};

/// (unit, total, rank) of a ranking's or publication's `field` list.
fn ranked(document: &Value, field: &str, total: &str, rank: &str) -> Vec<(String, String, u64)> {
    document[field]
        .as_array()
        .expect("a list of units")
        .iter()
        .map(|u| {
            (
                u["unitId"].as_str().expect("unit").to_owned(),
                u[total].as_str().expect("total").to_owned(),
                u[rank].as_u64().expect("rank"),
            )
        })
        .collect()
}

fn count(document: &Value, field: &str) -> u64 {
    document[field].as_u64().unwrap_or(0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_verified_round_is_approved_published_corrected_and_finalized() -> anyhow::Result<()> {
    let stack = Stack::start().await?;
    let dir = tempfile::tempdir()?;
    submitted_round(&stack).await;

    let progress = stack.json(&with_round(&["round", "progress"])).await;
    assert_eq!(count(&progress, "cohort"), 22, "{progress}");
    assert_eq!(count(&progress, "submitted"), 22, "{progress}");
    assert_eq!(count(&progress, "awaitingVerification"), 22, "{progress}");
    assert_eq!(count(&progress, "published"), 0, "{progress}");
    let reopened = stack
        .ok(&with_round(&[
            "round",
            "reopen",
            "--unit",
            "quan-4",
            "--deadline-in-hours",
            "2",
            "--reason",
            "Sự cố mạng ngày hết hạn, Sở TT&TT xác nhận",
        ]))
        .await;
    assert!(
        reopened.contains("reopened for unit quan-4 (Quận 4)"),
        "{reopened}"
    );

    verified_round(&stack).await;
    let progress = stack.json(&with_round(&["round", "progress"])).await;
    assert_eq!(count(&progress, "verified"), 22, "{progress}");
    assert_eq!(count(&progress, "notSubmitted"), 0, "{progress}");

    // The verified ranking is the engine's over the verified inputs, beside the self-assessed.
    let verified_cohort = apply_decisions(&sample_cohort(), &sample_decisions());
    let verified = engine_totals(&stack, &dir, &verified_cohort).await;
    let own = engine_totals(&stack, &dir, &sample_cohort()).await;
    let ranking = stack.json(&with_round(&["approval", "ranking"])).await;
    assert_eq!(ranking["state"], "verified", "{ranking}");
    let verified_ranks = ranked(&ranking, "units", "total", "rank");
    assert_eq!(verified_ranks.len(), 22);
    for (unit, total, rank) in &verified_ranks {
        assert_eq!(
            (total, *rank),
            (&verified[unit].0, verified[unit].1),
            "{unit}"
        );
    }
    for (unit, total, rank) in ranked(&ranking, "units", "selfTotal", "selfRank") {
        assert_eq!((&total, rank), (&own[&unit].0, own[&unit].1), "{unit}");
    }
    assert_ne!(
        verified["binh-tan"], own["binh-tan"],
        "the decisions change a total"
    );
    let table = stack.ok(&with_round(&["approval", "ranking"])).await;
    assert!(
        table.contains("Quận Bình Tân") && table.contains("verified total"),
        "{table}"
    );

    let approved = stack.ok(&with_round(&["approval", "approve"])).await;
    assert!(approved.contains(": approved"), "{approved}");
    let first = stack.json(&with_round(&["publish"])).await;
    assert_eq!(first["revision"], 1, "{first}");
    assert_eq!(first["roundState"], "provisional", "{first}");
    // Too early: the provisional period has not ended.
    let early = stack.exits(&with_round(&["finalize"]), None, 3).await;
    assert!(early.contains("provisional period"), "{early}");
    let filed = stack
        .json(&with_round(&[
            "objection",
            "file",
            "--unit",
            "quan-1",
            "--indicator",
            "5.1",
            "--reason",
            "Quận có 40 hệ thống đã được phê duyệt cấp độ; danh sách đính kèm",
        ]))
        .await;
    assert_eq!(filed["revision"], 1, "{filed}");
    let id = filed["objectionId"].as_str().expect("an id").to_owned();
    assert_eq!(
        ranked(&first, "ranks", "total", "rank"),
        verified_ranks
            .iter()
            .map(|(u, t, r)| (u.clone(), t.clone(), *r))
            .collect::<Vec<_>>()
    );

    // The objection is upheld: a verified value, then a correction (revision 2).
    let correction = json!({"units": {"quan-1": {"indicators": {"5.1": {
        "decision": "adjust", "values": {"a": 40}, "reason": "khiếu nại của Quận 1 được chấp nhận"
    }}}}});
    let path = write_json(&dir, "correction.json", &correction);
    let decided = stack
        .json(&with_round(&["verify", "decide", "--file", &path]))
        .await;
    assert_eq!(
        decided["units"][0]["response"]["changedIndicatorCodes"],
        json!(["5.1"])
    );
    let second = stack
        .json(&with_round(&[
            "correction",
            "--reason",
            "khiếu nại của Quận 1 về chỉ số 5.1",
        ]))
        .await;
    assert_eq!(second["revision"], 2, "{second}");
    let mut corrected_cohort = verified_cohort.clone();
    set_values(&mut corrected_cohort, "quan-1", "5.1", json!({"a": 40}));
    let corrected = engine_totals(&stack, &dir, &corrected_cohort).await;
    for (unit, total, rank) in ranked(&second, "ranks", "total", "rank") {
        assert_eq!(
            (&total, rank),
            (&corrected[&unit].0, corrected[&unit].1),
            "{unit}"
        );
    }
    let listed = stack.json(&with_round(&["objection", "list"])).await;
    assert_eq!(
        listed["objections"].as_array().map(Vec::len),
        Some(1),
        "{listed}"
    );
    let quan_3 = stack.unit_token("quan-3");
    let own_only = stack
        .dtictl_with(
            &with_round(&["--json", "objection", "list", "--unit", "quan-3"]),
            &[("DTI_TOKEN", &quan_3)],
        )
        .await;
    assert_eq!(
        own_only.status.code(),
        Some(0),
        "{}",
        text(&own_only.stderr)
    );
    assert!(
        !text(&own_only.stdout).contains(&id),
        "quan-3 sees only its own objections"
    );
    let answered = stack
        .json(&[
            "objection",
            "answer",
            "--id",
            &id,
            "--answer",
            "Đã điều chỉnh ở lần công bố 2",
            "--uphold",
        ])
        .await;
    assert_eq!(
        answered["outcome"], "OBJECTION_OUTCOME_UPHELD",
        "{answered}"
    );

    // Revision 1 stands unchanged beside revision 2.
    let still_first = stack
        .json(&with_round(&["publication", "show", "--revision", "1"]))
        .await;
    assert_eq!(still_first["contentHash"], first["contentHash"]);
    assert_eq!(still_first["hashVerified"], true);
    assert_eq!(
        ranked(&still_first, "ranks", "total", "rank"),
        ranked(&first, "ranks", "total", "rank")
    );
    let revisions = stack.json(&with_round(&["publication", "list"])).await;
    assert_eq!(
        revisions["publications"].as_array().map(Vec::len),
        Some(2),
        "{revisions}"
    );
    let shown = stack.ok(&with_round(&["publication", "show"])).await;
    assert!(
        shown.contains("revision 2") && shown.contains("Quận 1"),
        "{shown}"
    );

    // Once the period has ended (and the objection is answered) the operator finalizes.
    let poll = Poll::new(
        Duration::from_secs(PROVISIONAL_PERIOD_SECS + 20),
        Duration::from_millis(250),
    );
    wait_until("the round to be finalized", poll, || async {
        let out = stack.dtictl(&with_round(&["finalize"])).await;
        match out.status.code() {
            Some(0) => Ok(true),
            Some(3) => Ok(false),
            code => anyhow::bail!("finalize exited {code:?}: {}", text(&out.stderr)),
        }
    })
    .await?;
    let progress = stack.json(&with_round(&["round", "progress"])).await;
    assert_eq!(
        progress["round"]["state"], "ROUND_STATE_FINAL",
        "{progress}"
    );
    assert_eq!(count(&progress, "published"), 22, "{progress}");
    let human = stack.ok(&with_round(&["round", "progress"])).await;
    assert!(
        human.contains("final") && human.contains("published rank"),
        "{human}"
    );
    stack.stop().await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn publication_commands_name_bad_input_and_refuse_the_wrong_role() -> anyhow::Result<()> {
    let stack = Stack::start().await?;
    let unit = stack.unit_token("quan-1");
    let verifier = stack.token(Role::Verifier);
    let approver = stack.token(Role::Approver);
    let owner = stack.department_token("so-tttt");
    let nope = ["--year", "2023", "--framework", "no-such"];
    let with = |command: &[&'static str]| -> Vec<&'static str> {
        command.iter().copied().chain(nope).collect()
    };

    // round progress and reopen (an operator's).
    stack.open_round().await;
    let reopen = [
        "round",
        "reopen",
        "--unit",
        "quan-4",
        "--deadline-in-hours",
        "1",
        "--reason",
        "late",
    ];
    let bad_reopen = with_round(&[
        "round",
        "reopen",
        "--unit",
        "quan-99",
        "--deadline-in-hours",
        "0",
        "--reason",
        " ",
    ]);
    stack
        .refuses([
            bad_input(with(&["round", "progress"]), &["framework"]),
            wrong_role(with_round(&["round", "progress"]), &unit),
            bad_input(bad_reopen, &["--unit", "--deadline-in-hours", "--reason"]),
            wrong_role(with_round(&reopen), &unit),
        ])
        .await;
    verified_round_from_open(&stack).await;
    stack.exits(&with_round(&reopen), None, 3).await;

    // approval
    let back = [
        "approval",
        "return",
        "--reason",
        "Cần kiểm tra lại chỉ số 6.13",
    ];
    stack
        .refuses([
            bad_input(with(&["approval", "ranking"]), &[]),
            wrong_role(with_round(&["approval", "ranking"]), &unit),
            bad_input(
                with_round(&["approval", "return", "--reason", " "]),
                &["--reason"],
            ),
            wrong_role(with_round(&back), &verifier),
        ])
        .await;
    let returned = stack.ok(&with_round(&back)).await;
    assert!(returned.contains(": under_verification"), "{returned}");
    stack.ok(&with_round(&["verify", "complete-round"])).await;
    stack
        .refuses([
            bad_input(with(&["approval", "approve"]), &[]),
            wrong_role(with_round(&["approval", "approve"]), &verifier),
        ])
        .await;
    stack.exits(&with_round(&["publish"]), None, 3).await;
    stack.ok(&with_round(&["approval", "approve"])).await;

    // publish, then objections at once (the provisional period is short).
    stack
        .refuses([
            bad_input(with(&["publish"]), &[]),
            wrong_role(with_round(&["publish"]), &verifier),
        ])
        .await;
    stack.ok(&with_round(&["publish"])).await;
    let file = [
        "objection",
        "file",
        "--unit",
        "quan-1",
        "--indicator",
        "1.2",
        "--reason",
        "sai số liệu",
    ];
    let quan_3 = stack.unit_token("quan-3");
    stack
        .refuses([wrong_role(with_round(&file), &quan_3)])
        .await;
    let filed = stack.json(&with_round(&file)).await;
    let id = filed["objectionId"].as_str().expect("an id").to_owned();
    let bad_file = with_round(&[
        "objection",
        "file",
        "--unit",
        "quan-1",
        "--indicator",
        "99.9",
        "--reason",
        "",
    ]);
    stack
        .refuses([bad_input(bad_file, &["--indicator", "--reason"])])
        .await;
    stack.exits(&with_round(&["publish"]), None, 3).await;

    // publication show and list
    let show_revision = with_round(&["publication", "show", "--revision", "9"]);
    stack
        .refuses([
            bad_input(show_revision, &["revision"]),
            bad_input(with(&["publication", "show"]), &[]),
            wrong_role(with_round(&["publication", "show"]), "not-a-token"),
            bad_input(with(&["publication", "list"]), &[]),
            wrong_role(with_round(&["publication", "list"]), "not-a-token"),
        ])
        .await;

    // objection list and answer
    let answer = [
        "objection",
        "answer",
        "--id",
        &id,
        "--answer",
        "Số liệu đúng",
        "--reject",
    ];
    let blank_answer = vec![
        "objection",
        "answer",
        "--id",
        &id,
        "--answer",
        " ",
        "--reject",
    ];
    stack
        .refuses([
            bad_input(
                with_round(&["objection", "list", "--unit", "quan-99"]),
                &["--unit"],
            ),
            wrong_role(with_round(&["objection", "list"]), &owner),
            bad_input(blank_answer, &["--answer"]),
            wrong_role(answer.to_vec(), &unit),
        ])
        .await;
    let answered = stack.json(&answer).await;
    assert_eq!(
        answered["outcome"], "OBJECTION_OUTCOME_REJECTED",
        "{answered}"
    );
    stack.exits(&answer, None, 3).await;

    // correction: nothing changed is refused.
    let correct = ["correction", "--reason", "đính chính"];
    stack
        .refuses([
            bad_input(with_round(&["correction", "--reason", ""]), &["--reason"]),
            wrong_role(with_round(&correct), &verifier),
        ])
        .await;
    let unchanged = stack.exits(&with_round(&correct), None, 3).await;
    assert!(unchanged.contains("nothing changed"), "{unchanged}");

    // finalize
    stack
        .refuses([
            bad_input(with(&["finalize"]), &[]),
            wrong_role(with_round(&["finalize"]), &approver),
        ])
        .await;
    stack.stop().await
}

/// From a round already open: every unit submits, the round closes and is verified.
async fn verified_round_from_open(stack: &Stack) {
    stack.submit_sample().await;
    stack.ok(&with_round(&["round", "close"])).await;
    verified_round(stack).await;
}
