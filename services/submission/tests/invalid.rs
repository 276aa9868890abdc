//! Invalid values are refused with InvalidArgument naming unit, indicator and variable — the
//! same messages `dtictl` prints — and nothing is stored.

mod support;

use std::time::Duration;

use dti_proto::dti::common::v1::{IndicatorValue, VariableValue};
use dti_proto::dti::submission::v1::{
    GetSubmissionRequest, OpenRoundRequest, SetNotApplicableRequest, SetValuesRequest,
    SubmitRequest,
};
use dti_service_kit::status::field_violations;
use dti_testkit::refusals::assert_names_field;
use dti_testkit::with_auth;
use support::{choice, count, flag, indicator, round, some_values, Stack};
use tonic::Code;

/// What `dtictl validate` says about the same values of quan-1.
fn dtictl_messages(values_json: &str) -> Vec<String> {
    let catalog = dti_domain::FrameworkCatalog::builtin().expect("frameworks");
    let cohort = format!(
        r#"{{"framework": "hcm-2023-district", "units": [{{"unit": "quan-1", "values": {values_json}}}]}}"#
    );
    dti_domain::values::decode_cohort(&cohort, &catalog)
        .issues
        .iter()
        .filter(|issue| issue.is_error())
        .map(|issue| issue.message.clone())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invalid_values_name_their_place_and_store_nothing() -> anyhow::Result<()> {
    let stack = Stack::start().await?;
    let id = stack.drafted_with_values("quan-1").await?;
    let token = stack.unit_token("quan-1");
    let get = || {
        with_auth(
            GetSubmissionRequest {
                submission_id: id.clone(),
            },
            &token,
        )
    };
    let before = stack
        .submissions()
        .get_submission(get())
        .await?
        .into_inner();
    let audit_before = stack.count("audit_log").await?;

    let cases: Vec<(Vec<IndicatorValue>, &str, &str)> = vec![
        (
            vec![indicator("1.1", &[("head_role", choice("boss"))])],
            "indicator 1.1 / variable head_role",
            "boss",
        ),
        (
            vec![indicator("1.2", &[("a", count(1)), ("b", count(0))])],
            "indicator 1.2 / variable b",
            "zero",
        ),
        (
            vec![indicator("1.2", &[("a", count(1))])],
            "indicator 1.2 / variable b",
            "missing",
        ),
        (
            vec![indicator("1.2", &[("a", flag(true)), ("b", count(3))])],
            "indicator 1.2 / variable a",
            "",
        ),
        (
            vec![indicator(
                "1.2",
                &[("a", count(1)), ("b", count(3)), ("z", count(3))],
            )],
            "indicator 1.2 / variable z",
            "not defined",
        ),
        (
            vec![indicator("99.9", &[("a", count(1))])],
            "indicator 99.9",
            "not a scored indicator",
        ),
        (
            vec![indicator(
                "1.2",
                &[("a", VariableValue { value: None }), ("b", count(3))],
            )],
            "indicator 1.2 / variable a",
            "no value",
        ),
        // One bad indicator among good ones refuses them all.
        (
            [
                some_values(20),
                vec![indicator("2.2", &[("yes", choice("maybe"))])],
            ]
            .concat(),
            "indicator 2.2 / variable yes",
            "",
        ),
    ];
    for (values, place, words) in cases {
        let request = SetValuesRequest {
            submission_id: id.clone(),
            values,
        };
        let status = stack
            .submissions()
            .set_values(with_auth(request, &token))
            .await
            .unwrap_err();
        assert_eq!(status.code(), Code::InvalidArgument, "{place}");
        let violations = field_violations(&status);
        let found = violations
            .iter()
            .find(|v| v.field == format!("unit quan-1 / {place}"))
            .unwrap_or_else(|| panic!("no violation at {place}: {violations:?}"));
        assert!(
            found.description.contains(words),
            "{place}: {}",
            found.description
        );
    }

    // Same words as dtictl for the same mistakes.
    let status = stack
        .submissions()
        .set_values(with_auth(
            SetValuesRequest {
                submission_id: id.clone(),
                values: vec![indicator("1.2", &[("a", count(1)), ("b", count(0))])],
            },
            &token,
        ))
        .await
        .unwrap_err();
    let grpc: Vec<String> = field_violations(&status)
        .into_iter()
        .map(|v| v.description)
        .collect();
    assert_eq!(grpc, dtictl_messages(r#"{"1.2": {"a": 1, "b": 0}}"#));

    // Bad request fields.
    let bad_id = stack
        .submissions()
        .set_values(with_auth(
            SetValuesRequest {
                submission_id: "not-a-uuid".into(),
                values: some_values(1),
            },
            &token,
        ))
        .await
        .unwrap_err();
    assert_eq!(bad_id.code(), Code::InvalidArgument);
    assert!(field_violations(&bad_id)
        .iter()
        .any(|v| v.field == "submission_id"));
    let no_reason = stack
        .submissions()
        .set_not_applicable(with_auth(
            SetNotApplicableRequest {
                submission_id: id.clone(),
                indicator_code: "7.3".into(),
                reason: "  ".into(),
            },
            &token,
        ))
        .await
        .unwrap_err();
    assert_eq!(no_reason.code(), Code::InvalidArgument);
    let no_request_id = stack
        .submissions()
        .submit(with_auth(
            SubmitRequest {
                submission_id: id.clone(),
                client_request_id: String::new(),
            },
            &token,
        ))
        .await
        .unwrap_err();
    assert_eq!(no_request_id.code(), Code::InvalidArgument);
    let unknown = stack
        .submissions()
        .get_submission(with_auth(
            GetSubmissionRequest {
                submission_id: uuid::Uuid::now_v7().to_string(),
            },
            &token,
        ))
        .await
        .unwrap_err();
    assert_eq!(unknown.code(), Code::NotFound);

    let after = stack
        .submissions()
        .get_submission(get())
        .await?
        .into_inner();
    assert_eq!(after.values, before.values, "the draft is unchanged");
    assert_eq!(
        stack.count("audit_log").await?,
        audit_before,
        "nothing was audited"
    );
    assert_eq!(stack.count("submission_versions").await?, 0);
    stack.close().await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rounds_refuse_bad_frameworks_years_deadlines_and_cohorts() -> anyhow::Result<()> {
    let stack = Stack::start().await?;
    let token = stack.operator_token();
    let in_an_hour = Some(dti_proto::convert::timestamp(
        chrono::Utc::now() + Duration::from_secs(3600),
    ));
    let open = |year: u32, framework: &str, deadline, units: &[&str]| OpenRoundRequest {
        round: Some(dti_proto::dti::common::v1::RoundRef {
            year,
            framework: framework.into(),
        }),
        deadline,
        unit_ids: units.iter().map(|u| (*u).to_owned()).collect(),
    };
    let past = Some(dti_proto::convert::timestamp(
        chrono::Utc::now() - Duration::from_secs(60),
    ));
    for (request, field) in [
        (
            open(2023, "hcm-2099-district", in_an_hour, &["q"]),
            "round.framework",
        ),
        (
            open(1999, "hcm-2023-district", in_an_hour, &["q"]),
            "round.year",
        ),
        (
            open(2023, "mic-2022-province", in_an_hour, &["q"]),
            "round.framework",
        ),
        (open(2023, "hcm-2023-district", None, &["q"]), "deadline"),
        (open(2023, "hcm-2023-district", past, &["q"]), "deadline"),
        (
            open(2023, "hcm-2023-district", in_an_hour, &["q", "q"]),
            "unit_ids[1]",
        ),
        (open(2031, "hcm-2023-district", in_an_hour, &[]), "unit_ids"),
    ] {
        let status = stack
            .operators()
            .open_round(with_auth(request, &token))
            .await
            .unwrap_err();
        assert_names_field(&status, field, field);
    }
    assert_eq!(
        stack.count("rounds WHERE state <> 'draft'").await?,
        0,
        "no round was opened"
    );

    // The registry's cohort is used when none is listed; a retried open changes nothing.
    let request = open(2023, "hcm-2023-district", in_an_hour, &[]);
    let first = stack
        .operators()
        .open_round(with_auth(request.clone(), &token))
        .await?
        .into_inner();
    assert_eq!(first.unit_ids.len(), 22, "21 districts and Thủ Đức City");
    let retried = stack
        .operators()
        .open_round(with_auth(request, &token))
        .await?
        .into_inner();
    assert_eq!(retried, first);
    let _ = round();
    stack.close().await
}
