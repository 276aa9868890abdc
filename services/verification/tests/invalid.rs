//! Bad input to every RPC is refused with InvalidArgument naming the field (and, for values,
//! the unit, indicator and variable), and nothing is stored. The cases are a table: who calls,
//! which RPC with which request, and the fields the refusal must name.

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
use dti_testkit::refusals::violated_fields;
use dti_testkit::with_auth;
use support::{accept, count, flag, overridden, round, unit_ref, values, Stack};
use tonic::{Code, Status};

/// Asserts that `result` of the call `what` is InvalidArgument whose violations name exactly
/// `fields`.
fn assert_invalid(result: Result<(), Status>, fields: &[&str], what: &str) {
    let Err(status) = result else {
        panic!("refused: {what}");
    };
    assert_eq!(status.code(), Code::InvalidArgument, "{what}: {status:?}");
    let named: Vec<String> = violated_fields(&status);
    assert_eq!(named, fields, "{what}: {}", status.message());
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

/// Who makes a call.
#[derive(Debug, Clone, Copy)]
enum Caller {
    Verifier,
    Approver,
    Operator,
    /// quan-1's submitter.
    Unit,
}

/// One request to one RPC of the verification service.
#[derive(Debug)]
enum Call {
    StartRoundVerification(StartRoundVerificationRequest),
    ListSubmissions(ListSubmissionsRequest),
    OpenSubmission(OpenSubmissionRequest),
    DecideIndicators(DecideIndicatorsRequest),
    RequestClarification(RequestClarificationRequest),
    CompleteSubmission(CompleteSubmissionRequest),
    CompleteRoundVerification(CompleteRoundVerificationRequest),
    GetSideBySide(GetSideBySideRequest),
    GetVerifiedRanking(GetVerifiedRankingRequest),
    ApproveRound(ApproveRoundRequest),
    ReturnForVerification(ReturnForVerificationRequest),
    PublishRound(PublishRoundRequest),
    PublishCorrection(PublishCorrectionRequest),
    GetPublication(GetPublicationRequest),
    ListPublications(ListPublicationsRequest),
    FileObjection(FileObjectionRequest),
    ListObjections(ListObjectionsRequest),
    AnswerObjection(AnswerObjectionRequest),
    FinalizeRound(FinalizeRoundRequest),
}

impl Call {
    /// Sends the request with `bearer`; only whether it was refused, and how, matters.
    async fn send(self, stack: &Stack, bearer: &str) -> Result<(), Status> {
        let (mut verification, mut approval, mut publication) =
            (stack.verification(), stack.approval(), stack.publication());
        match self {
            Call::StartRoundVerification(request) => verification
                .start_round_verification(with_auth(request, bearer))
                .await
                .map(drop),
            Call::ListSubmissions(request) => verification
                .list_submissions(with_auth(request, bearer))
                .await
                .map(drop),
            Call::OpenSubmission(request) => verification
                .open_submission(with_auth(request, bearer))
                .await
                .map(drop),
            Call::DecideIndicators(request) => verification
                .decide_indicators(with_auth(request, bearer))
                .await
                .map(drop),
            Call::RequestClarification(request) => verification
                .request_clarification(with_auth(request, bearer))
                .await
                .map(drop),
            Call::CompleteSubmission(request) => verification
                .complete_submission(with_auth(request, bearer))
                .await
                .map(drop),
            Call::CompleteRoundVerification(request) => verification
                .complete_round_verification(with_auth(request, bearer))
                .await
                .map(drop),
            Call::GetSideBySide(request) => verification
                .get_side_by_side(with_auth(request, bearer))
                .await
                .map(drop),
            Call::GetVerifiedRanking(request) => approval
                .get_verified_ranking(with_auth(request, bearer))
                .await
                .map(drop),
            Call::ApproveRound(request) => approval
                .approve_round(with_auth(request, bearer))
                .await
                .map(drop),
            Call::ReturnForVerification(request) => approval
                .return_for_verification(with_auth(request, bearer))
                .await
                .map(drop),
            Call::PublishRound(request) => publication
                .publish_round(with_auth(request, bearer))
                .await
                .map(drop),
            Call::PublishCorrection(request) => publication
                .publish_correction(with_auth(request, bearer))
                .await
                .map(drop),
            Call::GetPublication(request) => publication
                .get_publication(with_auth(request, bearer))
                .await
                .map(drop),
            Call::ListPublications(request) => publication
                .list_publications(with_auth(request, bearer))
                .await
                .map(drop),
            Call::FileObjection(request) => publication
                .file_objection(with_auth(request, bearer))
                .await
                .map(drop),
            Call::ListObjections(request) => publication
                .list_objections(with_auth(request, bearer))
                .await
                .map(drop),
            Call::AnswerObjection(request) => publication
                .answer_objection(with_auth(request, bearer))
                .await
                .map(drop),
            Call::FinalizeRound(request) => publication
                .finalize_round(with_auth(request, bearer))
                .await
                .map(drop),
        }
    }
}

/// A refused call: who makes it, the call, and the fields the refusal names, in order.
type Case = (Caller, Call, Vec<&'static str>);

/// Every RPC that takes a round, with the bad round `bad` (which names `field`).
fn bad_round_cases(bad: Option<RoundRef>, field: &'static str) -> Vec<Case> {
    use Call::*;
    use Caller::*;
    let calls = vec![
        (
            Verifier,
            StartRoundVerification(StartRoundVerificationRequest { round: bad.clone() }),
        ),
        (
            Verifier,
            ListSubmissions(ListSubmissionsRequest {
                round: bad.clone(),
                state: String::new(),
            }),
        ),
        (
            Verifier,
            CompleteRoundVerification(CompleteRoundVerificationRequest { round: bad.clone() }),
        ),
        (
            Unit,
            GetSideBySide(GetSideBySideRequest {
                round: bad.clone(),
                unit: Some(unit_ref("quan-1")),
            }),
        ),
        (
            Approver,
            GetVerifiedRanking(GetVerifiedRankingRequest { round: bad.clone() }),
        ),
        (
            Approver,
            ApproveRound(ApproveRoundRequest { round: bad.clone() }),
        ),
        (
            Approver,
            ReturnForVerification(ReturnForVerificationRequest {
                round: bad.clone(),
                reason: "why".into(),
            }),
        ),
        (
            Approver,
            PublishRound(PublishRoundRequest { round: bad.clone() }),
        ),
        (
            Approver,
            PublishCorrection(PublishCorrectionRequest {
                round: bad.clone(),
                reason: "why".into(),
            }),
        ),
        (
            Unit,
            GetPublication(GetPublicationRequest {
                round: bad.clone(),
                revision: 0,
            }),
        ),
        (
            Unit,
            ListPublications(ListPublicationsRequest { round: bad.clone() }),
        ),
        (
            Unit,
            FileObjection(FileObjectionRequest {
                round: bad.clone(),
                unit: Some(unit_ref("quan-1")),
                indicator_code: String::new(),
                reason: "why".into(),
            }),
        ),
        (
            Verifier,
            ListObjections(ListObjectionsRequest {
                round: bad.clone(),
                unit_id: String::new(),
            }),
        ),
        (Operator, FinalizeRound(FinalizeRoundRequest { round: bad })),
    ];
    calls
        .into_iter()
        .map(|(caller, call)| (caller, call, vec![field]))
        .collect()
}

/// Bad input other than the round, on submission `q1` (version 1, under verification).
fn bad_field_cases(q1: &str) -> Vec<Case> {
    use Call::*;
    use Caller::*;
    let decide = |decisions: Vec<IndicatorDecision>, version: u32| {
        DecideIndicators(DecideIndicatorsRequest {
            submission_id: q1.to_owned(),
            version,
            decisions,
        })
    };
    let ask = |questions: Vec<(&str, &str)>, version: u32| {
        RequestClarification(RequestClarificationRequest {
            submission_id: q1.to_owned(),
            version,
            questions: questions
                .into_iter()
                .map(|(code, question)| ClarificationQuestion {
                    indicator_code: code.into(),
                    question: question.into(),
                })
                .collect(),
        })
    };
    let object = |indicator: &str, reason: &str| FileObjectionRequest {
        round: Some(round()),
        unit: Some(unit_ref("quan-1")),
        indicator_code: indicator.into(),
        reason: reason.into(),
    };
    // Decisions: every problem of a request at once, naming unit, indicator and field.
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
    vec![
        (
            Verifier,
            ListSubmissions(ListSubmissionsRequest {
                round: Some(round()),
                state: "pending".into(),
            }),
            vec!["state"],
        ),
        (
            Verifier,
            OpenSubmission(OpenSubmissionRequest {
                submission_id: "not-a-uuid".into(),
            }),
            vec!["submission_id"],
        ),
        (Verifier, decide(vec![accept("1.1")], 0), vec!["version"]),
        (Verifier, decide(vec![], 1), vec!["decisions"]),
        (
            Verifier,
            decide(bad_decisions, 1),
            vec![
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
        ),
        (Verifier, ask(vec![], 1), vec!["questions"]),
        (Verifier, ask(vec![("1.2", "Why?")], 0), vec!["version"]),
        (
            Verifier,
            ask(
                vec![("1.2", " "), ("77.7", "Why?"), ("2.1", "a"), ("2.1", "b")],
                1,
            ),
            vec![
                "unit quan-1 / indicator 1.2 / question",
                "unit quan-1 / indicator 77.7",
                "unit quan-1 / indicator 2.1",
            ],
        ),
        (
            Verifier,
            CompleteSubmission(CompleteSubmissionRequest {
                submission_id: q1.to_owned(),
                version: 0,
                accept_undecided: true,
            }),
            vec!["version"],
        ),
        (
            Verifier,
            GetSideBySide(GetSideBySideRequest {
                round: Some(round()),
                unit: None,
            }),
            vec!["unit"],
        ),
        (
            Verifier,
            GetSideBySide(GetSideBySideRequest {
                round: Some(round()),
                unit: Some(UnitRef {
                    unit_id: " quan-1".into(),
                }),
            }),
            vec!["unit.unit_id"],
        ),
        (
            Approver,
            ReturnForVerification(ReturnForVerificationRequest {
                round: Some(round()),
                reason: "  ".into(),
            }),
            vec!["reason"],
        ),
        (
            Approver,
            PublishCorrection(PublishCorrectionRequest {
                round: Some(round()),
                reason: String::new(),
            }),
            vec!["reason"],
        ),
        (Unit, FileObjection(object("", " ")), vec!["reason"]),
        (
            Unit,
            FileObjection(object("42.1", "wrong")),
            vec!["indicator_code"],
        ),
        (
            Unit,
            FileObjection(FileObjectionRequest {
                unit: None,
                ..object("", "wrong")
            }),
            vec!["unit"],
        ),
        (
            Verifier,
            ListObjections(ListObjectionsRequest {
                round: Some(round()),
                unit_id: " quan-1".into(),
            }),
            vec!["unit_id"],
        ),
        (
            Approver,
            AnswerObjection(AnswerObjectionRequest {
                objection_id: "nope".into(),
                outcome: 1,
                answer: "ok".into(),
            }),
            vec!["objection_id"],
        ),
        (
            Approver,
            AnswerObjection(AnswerObjectionRequest {
                objection_id: uuid::Uuid::now_v7().to_string(),
                outcome: 0,
                answer: String::new(),
            }),
            vec!["outcome", "answer"],
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
    let bearer = |caller: Caller| match caller {
        Caller::Verifier => stack.verifier(),
        Caller::Approver => stack.approver(),
        Caller::Operator => stack.operator(),
        Caller::Unit => stack.unit("quan-1"),
    };

    let cases = bad_rounds()
        .into_iter()
        .flat_map(|(bad, field)| bad_round_cases(bad, field))
        .chain(bad_field_cases(&q1));
    for (caller, call, fields) in cases {
        let what = format!("{caller:?} {call:?}");
        let result = call.send(&stack, &bearer(caller)).await;
        assert_invalid(result, &fields, &what);
    }
    let missing = Call::OpenSubmission(OpenSubmissionRequest {
        submission_id: uuid::Uuid::now_v7().to_string(),
    })
    .send(&stack, &stack.verifier())
    .await
    .unwrap_err();
    assert_eq!(missing.code(), Code::NotFound);

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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_malformed_request_is_refused_as_such_whatever_the_round_state() -> anyhow::Result<()> {
    // Submitted, but verification has not started: a well-formed request would be refused
    // with FailedPrecondition; a malformed one is still named as malformed.
    let stack = Stack::start().await?;
    let ids = stack
        .submitted_round(&[("quan-1", Some(values(7, 4)))])
        .await?;
    let q1 = ids["quan-1"].clone();
    let before = stack.footprint().await?;
    let ask = |questions: Vec<ClarificationQuestion>, version: u32| {
        Call::RequestClarification(RequestClarificationRequest {
            submission_id: q1.clone(),
            version,
            questions,
        })
    };
    let why = || ClarificationQuestion {
        indicator_code: "1.2".into(),
        question: "Why?".into(),
    };
    let cases = [
        (ask(vec![], 1), vec!["questions"]),
        (ask(vec![why()], 0), vec!["version"]),
        (
            Call::DecideIndicators(DecideIndicatorsRequest {
                submission_id: q1.clone(),
                version: 0,
                decisions: vec![],
            }),
            vec!["version"],
        ),
    ];
    for (call, fields) in cases {
        let what = format!("{call:?}");
        assert_invalid(call.send(&stack, &stack.verifier()).await, &fields, &what);
    }
    // The same request, well formed, meets the state.
    let not_now = ask(vec![why()], 1)
        .send(&stack, &stack.verifier())
        .await
        .unwrap_err();
    assert_eq!(not_now.code(), Code::FailedPrecondition, "{not_now:?}");
    assert_eq!(stack.footprint().await?, before, "nothing was stored");
    stack.close().await
}
