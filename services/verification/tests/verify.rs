//! Verifying against the real PostgreSQL and NATS JetStream, with the submission service
//! supplying the submitted versions: decisions beside self-assessed values and scores, the
//! clarification loop with its per-indicator diff, completion, the verified ranking — every
//! score the engine's — and one event per fact; a unit's last submitted version is what is
//! verified, whatever draft it left after it, and units that never submitted do not block.

mod support;

use std::collections::BTreeMap;

use dti_domain::values::decode_cohort;
use dti_domain::{FrameworkCatalog, RoundRef};
use dti_engine::{score_cohort, Explain};
use dti_proto::dti::submission::v1::{
    GetSubmissionRequest, ListVersionsRequest, ReopenForUnitRequest,
};
use dti_proto::dti::verification::v1::{
    ChangeKind, ClarificationQuestion, CompleteSubmissionRequest, DecisionKind,
    GetSideBySideRequest, GetVerifiedRankingRequest, ListSubmissionsRequest,
    RequestClarificationRequest, SideBySide,
};
use dti_testkit::with_auth;
use serde_json::json;
use support::{
    accept, count, indicator, insufficient, overridden, round, unit_ref, values, values_json, Stack,
};
use tonic::Code;

/// Totals (two decimals) of each unit of a cohort document, as `dtictl score` computes them.
fn engine_totals(units: serde_json::Value) -> BTreeMap<String, (String, u32)> {
    let catalog = FrameworkCatalog::builtin().expect("frameworks");
    let document = json!({"framework": "hcm-2023-district", "units": units});
    let cohort = decode_cohort(&document.to_string(), &catalog)
        .value
        .expect("a valid cohort");
    score_cohort(&cohort, Explain::ScoresOnly)
        .expect("scores")
        .units
        .into_iter()
        .map(|unit| (unit.unit.to_string(), (unit.total.to_string(), unit.rank)))
        .collect()
}

