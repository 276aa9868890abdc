//! Invalid values are refused with InvalidArgument naming unit, indicator and variable — the
//! same messages `dtictl` prints — and nothing is stored.

mod support;

use std::time::Duration;

use dti_proto::dti::common::v1::{IndicatorValue, VariableValue};
use dti_proto::dti::submission::v1::{
    CreateDraftRequest, GetRoundRequest, GetSubmissionRequest, OpenRoundRequest,
    SetNotApplicableRequest, SetValuesRequest, SubmitRequest,
};
use dti_service_kit::status::field_violations;
use dti_testkit::refusals::{assert_names_field, violated_fields};
use dti_testkit::with_auth;
use support::{choice, count, flag, indicator, round, round_ref, some_values, Stack};
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
        .map(|issue| issue.message.to_string())
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
            ..Default::default()
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
                ..Default::default()
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
                ..Default::default()
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
            open(2023, "hcm-2099-district", in_an_hour, &["quan-1"]),
            "round.framework",
        ),
        (
            open(1999, "hcm-2023-district", in_an_hour, &["quan-1"]),
            "round.year",
        ),
        (
            open(2023, "mic-2022-province", in_an_hour, &["quan-1"]),
            "round.framework",
        ),
        (
            open(2023, "hcm-2023-district", None, &["quan-1"]),
            "deadline",
        ),
        (
            open(2023, "hcm-2023-district", past, &["quan-1"]),
            "deadline",
        ),
        (
            open(2023, "hcm-2023-district", in_an_hour, &["quan-1", "quan-1"]),
            "unit_ids[1]",
        ),
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

/// A field violation as expected: the field and its description.
type Violation<'a> = (&'a str, &'a str);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cohort_is_checked_against_the_unit_registry() -> anyhow::Result<()> {
    let stack = Stack::start().await?;
    let token = stack.operator_token();
    let in_an_hour = Some(dti_proto::convert::timestamp(
        chrono::Utc::now() + Duration::from_secs(3600),
    ));
    let open = |framework: &str, units: &[&str]| OpenRoundRequest {
        round: Some(round_ref(2023, framework)),
        deadline: in_an_hour,
        unit_ids: units.iter().map(|u| (*u).to_owned()).collect(),
    };
    let district = "hcm-2023-district";
    let department = "hcm-2023-department";
    // (round's framework, listed units, every violation expected: field and what it says).
    let cases: Vec<(&str, Vec<&str>, Vec<Violation>)> = vec![
        (
            district,
            vec!["quan-1", "quan-99"],
            vec![(
                "unit_ids[1]",
                "unknown unit quan-99: it is not in the unit registry",
            )],
        ),
        (
            district,
            vec!["so-y-te", "quan-3"],
            vec![(
                "unit_ids[0]",
                "unit so-y-te is a department, the round is for districts",
            )],
        ),
        (
            department,
            vec!["so-y-te", "so-tttt", "quan-1"],
            vec![(
                "unit_ids[2]",
                "unit quan-1 is a district, the round is for departments",
            )],
        ),
        (
            district,
            vec!["thu-duc", "quan-9"],
            vec![(
                "unit_ids[1]",
                "unit quan-9 is not active in 2023 (active until 2020)",
            )],
        ),
        // Every bad id is named, not just the first; good ids among them are not.
        (
            district,
            vec!["quan-99", "quan-1", "so-y-te", "quan-2", "tp-hcm", "quan-1"],
            vec![
                (
                    "unit_ids[0]",
                    "unknown unit quan-99: it is not in the unit registry",
                ),
                (
                    "unit_ids[2]",
                    "unit so-y-te is a department, the round is for districts",
                ),
                (
                    "unit_ids[3]",
                    "unit quan-2 is not active in 2023 (active until 2020)",
                ),
                (
                    "unit_ids[4]",
                    "unit tp-hcm is a province, the round is for districts",
                ),
                ("unit_ids[5]", "unit quan-1 is listed twice"),
            ],
        ),
    ];
    for (framework, units, expected) in cases {
        let context = format!("{framework} with {units:?}");
        let status = stack
            .operators()
            .open_round(with_auth(open(framework, &units), &token))
            .await
            .unwrap_err();
        for (field, _) in &expected {
            assert_names_field(&status, field, &context);
        }
        assert_eq!(
            violated_fields(&status),
            expected.iter().map(|(f, _)| *f).collect::<Vec<_>>(),
            "{context}: exactly the bad ids"
        );
        let described: Vec<(String, String)> = field_violations(&status)
            .into_iter()
            .map(|v| (v.field, v.description))
            .collect();
        let wanted: Vec<(String, String)> = expected
            .iter()
            .map(|(f, d)| ((*f).to_owned(), (*d).to_owned()))
            .collect();
        assert_eq!(described, wanted, "{context}");

        // Nothing was stored: the round does not exist, so no unit can draft in it.
        let missing = stack
            .operators()
            .get_round(with_auth(
                GetRoundRequest {
                    round: Some(round_ref(2023, framework)),
                },
                &token,
            ))
            .await
            .unwrap_err();
        assert_eq!(missing.code(), Code::NotFound, "{context}");
        for table in ["rounds", "round_units", "audit_log", "outbox_messages"] {
            assert_eq!(stack.count(table).await?, 0, "{context}: {table}");
        }
    }
    let unknown_drafts = stack
        .submissions()
        .create_draft(with_auth(
            CreateDraftRequest {
                round: Some(round_ref(2023, district)),
                unit: Some(dti_testkit::values::unit_ref("quan-99")),
            },
            &stack.unit_token("quan-99"),
        ))
        .await
        .unwrap_err();
    assert_eq!(
        unknown_drafts.code(),
        Code::NotFound,
        "no round to draft in"
    );

    // Valid explicit lists are accepted as given.
    for (framework, units) in [
        (district, vec!["thu-duc", "quan-1", "huyen-can-gio"]),
        (department, vec!["so-y-te", "so-tttt"]),
    ] {
        let opened = stack
            .operators()
            .open_round(with_auth(open(framework, &units), &token))
            .await?
            .into_inner();
        let mut listed: Vec<String> = units.iter().map(|u| (*u).to_owned()).collect();
        listed.sort();
        assert_eq!(opened.unit_ids, listed, "{framework}");
    }
    assert_eq!(stack.count("rounds WHERE state = 'open'").await?, 2);
    assert_eq!(stack.count("round_units").await?, 5);
    stack.close().await
}
