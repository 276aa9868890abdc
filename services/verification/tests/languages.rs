//! The verifier sees the warnings about a unit's self-assessed and verified values side by
//! side — among them the general-information cross-check (a count of the unit's THÔNG TIN CHUNG
//! that differs from the indicator variable restating it) — and the service's refusals (invalid
//! requests, a step the round's state does not allow) are written, in the language of the
//! request: Vietnamese without `accept-language`, English with `accept-language: en`.

mod support;

use dti_i18n::{Lang, Message};
use dti_proto::dti::verification::v1::{
    AnswerObjectionRequest, FileObjectionRequest, GetSideBySideRequest, ListSubmissionsRequest,
    ObjectionOutcome, SideBySide, ValueWarning,
};
use dti_service_kit::status::{field_violations, FieldViolation};
use dti_testkit::values::info_number;
use dti_testkit::{in_language, with_auth};
use dti_verification::model::MAX_TEXT_BYTES;
use support::{count, indicator, overridden, round, unit_ref, values, Stack};
use tonic::Code;

fn shown(warnings: &[ValueWarning]) -> Vec<(String, String)> {
    warnings
        .iter()
        .map(|w| (w.field.clone(), w.description.clone()))
        .collect()
}

/// quan-1's side by side as a verifier reads it, in `languages` (none: the default).
async fn quan_1_side_by_side(
    stack: &Stack,
    languages: Option<&'static str>,
) -> Result<SideBySide, tonic::Status> {
    let request = GetSideBySideRequest {
        round: Some(round()),
        unit: Some(unit_ref("quan-1")),
    };
    let request = in_language(with_auth(request, &stack.verifier()), languages);
    Ok(stack
        .verification()
        .get_side_by_side(request)
        .await?
        .into_inner())
}

