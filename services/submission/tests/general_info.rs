//! General information (THÔNG TIN CHUNG) travels with a submission: replaced by
//! `SubmitAssessment`, merged field by field by `SetValues`, kept in each version, answered by
//! `GetSubmission` and `ListVersions`, cross-checked against the indicator variables that
//! restate it (a warning on submit, in the request's language), and refused field by field when
//! it does not fit the framework — with nothing stored — or when another unit sends it.

mod support;

use std::collections::HashMap;
use std::time::Duration;

use dti_i18n::{Lang, Message};
use dti_proto::dti::common::v1::{GeneralInfoValue, IndicatorValue, UnitRef};
use dti_proto::dti::submission::v1::{
    GetSubmissionRequest, SetValuesRequest, Submission, SubmissionState, SubmitAssessmentRequest,
    SubmitResponse, ValidationWarning,
};
use dti_testkit::refusals::{assert_names_field, violated_fields};
use dti_testkit::values::{info_contact, info_number, info_text};
use dti_testkit::{in_language, with_auth};
use support::{count, indicator, round, some_values, Stack};
use tonic::Code;

/// quan-1's values with 4.3 restating 120 civil servants (`e`) and 30 public employees (`f`).
fn values_with_headcounts() -> Vec<IndicatorValue> {
    let mut values = some_values(7);
    values.push(indicator(
        "4.3",
        &[
            ("a", count(2)),
            ("b", count(3)),
            ("c", count(1)),
            ("d", count(1)),
            ("e", count(120)),
            ("f", count(30)),
        ],
    ));
    values
}

fn fields(pairs: Vec<(&str, GeneralInfoValue)>) -> HashMap<String, GeneralInfoValue> {
    pairs
        .into_iter()
        .map(|(key, value)| (key.to_owned(), value))
        .collect()
}

fn assessment(
    general_info: Vec<(&str, GeneralInfoValue)>,
    request_id: &str,
) -> SubmitAssessmentRequest {
    SubmitAssessmentRequest {
        round: Some(round()),
        unit: Some(UnitRef {
            unit_id: "quan-1".into(),
        }),
        values: values_with_headcounts(),
        client_request_id: request_id.into(),
        general_info: fields(general_info),
        ..Default::default()
    }
}

/// quan-1's submission `id` as quan-1 reads it.
async fn quan_1_submission(stack: &Stack, id: &str) -> anyhow::Result<Submission> {
    let request = GetSubmissionRequest {
        submission_id: id.to_owned(),
    };
    let token = stack.unit_token("quan-1");
    Ok(stack
        .submissions()
        .get_submission(with_auth(request, &token))
        .await?
        .into_inner())
}

fn on(warnings: &[ValidationWarning], field: &str) -> Vec<String> {
    warnings
        .iter()
        .filter(|w| w.field == field)
        .map(|w| w.description.clone())
        .collect()
}

fn differs(reported: u64) -> Message {
    Message::new("issue-general-info-differs")
        .arg("restated", 120u64)
        .arg("code", "1.10")
        .arg("key", "civil_servants")
        .arg("reported", reported)
}

