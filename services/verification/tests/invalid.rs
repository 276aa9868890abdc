//! Bad input to every RPC is refused with InvalidArgument naming the field (and, for values,
//! the unit, indicator and variable), and nothing is stored.

mod support;

use dti_proto::dti::common::v1::{RoundRef, UnitRef};
use dti_proto::dti::verification::v1::{
    AnswerObjectionRequest, ApproveRoundRequest, ClarificationQuestion,
    CompleteRoundVerificationRequest, CompleteSubmissionRequest, DecideIndicatorsRequest,
    DecisionKind, FileObjectionRequest, FinalizeRoundRequest, GetPublicationRequest,
    GetSideBySideRequest, GetVerifiedRankingRequest, IndicatorDecision, ListObjectionsRequest,
    ListPublicationsRequest, ListSubmissionsRequest, OpenSubmissionRequest,
    PublishCorrectionRequest, PublishRoundRequest, RequestClarificationRequest,
    ReturnForVerificationRequest, StartRoundVerificationRequest,
};
use dti_service_kit::status::field_violations;
use dti_testkit::with_auth;
use support::{accept, count, flag, overridden, round, unit_ref, values, Stack};
use tonic::{Code, Status};

/// Asserts `result` is InvalidArgument whose violations name exactly `fields`.
fn assert_invalid<T: std::fmt::Debug>(result: Result<T, Status>, fields: &[&str]) {
    let status = result.expect_err("refused");
    assert_eq!(status.code(), Code::InvalidArgument, "{status:?}");
    let named: Vec<String> = field_violations(&status)
        .into_iter()
        .map(|v| v.field)
        .collect();
    assert_eq!(named, fields, "{}", status.message());
}

