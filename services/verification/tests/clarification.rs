//! The clarification loop against the real PostgreSQL and NATS JetStream: a verifier's question
//! returns the submission to the unit, and the unit's answer comes back with its per-indicator
//! diff.

mod support;

use dti_proto::dti::submission::v1::GetSubmissionRequest;
use dti_proto::dti::verification::v1::{
    ChangeKind, ClarificationQuestion, DecisionKind, RequestClarificationRequest,
};
use dti_testkit::with_auth;
use support::{accept, count, indicator, insufficient, Stack};
use tonic::Code;

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