const CIVIL_SERVANTS_PLACE: &str = "unit quan-1 / indicator 4.3 / variable e";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn general_information_is_stored_versioned_merged_and_cross_checked() -> anyhow::Result<()> {
    let stack = Stack::start().await?;
    stack
        .open_round(&["quan-1", "quan-3"], Duration::from_secs(3600))
        .await?;
    let token = stack.unit_token("quan-1");
    let submit = |request: SubmitAssessmentRequest, languages: Option<&'static str>| {
        let request = in_language(with_auth(request, &token), languages);
        let mut client = stack.submissions();
        async move {
            client
                .submit_assessment(request)
                .await
                .map(|r| r.into_inner())
        }
    };
    let reported = vec![
        ("civil_servants", info_number(100)),
        ("name", info_text("UBND Quận 1")),
        (
            "data_provider",
            info_contact("Nguyễn Văn A", "028 3829 0000"),
        ),
    ];

    // Submitted with 100 civil servants while 4.3 e restates 120: stored anyway, with a
    // warning naming the variable, in Vietnamese by default and in English when asked.
    let first: SubmitResponse = submit(assessment(reported.clone(), "g-1"), None).await?;
    assert_eq!(first.version, 1);
    assert_eq!(
        on(&first.warnings, CIVIL_SERVANTS_PLACE),
        [differs(100).render(Lang::Vi)]
    );
    let retried = submit(assessment(reported.clone(), "g-1"), Some("en")).await?;
    assert_eq!(retried.version, 1, "a retry returns the first version");
    assert_eq!(
        on(&retried.warnings, CIVIL_SERVANTS_PLACE),
        [differs(100).render(Lang::En)]
    );
    let submission = first.submission.expect("submission");
    assert_eq!(submission.general_info, fields(reported.clone()));
    let id = submission.submission_id.clone();
    let stored = quan_1_submission(&stack, &id).await?;
    assert_eq!(stored.general_info, fields(reported.clone()), "as stored");

    // SetValues changes only the fields it names: the name and the contact stay.
    let set = SetValuesRequest {
        submission_id: id.clone(),
        general_info: fields(vec![("civil_servants", info_number(120))]),
        ..Default::default()
    };
    let changed = stack
        .submissions()
        .set_values(with_auth(set, &token))
        .await?
        .into_inner();
    let draft = changed.submission.expect("submission");
    let mut merged = fields(reported.clone());
    merged.insert("civil_servants".into(), info_number(120));
    assert_eq!(draft.general_info, merged);
    assert_eq!(stack.submit("quan-1", &id, "g-2").await?, 2);

    // Each version keeps the general information it was submitted with.
    let versions = stack.api().versions("quan-1", &id).await?;
    assert_eq!(versions.len(), 2);
    assert_eq!(versions[0].general_info, fields(reported.clone()));
    assert_eq!(versions[1].general_info, merged);

    // Agreeing with 4.3 e, the cross-check has nothing to say.
    let agreeing = vec![("civil_servants", info_number(120))];
    let third = submit(assessment(agreeing.clone(), "g-3"), None).await?;
    assert_eq!(third.version, 3);
    assert!(on(&third.warnings, CIVIL_SERVANTS_PLACE).is_empty());
    assert_eq!(
        third.submission.expect("submission").general_info,
        fields(agreeing),
        "SubmitAssessment replaces the general information"
    );
    stack.close().await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn general_information_that_does_not_fit_is_refused_naming_the_field() -> anyhow::Result<()> {
    let stack = Stack::start().await?;
    stack
        .open_round(&["quan-1", "quan-3"], Duration::from_secs(3600))
        .await?;
    let token = stack.unit_token("quan-1");
    let first = stack
        .submissions()
        .submit_assessment(with_auth(
            assessment(vec![("civil_servants", info_number(120))], "ok-1"),
            &token,
        ))
        .await?
        .into_inner();
    let id = first.submission.expect("submission").submission_id;
    let versions_before = stack.count("submission_versions").await?;

    let no_value = GeneralInfoValue { value: None };
    let place = |key: &str| format!("unit quan-1 / general information {key}");
    for (bad, key) in [
        (("colour", info_text("red")), "colour"),
        (("civil_servants", info_text("many")), "civil_servants"),
        (("name", info_number(3)), "name"),
        (("households", info_contact("X", "1")), "households"),
        (("population", no_value), "population"),
    ] {
        let what = format!("{bad:?}");
        let refused = stack
            .submissions()
            .submit_assessment(with_auth(assessment(vec![bad.clone()], "bad-1"), &token))
            .await
            .unwrap_err();
        assert_names_field(&refused, &place(key), &what);
        let set = SetValuesRequest {
            submission_id: id.clone(),
            general_info: fields(vec![bad]),
            ..Default::default()
        };
        let refused = stack
            .submissions()
            .set_values(with_auth(set, &token))
            .await
            .unwrap_err();
        assert_names_field(&refused, &place(key), &what);
    }

    // A bad value and a bad field are refused together, each named.
    let mut both = assessment(vec![("colour", info_text("red"))], "bad-2");
    both.values = vec![indicator("1.2", &[("a", count(1)), ("b", count(0))])];
    let refused = stack
        .submissions()
        .submit_assessment(with_auth(both, &token))
        .await
        .unwrap_err();
    let named = violated_fields(&refused);
    assert!(
        named.contains(&"unit quan-1 / indicator 1.2 / variable b".to_owned())
            && named.contains(&place("colour")),
        "{named:?}"
    );

    // Another unit may not set quan-1's general information.
    let intruder = SetValuesRequest {
        submission_id: id.clone(),
        general_info: fields(vec![("civil_servants", info_number(1))]),
        ..Default::default()
    };
    let refused = stack
        .submissions()
        .set_values(with_auth(intruder, &stack.unit_token("quan-3")))
        .await
        .unwrap_err();
    assert_eq!(refused.code(), Code::PermissionDenied);

    // Nothing was stored by any refused request.
    assert_eq!(stack.count("submission_versions").await?, versions_before);
    let stored = quan_1_submission(&stack, &id).await?;
    assert_eq!(
        stored.general_info,
        fields(vec![("civil_servants", info_number(120))])
    );
    assert_eq!(
        stored.state,
        SubmissionState::Submitted as i32,
        "no refused request moved it back to draft"
    );
    stack.close().await
}