fn bad_rounds() -> Vec<(Option<RoundRef>, &'static str)> {
    vec![
        (None, "round"),
        (
            Some(RoundRef {
                year: 1999,
                framework: "hcm-2023-district".into(),
            }),
            "round.year",
        ),
        (
            Some(RoundRef {
                year: 2023,
                framework: "Not A Framework".into(),
            }),
            "round.framework",
        ),
        (
            Some(RoundRef {
                year: 2023,
                framework: "hcm-2099-district".into(),
            }),
            "round.framework",
        ),
        (
            Some(RoundRef {
                year: 2023,
                framework: "mic-2022-province".into(),
            }),
            "round.framework",
        ),
    ]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_rpc_names_its_bad_input_and_stores_nothing() -> anyhow::Result<()> {
    let stack = Stack::start().await?;
    let ids = stack
        .submitted_round(&[("quan-1", Some(values(7, 4)))])
        .await?;
    let q1 = ids["quan-1"].clone();
    stack.start_verification().await?;
    stack.open(&q1).await?;
    let before = stack.footprint().await?;
    let (verifier, approver, operator) = (stack.verifier(), stack.approver(), stack.operator());
    let unit = stack.unit("quan-1");

    for (bad, field) in bad_rounds() {
        let mut verification = stack.verification();
        let mut approval = stack.approval();
        let mut publication = stack.publication();
        assert_invalid(
            verification
                .start_round_verification(with_auth(
                    StartRoundVerificationRequest { round: bad.clone() },
                    &verifier,
                ))
                .await,
            &[field],
        );
        assert_invalid(
            verification
                .list_submissions(with_auth(
                    ListSubmissionsRequest {
                        round: bad.clone(),
                        state: String::new(),
                    },
                    &verifier,
                ))
                .await,
            &[field],
        );
        assert_invalid(
            verification
                .complete_round_verification(with_auth(
                    CompleteRoundVerificationRequest { round: bad.clone() },
                    &verifier,
                ))
                .await,
            &[field],
        );
        assert_invalid(
            verification
                .get_side_by_side(with_auth(
                    GetSideBySideRequest {
                        round: bad.clone(),
                        unit: Some(unit_ref("quan-1")),
                    },
                    &unit,
                ))
                .await,
            &[field],
        );
        assert_invalid(
            approval
                .get_verified_ranking(with_auth(
                    GetVerifiedRankingRequest { round: bad.clone() },
                    &approver,
                ))
                .await,
            &[field],
        );
        assert_invalid(
            approval
                .approve_round(with_auth(
                    ApproveRoundRequest { round: bad.clone() },
                    &approver,
                ))
                .await,
            &[field],
        );
        assert_invalid(
            approval
                .return_for_verification(with_auth(
                    ReturnForVerificationRequest {
                        round: bad.clone(),
                        reason: "why".into(),
                    },
                    &approver,
                ))
                .await,
            &[field],
        );
        assert_invalid(
            publication
                .publish_round(with_auth(
                    PublishRoundRequest { round: bad.clone() },
                    &approver,
                ))
                .await,
            &[field],
        );
        assert_invalid(
            publication
                .publish_correction(with_auth(
                    PublishCorrectionRequest {
                        round: bad.clone(),
                        reason: "why".into(),
                    },
                    &approver,
                ))
                .await,
            &[field],
        );
        assert_invalid(
            publication
                .get_publication(with_auth(
                    GetPublicationRequest {
                        round: bad.clone(),
                        revision: 0,
                    },
                    &unit,
                ))
                .await,
            &[field],
        );
        assert_invalid(
            publication
                .list_publications(with_auth(
                    ListPublicationsRequest { round: bad.clone() },
                    &unit,
                ))
                .await,
            &[field],
        );
        assert_invalid(
            publication
                .file_objection(with_auth(
                    FileObjectionRequest {
                        round: bad.clone(),
                        unit: Some(unit_ref("quan-1")),
                        indicator_code: String::new(),
                        reason: "why".into(),
                    },
                    &unit,
                ))
                .await,
            &[field],
        );
        assert_invalid(
            publication
                .list_objections(with_auth(
                    ListObjectionsRequest {
                        round: bad.clone(),
                        unit_id: String::new(),
                    },
                    &verifier,
                ))
                .await,
            &[field],
        );
        assert_invalid(
            publication
                .finalize_round(with_auth(FinalizeRoundRequest { round: bad }, &operator))
                .await,
            &[field],
        );
    }

    let mut verification = stack.verification();
    assert_invalid(
        verification
            .list_submissions(with_auth(
                ListSubmissionsRequest {
                    round: Some(round()),
                    state: "pending".into(),
                },
                &verifier,
            ))
            .await,
        &["state"],
    );
    assert_invalid(
        verification
            .open_submission(with_auth(
                OpenSubmissionRequest {
                    submission_id: "not-a-uuid".into(),
                },
                &verifier,
            ))
            .await,
        &["submission_id"],
    );
    let missing = verification
        .open_submission(with_auth(
            OpenSubmissionRequest {
                submission_id: uuid::Uuid::now_v7().to_string(),
            },
            &verifier,
        ))
        .await
        .unwrap_err();
    assert_eq!(missing.code(), Code::NotFound);

    // Decisions: every problem of a request at once, naming unit, indicator and field.
    let decide = |decisions: Vec<IndicatorDecision>, version: u32| DecideIndicatorsRequest {
        submission_id: q1.clone(),
        version,
        decisions,
    };
    assert_invalid(
        verification
            .decide_indicators(with_auth(decide(vec![accept("1.1")], 0), &verifier))
            .await,
        &["version"],
    );
    assert_invalid(
        verification
            .decide_indicators(with_auth(decide(vec![], 1), &verifier))
            .await,
        &["decisions"],
    );
    let bad_decisions = vec![
        overridden("1.2", &[("a", count(5)), ("b", count(0))], "recounted"),
        overridden("1.3", &[("a", flag(true)), ("b", count(2))], "recounted"),
        overridden("1.5", &[("frequency", count(2))], "checked"),
        overridden("2.1", &[("yes", flag(true))], ""),
        overridden("2.2", &[], "no values"),
        insufficient_without_reason("2.3"),
        IndicatorDecision {
            indicator_code: "2.4".into(),
            kind: DecisionKind::Unspecified as i32,
            ..IndicatorDecision::default()
        },
        accept("42.1"),
        accept("1.1"),
        accept("1.1"),
    ];
    assert_invalid(
        verification
            .decide_indicators(with_auth(decide(bad_decisions, 1), &verifier))
            .await,
        &[
            "unit quan-1 / indicator 1.2 / variable b",
            "unit quan-1 / indicator 1.3 / variable a",
            "unit quan-1 / indicator 1.5 / variable frequency",
            "unit quan-1 / indicator 2.1 / reason",
            "unit quan-1 / indicator 2.2 / variables",
            "unit quan-1 / indicator 2.3 / reason",
            "unit quan-1 / indicator 2.4 / kind",
            "unit quan-1 / indicator 42.1",
            "unit quan-1 / indicator 1.1",
        ],
    );

    let ask = |questions: Vec<(&str, &str)>, version: u32| RequestClarificationRequest {
        submission_id: q1.clone(),
        version,
        questions: questions
            .into_iter()
            .map(|(code, question)| ClarificationQuestion {
                indicator_code: code.into(),
                question: question.into(),
            })
            .collect(),
    };
    assert_invalid(
        verification
            .request_clarification(with_auth(ask(vec![], 1), &verifier))
            .await,
        &["questions"],
    );
    assert_invalid(
        verification
            .request_clarification(with_auth(ask(vec![("1.2", "Why?")], 0), &verifier))
            .await,
        &["version"],
    );
    assert_invalid(
        verification
            .request_clarification(with_auth(
                ask(
                    vec![("1.2", " "), ("77.7", "Why?"), ("2.1", "a"), ("2.1", "b")],
                    1,
                ),
                &verifier,
            ))
            .await,
        &[
            "unit quan-1 / indicator 1.2 / question",
            "unit quan-1 / indicator 77.7",
            "unit quan-1 / indicator 2.1",
        ],
    );
    assert_invalid(
        verification
            .complete_submission(with_auth(
                CompleteSubmissionRequest {
                    submission_id: q1.clone(),
                    version: 0,
                    accept_undecided: true,
                },
                &verifier,
            ))
            .await,
        &["version"],
    );
    assert_invalid(
        verification
            .get_side_by_side(with_auth(
                GetSideBySideRequest {
                    round: Some(round()),
                    unit: None,
                },
                &verifier,
            ))
            .await,
        &["unit"],
    );
    assert_invalid(
        verification
            .get_side_by_side(with_auth(
                GetSideBySideRequest {
                    round: Some(round()),
                    unit: Some(UnitRef {
                        unit_id: " quan-1".into(),
                    }),
                },
                &verifier,
            ))
            .await,
        &["unit.unit_id"],
    );

    let mut approval = stack.approval();
    assert_invalid(
        approval
            .return_for_verification(with_auth(
                ReturnForVerificationRequest {
                    round: Some(round()),
                    reason: "  ".into(),
                },
                &approver,
            ))
            .await,
        &["reason"],
    );
    let mut publication = stack.publication();
    assert_invalid(
        publication
            .publish_correction(with_auth(
                PublishCorrectionRequest {
                    round: Some(round()),
                    reason: String::new(),
                },
                &approver,
            ))
            .await,
        &["reason"],
    );
    let object = |indicator: &str, reason: &str| FileObjectionRequest {
        round: Some(round()),
        unit: Some(unit_ref("quan-1")),
        indicator_code: indicator.into(),
        reason: reason.into(),
    };
    assert_invalid(
        publication
            .file_objection(with_auth(object("", " "), &unit))
            .await,
        &["reason"],
    );
    assert_invalid(
        publication
            .file_objection(with_auth(object("42.1", "wrong"), &unit))
            .await,
        &["indicator_code"],
    );
    assert_invalid(
        publication
            .file_objection(with_auth(
                FileObjectionRequest {
                    unit: None,
                    ..object("", "wrong")
                },
                &unit,
            ))
            .await,
        &["unit"],
    );
    assert_invalid(
        publication
            .list_objections(with_auth(
                ListObjectionsRequest {
                    round: Some(round()),
                    unit_id: " quan-1".into(),
                },
                &verifier,
            ))
            .await,
        &["unit_id"],
    );
    assert_invalid(
        publication
            .answer_objection(with_auth(
                AnswerObjectionRequest {
                    objection_id: "nope".into(),
                    outcome: 1,
                    answer: "ok".into(),
                },
                &approver,
            ))
            .await,
        &["objection_id"],
    );
    assert_invalid(
        publication
            .answer_objection(with_auth(
                AnswerObjectionRequest {
                    objection_id: uuid::Uuid::now_v7().to_string(),
                    outcome: 0,
                    answer: String::new(),
                },
                &approver,
            ))
            .await,
        &["outcome", "answer"],
    );

    assert_eq!(stack.footprint().await?, before, "nothing was stored");
    assert_eq!(stack.round_state().await?, "under_verification");
    stack.close().await
}

fn insufficient_without_reason(code: &str) -> IndicatorDecision {
    IndicatorDecision {
        indicator_code: code.into(),
        kind: DecisionKind::EvidenceInsufficient as i32,
        ..IndicatorDecision::default()
    }
}
