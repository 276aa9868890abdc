//! The bounds every service enforces at its edge (`dti_service_kit::text_guard`) and the
//! bounds of the values themselves (`dti_domain::values`), through the real submission
//! service: a control character in any text, a text or a list beyond the platform's bounds,
//! and a count or an activities list beyond the values' bounds are refused with
//! `InvalidArgument` naming the field, the refusal fits the headers clients accept, and
//! nothing is stored.

use std::time::Duration;

use dti_auth::Role;
use dti_domain::values::MAX_ACTIVITIES;
use dti_proto::dti::common::v1::{
    variable_value, Activity, ActivityList, IndicatorValue, RoundRef, UnitRef, VariableValue,
};
use dti_proto::dti::submission::v1::round_operator_service_client::RoundOperatorServiceClient;
use dti_proto::dti::submission::v1::submission_service_client::SubmissionServiceClient;
use dti_proto::dti::submission::v1::{NotApplicable, OpenRoundRequest, SubmitAssessmentRequest};
use dti_service_kit::status::field_violations;
use dti_service_kit::text_guard::{MAX_ENTRIES, MAX_TEXT_CHARS};
use dti_testkit::{with_auth, TestBackends};
use tonic::Code;

fn round() -> RoundRef {
    RoundRef {
        year: 2023,
        framework: "hcm-2023-district".into(),
    }
}

fn count(value: u64) -> VariableValue {
    VariableValue {
        value: Some(variable_value::Value::Count(value)),
    }
}

fn assessment(request_id: &str) -> SubmitAssessmentRequest {
    SubmitAssessmentRequest {
        round: Some(round()),
        unit: Some(UnitRef {
            unit_id: "quan-1".into(),
        }),
        values: Vec::new(),
        not_applicable: Vec::new(),
        client_request_id: request_id.into(),
        ..Default::default()
    }
}

#[tokio::test]
async fn control_characters_and_unbounded_texts_and_lists_are_refused_naming_the_field(
) -> anyhow::Result<()> {
    let backends = TestBackends::create().await?;
    let config = backends.service_config(dti_submission::Settings::default());
    let service = dti_submission::build(&config).await?.spawn()?;
    let open = OpenRoundRequest {
        round: Some(round()),
        deadline: Some(dti_proto::convert::timestamp(
            chrono::Utc::now() + Duration::from_secs(3600),
        )),
        unit_ids: vec!["quan-1".into()],
    };
    RoundOperatorServiceClient::new(service.channel())
        .open_round(with_auth(open, &backends.token(Role::Operator)))
        .await?;
    let unit = backends.unit_token("quan-1");
    let mut client = SubmissionServiceClient::new(service.channel());

    let mut refusals = Vec::new();
    // A NUL in the request id (PostgreSQL would refuse it deep inside).
    refusals.push((assessment("retry-1\0"), vec!["client_request_id"]));
    // An escape sequence in a reason, a NUL in a code.
    let mut request = assessment("retry-2");
    request.not_applicable.push(NotApplicable {
        indicator_code: "2.1".into(),
        reason: "không áp dụng\u{1b}[2J".into(),
    });
    request.values.push(IndicatorValue {
        indicator_code: "1.2\0".into(),
        variables: Default::default(),
    });
    refusals.push((
        request,
        vec!["values[0].indicator_code", "not_applicable[0].reason"],
    ));
    // A mebibyte of request id, and more entries than any form has.
    let mut request = assessment(&"x".repeat(1 << 20));
    request.values = (0..=MAX_ENTRIES)
        .map(|i| IndicatorValue {
            indicator_code: i.to_string(),
            variables: Default::default(),
        })
        .collect();
    refusals.push((request, vec!["values", "client_request_id"]));
    // A count of 2^64-1 and an activities list longer than any unit's: the values' own bounds
    // (`dti_domain::values::MAX_WHOLE`, `MAX_ACTIVITIES`), named by unit, indicator and variable.
    let mut request = assessment("retry-4");
    request.values.push(IndicatorValue {
        indicator_code: "1.2".into(),
        variables: [("a", count(u64::MAX)), ("b", count(5))]
            .into_iter()
            .map(|(name, value)| (name.to_owned(), value))
            .collect(),
    });
    let activity = Activity {
        reports: 1,
        resolved: 1,
    };
    request.values.push(IndicatorValue {
        indicator_code: "8.5".into(),
        variables: [(
            "activities".to_owned(),
            VariableValue {
                value: Some(variable_value::Value::Activities(ActivityList {
                    activities: vec![activity; MAX_ACTIVITIES + 1],
                })),
            },
        )]
        .into_iter()
        .collect(),
    });
    refusals.push((
        request,
        vec![
            "unit quan-1 / indicator 1.2 / variable a",
            "unit quan-1 / indicator 8.5 / variable activities",
        ],
    ));

    for (request, fields) in refusals {
        let refused = client
            .submit_assessment(with_auth(request, &unit))
            .await
            .expect_err("refused at the edge");
        assert_eq!(refused.code(), Code::InvalidArgument, "{refused:?}");
        let named: Vec<String> = field_violations(&refused)
            .into_iter()
            .map(|v| v.field)
            .collect();
        assert_eq!(named, fields, "{}", refused.message());
        assert!(
            refused.message().len() < 1024,
            "short: {}",
            refused.message()
        );
        assert!(
            !refused.message().contains("xxxxxxxxxx"),
            "the input is not echoed"
        );
    }
    let long = "x".repeat(MAX_TEXT_CHARS + 1);
    let refused = client
        .submit_assessment(with_auth(assessment(&long), &unit))
        .await
        .expect_err("refused");
    assert!(field_violations(&refused)[0]
        .description
        .contains(&format!("longer than {MAX_TEXT_CHARS}")));

    // Nothing was stored; a clean request still goes through.
    let stored: i64 = sqlx::query_scalar("SELECT count(*) FROM submissions")
        .fetch_one(backends.db.pool())
        .await?;
    assert_eq!(stored, 0);
    let accepted = client
        .submit_assessment(with_auth(assessment("retry-3\twith a tab"), &unit))
        .await;
    assert!(
        !matches!(&accepted, Err(status) if status.code() == Code::InvalidArgument
            && field_violations(status).iter().any(|v| v.field == "client_request_id")),
        "{accepted:?}"
    );
    service.stop().await?;
    backends.close().await?;
    Ok(())
}
