//! Which version is verified: a unit's last submitted version, whatever draft it left after
//! it, and a draft found in a round already under verification is set aside when opened.

mod support;

use dti_proto::dti::submission::v1::{GetSubmissionRequest, ReopenForUnitRequest};
use dti_proto::dti::verification::v1::{GetSideBySideRequest, ListSubmissionsRequest};
use dti_testkit::with_auth;
use serde_json::json;
use support::{
    a_of, count, engine_totals, indicator, overridden, round, unit_ref, values, values_json, Stack,
};
use tonic::Code;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_last_submitted_version_is_verified_whatever_draft_a_unit_left_after_it(
) -> anyhow::Result<()> {
    let stack = Stack::start().await?;
    stack
        .open_round(&["quan-1", "quan-3", "quan-4", "quan-5"])
        .await?;
    // quan-1 submits, then edits again into a draft it never resubmits.
    let q1 = stack.draft("quan-1").await?;
    stack.set("quan-1", &q1, values(7, 4)).await?;
    assert_eq!(stack.submit("quan-1", &q1).await?, 1);
    stack.set("quan-1", &q1, values(2, 9)).await?;
    // quan-3 submits; after the close it is reopened, edits, and lets the reopening lapse.
    let q3 = stack.draft("quan-3").await?;
    stack.set("quan-3", &q3, values(9, 8)).await?;
    assert_eq!(stack.submit("quan-3", &q3).await?, 1);
    // quan-4 drafts but never submits; quan-5 does nothing.
    let q4 = stack.draft("quan-4").await?;
    stack.set("quan-4", &q4, values(10, 10)).await?;
    stack.close_round().await?;
    let until = std::time::SystemTime::now() + std::time::Duration::from_secs(3);
    stack
        .operators()
        .reopen_for_unit(with_auth(
            ReopenForUnitRequest {
                round: Some(round()),
                unit: Some(unit_ref("quan-3")),
                deadline: Some(dti_proto::convert::timestamp(until.into())),
                reason: "the district reported a typo in 1.2".into(),
            },
            &stack.operator(),
        ))
        .await?;
    stack
        .set(
            "quan-3",
            &q3,
            vec![indicator("1.2", &[("a", count(1)), ("b", count(10))])],
        )
        .await?;
    let left = until
        .duration_since(std::time::SystemTime::now())
        .unwrap_or_default();
    tokio::time::sleep(left + std::time::Duration::from_millis(500)).await;
    let lapsed = stack.submit("quan-3", &q3).await.unwrap_err();
    let lapsed = lapsed.downcast_ref::<tonic::Status>().expect("a status");
    assert_eq!(lapsed.code(), Code::FailedPrecondition, "{lapsed:?}");

    stack.start_verification().await?;
    let listed = stack
        .verification()
        .list_submissions(with_auth(
            ListSubmissionsRequest {
                round: Some(round()),
                state: String::new(),
            },
            &stack.verifier(),
        ))
        .await?
        .into_inner();
    let summary: Vec<(&str, &str, u32)> = listed
        .submissions
        .iter()
        .map(|s| {
            (
                s.unit.as_ref().map_or("", |u| u.unit_id.as_str()),
                s.state.as_str(),
                s.latest_version,
            )
        })
        .collect();
    assert_eq!(
        summary,
        [
            ("quan-1", "submitted", 1),
            ("quan-3", "submitted", 1),
            ("quan-4", "draft", 0),
        ]
    );
    assert_eq!(listed.units_without_submission, ["quan-4", "quan-5"]);
    let set_aside: Vec<String> = sqlx::query_scalar(
        "SELECT chain FROM audit_log WHERE action = 'submission.set_draft_aside' ORDER BY chain",
    )
    .fetch_all(stack.backends.db.pool())
    .await?;
    assert_eq!(set_aside, ["unit:quan-1", "unit:quan-3"]);

    // The units can no longer change what is verified.
    let edit = stack.set("quan-1", &q1, values(3, 3)).await.unwrap_err();
    let edit = edit.downcast_ref::<tonic::Status>().expect("a status");
    assert_eq!(edit.code(), Code::FailedPrecondition, "{edit:?}");
    let resubmit = stack.submit("quan-1", &q1).await.unwrap_err();
    let resubmit = resubmit.downcast_ref::<tonic::Status>().expect("a status");
    assert_eq!(resubmit.code(), Code::FailedPrecondition, "{resubmit:?}");

    // The review is of version 1, with version 1's values.
    let review = stack.open(&q1).await?;
    let opened = review.summary.clone().expect("summary");
    assert_eq!(
        (opened.state.as_str(), opened.latest_version),
        ("under_verification", 1)
    );
    let minutes = review
        .indicators
        .iter()
        .find(|i| i.indicator_code == "1.2")
        .expect("1.2");
    let reported_a = minutes
        .self_value
        .as_ref()
        .and_then(|r| r.values.as_ref())
        .and_then(|v| v.variables.get("a").cloned());
    assert_eq!(
        reported_a,
        Some(count(7)),
        "version 1's value, not the draft's"
    );
    stack
        .decide(
            &q1,
            1,
            vec![overridden(
                "1.2",
                &[("a", count(5)), ("b", count(10))],
                "two of the meetings were chaired by a deputy",
            )],
        )
        .await?;
    stack.complete(&q1, 1).await?;
    let refused = stack.complete_round().await.unwrap_err();
    assert_eq!(refused.code(), Code::FailedPrecondition);
    assert!(
        refused.message().contains("quan-3"),
        "{}",
        refused.message()
    );
    assert!(
        !refused.message().contains("quan-4"),
        "{}",
        refused.message()
    );
    assert!(
        !refused.message().contains("quan-5"),
        "{}",
        refused.message()
    );
    assert_eq!(
        stack
            .open(&q3)
            .await?
            .summary
            .expect("summary")
            .latest_version,
        1
    );
    stack.complete(&q3, 1).await?;
    stack.complete_round().await?;
    assert_eq!(stack.round_state().await?, "verified");

    // Verified scores are version 1's values with the decisions; silent units score 0.
    let own = engine_totals(json!([
        {"unit": "quan-1", "values": values_json(7, 4)},
        {"unit": "quan-3", "values": values_json(9, 8)},
        {"unit": "quan-4", "values": {}},
        {"unit": "quan-5", "values": {}},
    ]));
    let verified = engine_totals(json!([
        {"unit": "quan-1", "values": values_json(5, 4)},
        {"unit": "quan-3", "values": values_json(9, 8)},
        {"unit": "quan-4", "values": {}},
        {"unit": "quan-5", "values": {}},
    ]));
    let ranking = stack.verified_ranking().await?;
    assert_eq!(ranking.units.len(), 4);
    for unit in &ranking.units {
        assert_eq!(
            (unit.total.clone(), unit.rank),
            verified[&unit.unit_id],
            "{}",
            unit.unit_id
        );
        assert_eq!(
            (unit.self_total.clone(), unit.self_rank),
            own[&unit.unit_id],
            "{}",
            unit.unit_id
        );
        let expected = match unit.unit_id.as_str() {
            "quan-1" | "quan-3" => ("verified", 1),
            _ => ("", 0),
        };
        assert_eq!(
            (unit.submission_state.as_str(), unit.version),
            expected,
            "{}",
            unit.unit_id
        );
    }
    for unit in ["quan-4", "quan-5"] {
        let view = stack
            .verification()
            .get_side_by_side(with_auth(
                GetSideBySideRequest {
                    round: Some(round()),
                    unit: Some(unit_ref(unit)),
                },
                &stack.verifier(),
            ))
            .await?
            .into_inner();
        assert_eq!(view.rows.len(), 51, "{unit}");
        for row in &view.rows {
            for score in [&row.self_score, &row.verified_score] {
                let score = score.as_ref().expect("every indicator is scored");
                assert_eq!(
                    (score.outcome.as_str(), score.cents),
                    ("missing", 0),
                    "{unit} {}",
                    row.indicator_code
                );
            }
        }
    }

    // The drafts are kept for the record, untouched; only version 1 was submitted.
    for (unit, id, draft_a) in [("quan-1", &q1, 2), ("quan-3", &q3, 1)] {
        let kept = stack
            .submissions()
            .get_submission(with_auth(
                GetSubmissionRequest {
                    submission_id: id.clone(),
                },
                &stack.unit(unit),
            ))
            .await?
            .into_inner();
        assert_eq!(a_of(&kept.values, "1.2"), Some(draft_a), "{unit}'s draft");
        let versions = stack.submission_api().versions(unit, id).await?;
        assert_eq!(versions.len(), 1, "{unit}");
    }
    let report = stack.audit_report().await?;
    assert_eq!(report.first_broken, None);
    stack.close().await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_draft_found_in_a_round_already_under_verification_is_set_aside_when_opened(
) -> anyhow::Result<()> {
    let stack = Stack::start().await?;
    let ids = stack
        .submitted_round(&[("quan-1", Some(values(7, 4)))])
        .await?;
    let q1 = &ids["quan-1"];
    stack.start_verification().await?;
    // A round whose verification started before drafts were set aside at its start: the
    // unit's submission is still the draft it left after version 1.
    sqlx::query("UPDATE submissions SET state = 'draft' WHERE id = $1::uuid")
        .bind(q1)
        .execute(stack.backends.db.pool())
        .await?;
    let blocked = stack.complete_round().await.unwrap_err();
    assert_eq!(blocked.code(), Code::FailedPrecondition);
    assert!(
        blocked.message().contains("quan-1") && blocked.message().contains("version 1"),
        "{}",
        blocked.message()
    );

    let review = stack.open(q1).await?;
    let opened = review.summary.expect("summary");
    assert_eq!(
        (opened.state.as_str(), opened.latest_version),
        ("under_verification", 1)
    );
    let set_aside: Vec<(String, String, String)> = sqlx::query_as(
        "SELECT chain, role, after->>'state' FROM audit_log \
         WHERE action = 'submission.set_draft_aside'",
    )
    .fetch_all(stack.backends.db.pool())
    .await?;
    assert_eq!(
        set_aside,
        [(
            "unit:quan-1".to_owned(),
            "verifier".to_owned(),
            "submitted".to_owned()
        )]
    );
    stack.complete(q1, 1).await?;
    stack.complete_round().await?;
    assert_eq!(stack.round_state().await?, "verified");
    stack.close().await
}