fn row<'a>(
    view: &'a SideBySide,
    code: &str,
) -> &'a dti_proto::dti::verification::v1::SideBySideRow {
    view.rows
        .iter()
        .find(|row| row.indicator_code == code)
        .expect("a row per indicator")
}

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

    let ranking = stack
        .approval()
        .get_verified_ranking(with_auth(
            GetVerifiedRankingRequest {
                round: Some(round()),
            },
            &stack.approver(),
        ))
        .await?
        .into_inner();
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
    let report = dti_audit::verify_round(
        stack.backends.db.pool(),
        &RoundRef {
            year: 2023,
            framework: "hcm-2023-district".parse()?,
        },
    )
    .await?;
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_clarification_returns_to_the_unit_and_its_answer_is_diffed() -> anyhow::Result<()> {
    let stack = Stack::start().await?;
    let q1 = stack.opened_first_of_two().await?;
    stack
        .decide(
            &q1,
            1,
            vec![
                accept("1.1"),
                insufficient("1.2", "the minutes are missing"),
                accept("2.1"),
            ],
        )
        .await?;

    let asked = stack
        .verification()
        .request_clarification(with_auth(
            RequestClarificationRequest {
                submission_id: q1.clone(),
                version: 1,
                questions: vec![ClarificationQuestion {
                    indicator_code: "1.2".into(),
                    question: "Please attach the minutes of each meeting.".into(),
                }],
            },
            &stack.verifier(),
        ))
        .await?
        .into_inner();
    assert_eq!(asked.state, "clarification_requested");

    // The unit sees the question through the submission service.
    let seen = stack
        .submissions()
        .get_submission(with_auth(
            GetSubmissionRequest {
                submission_id: q1.clone(),
            },
            &stack.unit("quan-1"),
        ))
        .await?
        .into_inner();
    assert_eq!(seen.clarifications.len(), 1);
    assert_eq!(seen.clarifications[0].indicator_code, "1.2");

    let waiting = stack.decide(&q1, 1, vec![accept("1.2")]).await.unwrap_err();
    assert_eq!(waiting.code(), Code::FailedPrecondition);
    let blocked = stack.complete_round().await.unwrap_err();
    assert_eq!(blocked.code(), Code::FailedPrecondition);
    assert!(
        blocked.message().contains("clarification_requested"),
        "{}",
        blocked.message()
    );

    // The unit answers with a new version.
    stack
        .set(
            "quan-1",
            &q1,
            vec![indicator("1.2", &[("a", count(6)), ("b", count(10))])],
        )
        .await?;
    assert_eq!(stack.submit("quan-1", &q1).await?, 2);

    let review = stack.open(&q1).await?;
    assert_eq!(review.summary.as_ref().map(|s| s.latest_version), Some(2));
    assert_eq!(review.previous_version, 1);
    assert_eq!(review.changes.len(), 1, "only 1.2 changed");
    let change = &review.changes[0];
    assert_eq!(change.indicator_code, "1.2");
    assert_eq!(change.kind, ChangeKind::Changed as i32);
    assert_eq!(
        change.question,
        "Please attach the minutes of each meeting."
    );
    let a_of = |value: &Option<dti_proto::dti::verification::v1::ReportedValue>| {
        value
            .as_ref()
            .and_then(|v| v.values.as_ref())
            .and_then(|v| v.variables.get("a").cloned())
    };
    assert_eq!(a_of(&change.previous), Some(count(7)));
    assert_eq!(a_of(&change.current), Some(count(6)));
    let decision_of = |code: &str| {
        review
            .indicators
            .iter()
            .find(|i| i.indicator_code == code)
            .and_then(|i| i.decision.as_ref())
            .map(|d| d.kind)
    };
    assert_eq!(
        decision_of("1.1"),
        Some(DecisionKind::Accepted as i32),
        "carried forward"
    );
    assert_eq!(
        decision_of("2.1"),
        Some(DecisionKind::Accepted as i32),
        "carried forward"
    );
    assert_eq!(decision_of("1.2"), None, "changed: to decide again");
    assert_eq!(review.decisions_revision, 2);

    let stale = stack.decide(&q1, 1, vec![accept("1.2")]).await.unwrap_err();
    assert_eq!(stale.code(), Code::FailedPrecondition);
    assert!(stale.message().contains("version 2"), "{}", stale.message());
    let decided = stack.decide(&q1, 2, vec![accept("1.2")]).await?;
    assert_eq!(decided.revision, 3);

    stack.wait_outbox_drained().await?;
    assert_eq!(
        stack.published_ids("verification.started.v1").await?,
        [
            format!("verification-started/{q1}/v1"),
            format!("verification-started/{q1}/v2"),
        ],
        "each version opened once"
    );
    assert_eq!(
        stack
            .published_ids("verification.clarification_requested.v1")
            .await?,
        [format!("clarification/{q1}/v1")]
    );
    assert_eq!(
        stack
            .published_ids("verification.values_changed.v1")
            .await?,
        [
            format!("verification/{q1}/v1/r1"),
            format!("verification/{q1}/v2/r2"),
            format!("verification/{q1}/v2/r3"),
        ]
    );
    stack.close().await
}

/// The value of variable `a` of indicator `code` among `values`.
fn a_of(values: &[dti_proto::dti::common::v1::IndicatorValue], code: &str) -> Option<u64> {
    let value = values
        .iter()
        .find(|v| v.indicator_code == code)?
        .variables
        .get("a")?;
    match value.value {
        Some(dti_proto::dti::common::v1::variable_value::Value::Count(n)) => Some(n),
        _ => None,
    }
}

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
    let ranking = stack
        .approval()
        .get_verified_ranking(with_auth(
            GetVerifiedRankingRequest {
                round: Some(round()),
            },
            &stack.approver(),
        ))
        .await?
        .into_inner();
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
        let versions = stack
            .submissions()
            .list_versions(with_auth(
                ListVersionsRequest {
                    submission_id: id.clone(),
                },
                &stack.unit(unit),
            ))
            .await?
            .into_inner()
            .versions;
        assert_eq!(versions.len(), 1, "{unit}");
    }
    let report = dti_audit::verify_round(
        stack.backends.db.pool(),
        &RoundRef {
            year: 2023,
            framework: "hcm-2023-district".parse()?,
        },
    )
    .await?;
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
