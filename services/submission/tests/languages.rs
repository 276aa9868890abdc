//! The service answers in the caller's language: Vietnamese without `accept-language`, English
//! with `accept-language: en` — the same refusal (code, fields) in words of each language, from
//! the catalogues; and a unit's submit returns the warnings about its values in its language;
//! and an operator's refused cohort is explained in the operator's language.

mod support;

use dti_i18n::{Lang, Message};
use dti_proto::dti::submission::v1::{OpenRoundRequest, SetValuesRequest, SubmitRequest};
use dti_service_kit::status::{field_violations, FieldViolation};
use dti_testkit::{in_language, with_auth};
use support::{count, indicator, round_ref, some_values, Stack};
use tonic::Code;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bad_set_values_is_refused_in_vietnamese_by_default_and_in_english_on_request(
) -> anyhow::Result<()> {
    let stack = Stack::start().await?;
    let id = stack.drafted_with_values("quan-1").await?;
    let token = stack.unit_token("quan-1");
    let refused = |languages: Option<&'static str>| {
        let request = SetValuesRequest {
            submission_id: id.clone(),
            values: vec![indicator("1.2", &[("a", count(1)), ("b", count(0))])],
            ..Default::default()
        };
        let mut client = stack.submissions();
        let request = in_language(with_auth(request, &token), languages);
        async move { client.set_values(request).await.unwrap_err() }
    };
    let vietnamese = refused(None).await;
    let english = refused(Some("en-GB,en;q=0.9")).await;
    let asked_vietnamese = refused(Some("vi-VN")).await;

    for status in [&vietnamese, &english, &asked_vietnamese] {
        assert_eq!(status.code(), Code::InvalidArgument);
    }
    let fields = |status: &tonic::Status| -> Vec<String> {
        field_violations(status)
            .into_iter()
            .map(|v: FieldViolation| v.field)
            .collect()
    };
    assert_eq!(
        fields(&vietnamese),
        ["unit quan-1 / indicator 1.2 / variable b"]
    );
    assert_eq!(fields(&english), fields(&vietnamese), "the same fields");
    let zero = Message::new("issue-zero-denominator");
    assert_eq!(
        field_violations(&vietnamese)[0].description,
        zero.render(Lang::Vi)
    );
    assert_eq!(
        field_violations(&english)[0].description,
        "denominator is zero; the ratio cannot be computed"
    );
    assert_eq!(vietnamese.message(), asked_vietnamese.message());
    assert!(
        vietnamese
            .message()
            .starts_with("số liệu của đơn vị quan-1 bị từ chối"),
        "{}",
        vietnamese.message()
    );
    assert!(
        english
            .message()
            .starts_with("values of unit quan-1 rejected; nothing was stored"),
        "{}",
        english.message()
    );

    // A request field the shared parsers check: "must be set" in each language.
    let missing = |languages: Option<&'static str>| {
        let request = SetValuesRequest {
            submission_id: String::new(),
            values: some_values(1),
            ..Default::default()
        };
        let mut client = stack.submissions();
        let request = in_language(with_auth(request, &token), languages);
        async move { client.set_values(request).await.unwrap_err() }
    };
    let vi = field_violations(&missing(None).await);
    let en = field_violations(&missing(Some("en")).await);
    assert_eq!(vi, [FieldViolation::new("submission_id", "phải được nhập")]);
    assert_eq!(en, [FieldViolation::new("submission_id", "must be set")]);
    stack.close().await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_unit_is_warned_on_submit_in_its_language() -> anyhow::Result<()> {
    let stack = Stack::start().await?;
    stack
        .open_round(&["quan-1"], std::time::Duration::from_secs(3600))
        .await?;
    let id = stack.draft("quan-1").await?.submission_id;
    // 40 of 34: stored and submitted, with a warning each time.
    stack.set("quan-1", &id, some_values(40)).await?;
    let token = stack.unit_token("quan-1");
    let submit = |languages: Option<&'static str>| {
        let request = SubmitRequest {
            submission_id: id.clone(),
            client_request_id: "first".into(),
        };
        let mut client = stack.submissions();
        let request = in_language(with_auth(request, &token), languages);
        async move { client.submit(request).await.map(|r| r.into_inner()) }
    };
    let vietnamese = submit(None).await?;
    // The retry answers the same version, with the same warnings, in English.
    let english = submit(Some("en")).await?;
    assert_eq!(vietnamese.version, 1);
    assert_eq!(english.version, 1);
    let place = "unit quan-1 / indicator 1.2 / variable a";
    let expected = Message::new("issue-ratio-capped")
        .arg("numerator", "a")
        .arg("num", "40")
        .arg("denominator", "b")
        .arg("den", "34");
    let seen: Vec<(&str, &str)> = vietnamese
        .warnings
        .iter()
        .map(|w| (w.field.as_str(), w.description.as_str()))
        .collect();
    assert_eq!(seen, [(place, expected.render(Lang::Vi).as_str())]);
    assert_eq!(
        expected.render(Lang::Vi),
        "a = 40 lớn hơn b = 34; tỷ lệ được tính tối đa 100%"
    );
    let seen: Vec<(&str, &str)> = english
        .warnings
        .iter()
        .map(|w| (w.field.as_str(), w.description.as_str()))
        .collect();
    assert_eq!(
        seen,
        [(place, "a = 40 exceeds b = 34; the ratio is capped at 100%")]
    );
    stack.close().await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_cohort_is_explained_in_vietnamese_by_default_and_in_english_on_request(
) -> anyhow::Result<()> {
    let stack = Stack::start().await?;
    let token = stack.operator_token();
    let open = |languages: Option<&'static str>| {
        let request = OpenRoundRequest {
            round: Some(round_ref(2023, "hcm-2023-district")),
            deadline: Some(dti_proto::convert::timestamp(
                chrono::Utc::now() + std::time::Duration::from_secs(3600),
            )),
            unit_ids: vec!["quan-1".into(), "so-y-te".into(), "quan-1".into()],
        };
        let mut client = stack.operators();
        let request = in_language(with_auth(request, &token), languages);
        async move { client.open_round(request).await.unwrap_err() }
    };
    let vietnamese = open(None).await;
    let english = open(Some("en")).await;
    for status in [&vietnamese, &english] {
        assert_eq!(status.code(), Code::InvalidArgument);
    }
    let described = |status: &tonic::Status| -> Vec<(String, String)> {
        field_violations(status)
            .into_iter()
            .map(|v| (v.field, v.description))
            .collect()
    };
    assert_eq!(
        described(&english),
        [
            (
                "unit_ids[1]".to_owned(),
                "unit so-y-te is a department, the round is for districts".to_owned()
            ),
            (
                "unit_ids[2]".to_owned(),
                "unit quan-1 is listed twice".to_owned()
            ),
        ]
    );
    let other_kind = Message::new("round-unit-other-kind")
        .arg("unit", "so-y-te")
        .arg("kind", Message::new("round-unit-is-department"))
        .arg("assessed", Message::new("round-for-districts"));
    let twice = Message::new("round-unit-twice").arg("unit", "quan-1");
    assert_eq!(
        described(&vietnamese),
        [
            ("unit_ids[1]".to_owned(), other_kind.render(Lang::Vi)),
            ("unit_ids[2]".to_owned(), twice.render(Lang::Vi)),
        ]
    );
    assert_eq!(twice.render(Lang::Vi), "đơn vị quan-1 được liệt kê hai lần");
    assert!(
        english
            .message()
            .starts_with("invalid cohort for round 2023/hcm-2023-district"),
        "{}",
        english.message()
    );
    assert!(
        vietnamese
            .message()
            .starts_with("nhóm đơn vị của kỳ đánh giá 2023/hcm-2023-district không hợp lệ"),
        "{}",
        vietnamese.message()
    );
    assert_eq!(stack.count("rounds").await?, 0, "no round was created");
    stack.close().await
}
