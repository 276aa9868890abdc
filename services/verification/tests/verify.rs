//! Verifying against the real PostgreSQL and NATS JetStream, with the submission service
//! supplying the submitted versions: decisions beside self-assessed values and scores, the
//! clarification loop with its per-indicator diff, completion, the verified ranking — every
//! score the engine's — and one event per fact; a unit's last submitted version is what is
//! verified, whatever draft it left after it, and units that never submitted do not block.
//!
//! The clarification loop is in `clarification.rs`, the submitted versions in
//! `submitted_versions.rs`.

mod support;

use dti_proto::dti::verification::v1::{
    CompleteSubmissionRequest, DecisionKind, GetSideBySideRequest, ListSubmissionsRequest,
};
use dti_testkit::with_auth;
use serde_json::json;
use support::{
    accept, count, engine_totals, insufficient, overridden, round, row, unit_ref, values,
    values_json, Stack,
};
use tonic::Code;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn decisions_stand_beside_the_self_assessment_and_agree_with_the_engine() -> anyhow::Result<()>
{
    let stack = Stack::start().await?;
    stack.open_round(&["quan-1", "quan-3", "quan-4"]).await?;
    stack
        .attach_evidence("quan-1", "1.2", "meeting-minutes.pdf")
        .await?;
    let q1 = stack.draft("quan-1").await?;
    stack.set("quan-1", &q1, values(7, 4)).await?;
    stack.submit("quan-1", &q1).await?;
    let q3 = stack.draft("quan-3").await?;
    stack.set("quan-3", &q3, values(9, 8)).await?;
    stack.submit("quan-3", &q3).await?;
    stack.close_round().await?;
    stack.start_verification().await?;

    let listed = stack
        .verification()
        .list_submissions(with_auth(
            ListSubmissionsRequest {
                round: Some(round()),
                state: "submitted".into(),
            },
            &stack.verifier(),
        ))
        .await?
        .into_inner();
    assert_eq!(listed.submissions.len(), 2);
    assert_eq!(
        listed.units_without_submission,
        ["quan-4"],
        "quan-4 never submitted"
    );

    let review = stack.open(&q1).await?;
    let summary = review.summary.clone().expect("summary");
    assert_eq!(summary.state, "under_verification");
    assert_eq!(summary.indicators, 51);
    assert_eq!(review.previous_version, 0);
    let minutes = review
        .indicators
        .iter()
        .find(|i| i.indicator_code == "1.2")
        .expect("1.2");
    assert_eq!(
        minutes.self_score.as_ref().map(|s| s.points.as_str()),
        Some("7.00")
    );
    assert_eq!(minutes.evidence.len(), 1);
    assert_eq!(minutes.evidence[0].file_name, "meeting-minutes.pdf");
    assert!(minutes.decision.is_none());
    assert_eq!(
        stack.open(&q1).await?.summary.expect("summary").state,
        "under_verification",
        "opening again changes nothing"
    );

    let decided = stack
        .decide(
            &q1,
            1,
            vec![
                accept("1.1"),
                overridden(
                    "1.2",
                    &[("a", count(5)), ("b", count(10))],
                    "two of the meetings were chaired by a deputy",
                ),
                insufficient("2.1", "the resolution was not attached"),
            ],
        )
        .await?;
    assert_eq!(decided.revision, 1);
    assert_eq!(decided.changed_indicator_codes, ["1.1", "1.2", "2.1"]);
    let retried = stack
        .decide(
            &q1,
            1,
            vec![
                accept("1.1"),
                overridden(
                    "1.2",
                    &[("a", count(5)), ("b", count(10))],
                    "two of the meetings were chaired by a deputy",
                ),
            ],
        )
        .await?;
    assert_eq!(retried.revision, 1, "a retry records nothing");
    assert!(retried.changed_indicator_codes.is_empty());

    // The unit reads its own side-by-side view.
    let view = stack
        .verification()
        .get_side_by_side(with_auth(
            GetSideBySideRequest {
                round: Some(round()),
                unit: Some(unit_ref("quan-1")),
            },
            &stack.unit("quan-1"),
        ))
        .await?
        .into_inner();
    let minutes = row(&view, "1.2");
    assert_eq!(
        minutes.self_score.as_ref().map(|s| s.points.as_str()),
        Some("7.00")
    );
    assert_eq!(
        minutes.verified_score.as_ref().map(|s| s.points.as_str()),
        Some("5.00")
    );
    assert_eq!(minutes.difference, "-2.00");
    assert_eq!(minutes.difference_cents, -200);
    assert_eq!(minutes.decision, DecisionKind::Overridden as i32);
    assert_eq!(
        minutes.reason,
        "two of the meetings were chaired by a deputy"
    );
    assert_eq!(minutes.evidence.len(), 1);
    let verified_a = minutes
        .verified_value
        .as_ref()
        .and_then(|v| v.values.as_ref())
        .and_then(|v| v.variables.get("a").cloned());
    assert_eq!(verified_a, Some(count(5)));
    let resolution = row(&view, "2.1");
    assert_eq!(resolution.difference, "-5.00");
    assert!(
        resolution.verified_value.is_none(),
        "insufficient evidence: no value"
    );
    assert_eq!(row(&view, "1.1").difference, "0.00");
    assert_eq!(row(&view, "9.1").decision, DecisionKind::Unspecified as i32);
    assert_eq!(view.total_difference, "-7.00");

    // The same engine over the same inputs, as `dtictl score` would read them.
    let own = engine_totals(json!([
        {"unit": "quan-1", "values": values_json(7, 4)},
        {"unit": "quan-3", "values": values_json(9, 8)},
        {"unit": "quan-4", "values": {}},
    ]));
    let mut verified_q1 = values_json(5, 4);
    verified_q1.as_object_mut().expect("object").remove("2.1");
    let verified = engine_totals(json!([
        {"unit": "quan-1", "values": verified_q1},
        {"unit": "quan-3", "values": values_json(9, 8)},
        {"unit": "quan-4", "values": {}},
    ]));
    assert_eq!(view.self_total, own["quan-1"].0);
    assert_eq!(view.verified_total, verified["quan-1"].0);

    // Completing needs every indicator decided, or accept_undecided.
    let refused = stack
        .verification()
        .complete_submission(with_auth(
            CompleteSubmissionRequest {
                submission_id: q1.clone(),
                version: 1,
                accept_undecided: false,
            },
            &stack.verifier(),
        ))
        .await
        .unwrap_err();
    assert_eq!(refused.code(), Code::FailedPrecondition);
    assert!(
        refused.message().contains("not decided"),
        "{}",
        refused.message()
    );
    stack.complete(&q1, 1).await?;
    let refused = stack.complete_round().await.unwrap_err();
    assert_eq!(refused.code(), Code::FailedPrecondition);
    assert!(
        refused.message().contains("quan-3"),
        "{}",
        refused.message()
    );
    stack.open(&q3).await?;
    stack.complete(&q3, 1).await?;
    stack.complete_round().await?;
    assert_eq!(stack.round_state().await?, "verified");

    let ranking = stack.verified_ranking().await?;
    let order: Vec<&str> = ranking.units.iter().map(|u| u.unit_id.as_str()).collect();
    assert_eq!(order, ["quan-3", "quan-1", "quan-4"]);
    for unit in &ranking.units {
        assert_eq!((unit.total.clone(), unit.rank), verified[&unit.unit_id]);
        assert_eq!(
            (unit.self_total.clone(), unit.self_rank),
            own[&unit.unit_id]
        );
    }
    assert_eq!(
        ranking.units[2].submission_state, "",
        "quan-4 has no submission"
    );

    stack.wait_outbox_drained().await?;
    assert_eq!(
        stack
            .published_ids("verification.values_changed.v1")
            .await?,
        {
            let mut ids = vec![
                format!("verification/{q1}/v1/r1"),
                format!("verification/{q1}/v1/r2"),
                format!("verification/{q3}/v1/r1"),
            ];
            ids.sort();
            ids
        },
        "one event per committed batch; the acceptance on completion is the second"
    );
    assert_eq!(stack.published_ids("verification.completed.v1").await?, {
        let mut ids = vec![
            format!("verification-completed/{q1}/v1"),
            format!("verification-completed/{q3}/v1"),
        ];
        ids.sort();
        ids
    });
    let report = stack.audit_report().await?;
    assert_eq!(report.first_broken, None);
    let decisions: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM audit_log WHERE action LIKE 'verification.%' AND chain = 'unit:quan-1'",
    )
    .fetch_one(stack.backends.db.pool())
    .await?;
    assert_eq!(
        decisions, 2,
        "the decisions and the acceptance on completion"
    );
    stack.close().await
}