fn capped(num: &str) -> Message {
    Message::new("issue-ratio-capped")
        .arg("numerator", "a")
        .arg("num", num)
        .arg("denominator", "b")
        .arg("den", "10")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_verifier_sees_both_sides_warnings_in_the_requests_language() -> anyhow::Result<()> {
    let stack = Stack::start().await?;
    // quan-1 reports 12 meetings of 10 (a warning, submitted anyway).
    let ids = stack
        .submitted_round(&[
            ("quan-1", Some(values(12, 4))),
            ("quan-3", Some(values(9, 8))),
        ])
        .await?;
    let q1 = ids["quan-1"].clone();
    stack.start_verification().await?;
    stack.open(&q1).await?;
    // The verifier finds 11: still more than 10, a warning on the verified side too.
    stack
        .decide(
            &q1,
            1,
            vec![overridden(
                "1.2",
                &[("a", count(11)), ("b", count(10))],
                "one meeting was counted twice",
            )],
        )
        .await?;
    let vietnamese: SideBySide = quan_1_side_by_side(&stack, None).await?;
    let english: SideBySide = quan_1_side_by_side(&stack, Some("en-US,en;q=0.8")).await?;
    let place = "unit quan-1 / indicator 1.2 / variable a".to_owned();
    assert_eq!(
        shown(&vietnamese.self_warnings),
        [(place.clone(), capped("12").render(Lang::Vi))]
    );
    assert_eq!(
        shown(&vietnamese.verified_warnings),
        [(place.clone(), capped("11").render(Lang::Vi))]
    );
    assert!(vietnamese.self_warnings[0]
        .description
        .contains("tỷ lệ được tính tối đa 100%"));
    assert_eq!(
        shown(&english.self_warnings),
        [(
            place.clone(),
            "a = 12 exceeds b = 10; the ratio is capped at 100%".to_owned()
        )]
    );
    assert_eq!(
        shown(&english.verified_warnings),
        [(
            place,
            "a = 11 exceeds b = 10; the ratio is capped at 100%".to_owned()
        )]
    );
    // The rest of the view does not depend on the language.
    assert_eq!(vietnamese.rows, english.rows);
    stack.close().await
}

fn civil_servants(e: u64) -> Vec<(&'static str, dti_proto::dti::common::v1::VariableValue)> {
    vec![
        ("a", count(2)),
        ("b", count(3)),
        ("c", count(1)),
        ("d", count(1)),
        ("e", count(e)),
        ("f", count(30)),
    ]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_general_information_cross_check_is_shown_side_by_side() -> anyhow::Result<()> {
    let stack = Stack::start().await?;
    stack.open_round(&["quan-1", "quan-3"]).await?;
    // quan-1 reports 100 civil servants in its general information, but 120 in 4.3 e.
    let q1 = stack.draft("quan-1").await?;
    let mut q1_values = values(7, 4);
    q1_values.push(indicator("4.3", &civil_servants(120)));
    stack.set("quan-1", &q1, q1_values).await?;
    stack
        .submission_api()
        .set_general_info("quan-1", &q1, vec![("civil_servants", info_number(100))])
        .await?;
    stack.submit("quan-1", &q1).await?;
    let q3 = stack.draft("quan-3").await?;
    stack.set("quan-3", &q3, values(9, 8)).await?;
    stack.submit("quan-3", &q3).await?;
    stack.close_round().await?;
    stack.start_verification().await?;
    stack.open(&q1).await?;
    // The verifier finds 100 on the payroll: the verified side agrees with the general
    // information.
    stack
        .decide(
            &q1,
            1,
            vec![overridden(
                "4.3",
                &civil_servants(100),
                "the payroll lists 100 civil servants",
            )],
        )
        .await?;
    let differs = Message::new("issue-general-info-differs")
        .arg("restated", 120u64)
        .arg("code", "1.10")
        .arg("key", "civil_servants")
        .arg("reported", 100u64);
    let place = "unit quan-1 / indicator 4.3 / variable e".to_owned();
    for (languages, lang) in [(None, Lang::Vi), (Some("en"), Lang::En)] {
        let view: SideBySide = quan_1_side_by_side(&stack, languages).await?;
        assert_eq!(
            shown(&view.self_warnings),
            [(place.clone(), differs.render(lang))],
            "{lang:?}"
        );
        assert!(
            shown(&view.verified_warnings).is_empty(),
            "{lang:?}: {:?}",
            view.verified_warnings
        );
    }
    stack.close().await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refusals_are_written_in_vietnamese_by_default_and_in_english_on_request(
) -> anyhow::Result<()> {
    let stack = Stack::start().await?;
    stack.open_round(&["quan-1"]).await?;

    // An answer without an outcome or a text is refused before anything is read.
    let objection_id = uuid::Uuid::now_v7().to_string();
    let approver = stack.approver();
    let answer = |languages: Option<&'static str>| {
        let request = AnswerObjectionRequest {
            objection_id: objection_id.clone(),
            outcome: ObjectionOutcome::Unspecified as i32,
            answer: "  ".into(),
        };
        let request = in_language(with_auth(request, &approver), languages);
        let mut client = stack.publication();
        async move { client.answer_objection(request).await.unwrap_err() }
    };
    let vietnamese = answer(None).await;
    let english = answer(Some("en-GB,en;q=0.9")).await;
    for status in [&vietnamese, &english] {
        assert_eq!(status.code(), Code::InvalidArgument, "{status:?}");
    }
    let answer_needed = Message::new("verification-answer-needed").arg("max", MAX_TEXT_BYTES);
    assert_eq!(
        field_violations(&vietnamese),
        [
            FieldViolation::new(
                "outcome",
                Message::new("verification-outcome-needed").render(Lang::Vi)
            ),
            FieldViolation::new("answer", answer_needed.render(Lang::Vi)),
        ]
    );
    assert_eq!(
        field_violations(&english),
        [
            FieldViolation::new("outcome", "must be upheld or rejected"),
            FieldViolation::new("answer", "must answer the unit (1 to 2000 bytes)"),
        ]
    );
    assert!(
        vietnamese.message().starts_with(&format!(
            "câu trả lời kiến nghị {objection_id} bị từ chối; chưa lưu gì"
        )),
        "{}",
        vietnamese.message()
    );
    assert!(
        english.message().starts_with(&format!(
            "answer to objection {objection_id} refused; nothing was stored"
        )),
        "{}",
        english.message()
    );

    // A state filter that is no submission state.
    let verifier = stack.verifier();
    let listed = |languages: Option<&'static str>| {
        let request = ListSubmissionsRequest {
            round: Some(round()),
            state: "nonsense".into(),
        };
        let request = in_language(with_auth(request, &verifier), languages);
        let mut client = stack.verification();
        async move { client.list_submissions(request).await.unwrap_err() }
    };
    let not_a_state = Message::new("verification-not-a-state").arg("text", "\"nonsense\"");
    assert_eq!(
        field_violations(&listed(None).await),
        [FieldViolation::new("state", not_a_state.render(Lang::Vi))]
    );
    assert_eq!(
        field_violations(&listed(Some("en")).await),
        [FieldViolation::new(
            "state",
            "\"nonsense\" is not a submission state (draft, submitted, \
             clarification_requested, under_verification, verified)"
        )]
    );

    // An objection while the round is still open: refused for the round's state.
    let unit = stack.unit("quan-1");
    let object = |languages: Option<&'static str>| {
        let request = FileObjectionRequest {
            round: Some(round()),
            unit: Some(unit_ref("quan-1")),
            indicator_code: "1.2".into(),
            reason: "our meetings were all counted".into(),
        };
        let request = in_language(with_auth(request, &unit), languages);
        let mut client = stack.publication();
        async move { client.file_objection(request).await.unwrap_err() }
    };
    let vietnamese = object(None).await;
    let english = object(Some("en")).await;
    for status in [&vietnamese, &english] {
        assert_eq!(status.code(), Code::FailedPrecondition, "{status:?}");
    }
    let not_now = Message::new("verification-object-not-now").arg("state", "open");
    assert_eq!(vietnamese.message(), not_now.render(Lang::Vi));
    assert_eq!(
        vietnamese.message(),
        "kỳ đánh giá đang ở trạng thái open; chỉ được kiến nghị khi kết quả của kỳ đang là \
         tạm thời (provisional)"
    );
    assert_eq!(
        english.message(),
        "the round is open; objections are filed only while its result is provisional"
    );
    stack.close().await
}
