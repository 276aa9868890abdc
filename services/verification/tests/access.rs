//! Who may call what: missing, expired, forged and malformed tokens are Unauthenticated on
//! every service; a unit cannot verify or approve, a verifier cannot approve, nobody edits a
//! published revision, a verifier sees a unit's evidence and another unit does not — and a
//! refused call changes nothing.

mod support;

use dti_auth::Role;
use dti_proto::dti::verification::v1::{
    AnswerObjectionRequest, ApproveRoundRequest, CompleteRoundVerificationRequest,
    CompleteSubmissionRequest, DecideIndicatorsRequest, FileObjectionRequest, FinalizeRoundRequest,
    GetPublicationRequest, GetSideBySideRequest, GetVerifiedRankingRequest, ListObjectionsRequest,
    ListSubmissionsRequest, OpenSubmissionRequest, PublishCorrectionRequest, PublishRoundRequest,
    RequestClarificationRequest, ReturnForVerificationRequest, StartRoundVerificationRequest,
};
use dti_testkit::{tokens, with_auth};
use support::{accept, round, unit_ref, values, Stack};
use tonic::{Code, Status};

fn code<T>(result: Result<T, Status>) -> Code {
    match result {
        Ok(_) => Code::Ok,
        Err(status) => status.code(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_tokens_are_unauthenticated_on_every_service() -> anyhow::Result<()> {
    let stack = Stack::start().await?;
    stack
        .submitted_round(&[("quan-1", Some(values(7, 4)))])
        .await?;
    let verifier = tokens::city(Role::Verifier);
    let expired = tokens::expired_bearer(&verifier);
    let forged = tokens::forged_bearer(&verifier);
    let bearers = [
        None,
        Some(expired),
        Some(forged),
        Some("Basic dXNlcjpwYXNz".to_owned()),
        Some("Bearer not.a.jwt".to_owned()),
    ];
    let before = stack.footprint().await?;
    for bearer in &bearers {
        let codes = [
            code(
                stack
                    .verification()
                    .start_round_verification(with_auth_or_none(
                        bearer.as_deref(),
                        StartRoundVerificationRequest {
                            round: Some(round()),
                        },
                    ))
                    .await,
            ),
            code(
                stack
                    .approval()
                    .approve_round(with_auth_or_none(
                        bearer.as_deref(),
                        ApproveRoundRequest {
                            round: Some(round()),
                        },
                    ))
                    .await,
            ),
            code(
                stack
                    .publication()
                    .get_publication(with_auth_or_none(
                        bearer.as_deref(),
                        GetPublicationRequest {
                            round: Some(round()),
                            revision: 0,
                        },
                    ))
                    .await,
            ),
        ];
        assert_eq!(codes, [Code::Unauthenticated; 3], "{bearer:?}");
    }
    assert_eq!(stack.footprint().await?, before);
    assert_eq!(stack.round_state().await?, "closed");
    stack.close().await
}

fn with_auth_or_none<T>(bearer: Option<&str>, message: T) -> tonic::Request<T> {
    match bearer {
        Some(bearer) => with_auth(message, bearer),
        None => tonic::Request::new(message),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_role_does_only_its_part_and_units_see_only_their_own() -> anyhow::Result<()> {
    let stack = Stack::start().await?;
    stack.open_round(&["quan-1", "quan-3"]).await?;
    stack
        .attach_evidence("quan-3", "1.2", "quan-3-minutes.pdf")
        .await?;
    let mut ids = std::collections::BTreeMap::new();
    for (unit, a) in [("quan-1", 7), ("quan-3", 9)] {
        let id = stack.draft(unit).await?;
        stack.set(unit, &id, values(a, 4)).await?;
        stack.submit(unit, &id).await?;
        ids.insert(unit, id);
    }
    stack.close_round().await?;
    let q3 = ids["quan-3"].clone();
    let round = || Some(round());
    let (unit, verifier, approver, operator) = (
        stack.unit("quan-1"),
        stack.verifier(),
        stack.approver(),
        stack.operator(),
    );
    let owner = stack.backends.department_token("so-tttt");
    let before = stack.footprint().await?;

    // A unit cannot verify; nor can an approver, operator or data owner.
    for bearer in [&unit, &approver, &operator, &owner] {
        let mut verification = stack.verification();
        let codes = [
            code(
                verification
                    .start_round_verification(with_auth(
                        StartRoundVerificationRequest { round: round() },
                        bearer,
                    ))
                    .await,
            ),
            code(
                verification
                    .open_submission(with_auth(
                        OpenSubmissionRequest {
                            submission_id: q3.clone(),
                        },
                        bearer,
                    ))
                    .await,
            ),
            code(
                verification
                    .decide_indicators(with_auth(
                        DecideIndicatorsRequest {
                            submission_id: q3.clone(),
                            version: 1,
                            decisions: vec![accept("1.1")],
                        },
                        bearer,
                    ))
                    .await,
            ),
            code(
                verification
                    .request_clarification(with_auth(
                        RequestClarificationRequest {
                            submission_id: q3.clone(),
                            version: 1,
                            questions: vec![],
                        },
                        bearer,
                    ))
                    .await,
            ),
            code(
                verification
                    .complete_submission(with_auth(
                        CompleteSubmissionRequest {
                            submission_id: q3.clone(),
                            version: 1,
                            accept_undecided: true,
                        },
                        bearer,
                    ))
                    .await,
            ),
            code(
                verification
                    .complete_round_verification(with_auth(
                        CompleteRoundVerificationRequest { round: round() },
                        bearer,
                    ))
                    .await,
            ),
        ];
        assert_eq!(codes, [Code::PermissionDenied; 6]);
    }
    // Units and data owners do not list submissions or read the ranking.
    for bearer in [&unit, &owner] {
        assert_eq!(
            code(
                stack
                    .verification()
                    .list_submissions(with_auth(
                        ListSubmissionsRequest {
                            round: round(),
                            state: String::new(),
                        },
                        bearer,
                    ))
                    .await
            ),
            Code::PermissionDenied
        );
        assert_eq!(
            code(
                stack
                    .approval()
                    .get_verified_ranking(with_auth(
                        GetVerifiedRankingRequest { round: round() },
                        bearer,
                    ))
                    .await
            ),
            Code::PermissionDenied
        );
    }
    // Neither a unit nor a verifier (nor an operator) approves, returns or publishes — and
    // nobody but an approver issues a new revision; there is no way to edit one.
    for bearer in [&unit, &verifier, &operator] {
        let codes = [
            code(
                stack
                    .approval()
                    .approve_round(with_auth(ApproveRoundRequest { round: round() }, bearer))
                    .await,
            ),
            code(
                stack
                    .approval()
                    .return_for_verification(with_auth(
                        ReturnForVerificationRequest {
                            round: round(),
                            reason: "again".into(),
                        },
                        bearer,
                    ))
                    .await,
            ),
            code(
                stack
                    .publication()
                    .publish_round(with_auth(PublishRoundRequest { round: round() }, bearer))
                    .await,
            ),
            code(
                stack
                    .publication()
                    .publish_correction(with_auth(
                        PublishCorrectionRequest {
                            round: round(),
                            reason: "edit".into(),
                        },
                        bearer,
                    ))
                    .await,
            ),
        ];
        assert_eq!(codes, [Code::PermissionDenied; 4]);
    }
    // Only operators finalize; only verifiers and approvers answer objections.
    for bearer in [&unit, &verifier, &approver] {
        assert_eq!(
            code(
                stack
                    .publication()
                    .finalize_round(with_auth(FinalizeRoundRequest { round: round() }, bearer))
                    .await
            ),
            Code::PermissionDenied
        );
    }
    for bearer in [&unit, &operator] {
        assert_eq!(
            code(
                stack
                    .publication()
                    .answer_objection(with_auth(
                        AnswerObjectionRequest {
                            objection_id: uuid::Uuid::now_v7().to_string(),
                            outcome: 1,
                            answer: "ok".into(),
                        },
                        bearer,
                    ))
                    .await
            ),
            Code::PermissionDenied
        );
    }
    // A unit objects and reads objections only for itself.
    let for_quan_3 = FileObjectionRequest {
        round: round(),
        unit: Some(unit_ref("quan-3")),
        indicator_code: String::new(),
        reason: "not ours".into(),
    };
    for bearer in [&unit, &verifier, &approver] {
        assert_eq!(
            code(
                stack
                    .publication()
                    .file_objection(with_auth(for_quan_3.clone(), bearer))
                    .await
            ),
            Code::PermissionDenied
        );
    }
    assert_eq!(
        code(
            stack
                .publication()
                .list_objections(with_auth(
                    ListObjectionsRequest {
                        round: round(),
                        unit_id: "quan-3".into(),
                    },
                    &unit,
                ))
                .await
        ),
        Code::PermissionDenied
    );
    assert_eq!(
        stack.footprint().await?,
        before,
        "no refused call changed anything"
    );

    // A verifier sees quan-3's evidence; quan-1 and a data owner do not.
    stack.start_verification().await?;
    let review = stack.open(&q3).await?;
    let evidence: Vec<&str> = review
        .indicators
        .iter()
        .flat_map(|i| i.evidence.iter().map(|e| e.file_name.as_str()))
        .collect();
    assert_eq!(evidence, ["quan-3-minutes.pdf"]);
    let side_by_side = |bearer: &str| {
        with_auth(
            GetSideBySideRequest {
                round: round(),
                unit: Some(unit_ref("quan-3")),
            },
            bearer,
        )
    };
    let seen = stack
        .verification()
        .get_side_by_side(side_by_side(&verifier))
        .await?
        .into_inner();
    assert!(seen.rows.iter().any(|r| !r.evidence.is_empty()));
    let own = stack
        .verification()
        .get_side_by_side(side_by_side(&stack.unit("quan-3")))
        .await?
        .into_inner();
    assert!(
        own.rows.iter().any(|r| !r.evidence.is_empty()),
        "quan-3 sees its own"
    );
    for bearer in [&unit, &owner] {
        let status = stack
            .verification()
            .get_side_by_side(side_by_side(bearer))
            .await
            .unwrap_err();
        assert_eq!(status.code(), Code::PermissionDenied);
        assert!(
            !status.message().contains("minutes"),
            "{}",
            status.message()
        );
    }
    stack.close().await
}
