//! The scoring gRPC API: who may read which scorecard and when, bad requests, and what-if
//! scoring that equals `dtictl score` on the changed inputs and stores nothing.

mod support;

use std::collections::HashMap;

use dti_auth::{Principal, Role};
use dti_proto::dti::common::v1::{self as common, variable_value::Value as ProtoValue};
use dti_proto::dti::scoring::v1::{Basis, GetScorecardRequest, WhatIfRequest};
use dti_scores::UnitVisibility;
use dti_scoring::Settings;
use dti_service_kit::status::field_violations;
use dti_testkit::refusals::violated_fields;
use dti_testkit::{tokens, with_auth};
use serde_json::json;
use support::*;
use tonic::Code;

async fn scored_env(
    visibility: UnitVisibility,
) -> anyhow::Result<(ScoringEnv, dti_domain::RoundRef, Vec<UnitSubmission>)> {
    let env = ScoringEnv::start(Settings {
        unit_visibility: visibility,
        reconcile_interval_secs: 3600,
        ..Settings::default()
    })
    .await?;
    let framework = "hcm-2023-district";
    let round = round(2023, framework);
    let mut units = sample_units(framework, 5, 61, "A-");
    for (i, unit) in units.iter_mut().enumerate() {
        unit.not_applicable.retain(|code| code != "5.1");
        unit.values
            .insert("5.1".into(), json!({"a": 10 * (i as u64 + 1)}));
    }
    let ids: Vec<String> = units.iter().map(|u| u.unit.clone()).collect();
    create_round(env.pool(), &round, &ids, "open").await?;
    submit_all_scored(&env, &round, &units).await?;
    Ok((env, round, units))
}

fn scorecard_request(
    round: &dti_domain::RoundRef,
    unit: &str,
    basis: Basis,
) -> GetScorecardRequest {
    GetScorecardRequest {
        round: Some(proto_round(round)),
        unit: Some(common::UnitRef {
            unit_id: unit.to_owned(),
        }),
        basis: basis as i32,
    }
}

#[tokio::test]
async fn scorecards_need_a_valid_token_and_the_right_caller() -> anyhow::Result<()> {
    let (env, round, units) = scored_env(UnitVisibility::Live).await?;
    let mut client = env.client();
    let own = &units[0].unit;
    let request = || scorecard_request(&round, own, Basis::SelfAssessed);

    let missing = client.get_scorecard(request()).await.unwrap_err();
    assert_eq!(missing.code(), Code::Unauthenticated);
    let forged = tokens::forged_bearer(&Principal::city("intruder", Role::Verifier));
    let status = client
        .get_scorecard(with_auth(request(), &forged))
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::Unauthenticated);
    let expired = tokens::expired_bearer(&Principal::city("late", Role::Verifier));
    let status = client
        .get_scorecard(with_auth(request(), &expired))
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::Unauthenticated);

    let mine = client
        .get_scorecard(with_auth(request(), &env.backends.unit_token(own)))
        .await?;
    assert_eq!(
        mine.into_inner().unit.map(|u| u.unit_id).as_deref(),
        Some(own.as_str())
    );
    let other = client
        .get_scorecard(with_auth(
            request(),
            &env.backends.unit_token(&units[1].unit),
        ))
        .await
        .unwrap_err();
    assert_eq!(other.code(), Code::PermissionDenied);
    let owner = client
        .get_scorecard(with_auth(
            request(),
            &env.backends.department_token("so-tttt"),
        ))
        .await
        .unwrap_err();
    assert_eq!(owner.code(), Code::PermissionDenied);
    for role in [Role::Verifier, Role::Approver, Role::Operator] {
        let card = client
            .get_scorecard(with_auth(request(), &env.backends.token(role)))
            .await?;
        assert_eq!(card.into_inner().indicators.len(), 51);
    }
    let sync = client
        .get_scorecard(with_auth(
            request(),
            &env.backends.token(Role::NationalSync),
        ))
        .await
        .unwrap_err();
    assert_eq!(sync.code(), Code::PermissionDenied);
    env.close().await
}

#[tokio::test]
async fn units_see_their_scores_only_after_publication_when_so_configured() -> anyhow::Result<()> {
    let (env, round, units) = scored_env(UnitVisibility::AfterPublication).await?;
    let mut client = env.client();
    let own = &units[0].unit;
    let token = env.backends.unit_token(own);
    let request = || scorecard_request(&round, own, Basis::Verified);
    let early = client
        .get_scorecard(with_auth(request(), &token))
        .await
        .unwrap_err();
    assert_eq!(early.code(), Code::PermissionDenied);
    assert!(early.message().contains("published"), "{}", early.message());
    let verifier = client
        .get_scorecard(with_auth(request(), &env.backends.token(Role::Verifier)))
        .await;
    assert!(verifier.is_ok(), "verifiers read before publication");
    set_round_state(env.pool(), &round, "provisional").await?;
    assert!(client
        .get_scorecard(with_auth(request(), &token))
        .await
        .is_ok());
    set_round_state(env.pool(), &round, "final").await?;
    assert!(client
        .get_scorecard(with_auth(request(), &token))
        .await
        .is_ok());
    env.close().await
}

#[tokio::test]
async fn bad_scorecard_requests_name_every_field() -> anyhow::Result<()> {
    let (env, round, units) = scored_env(UnitVisibility::Live).await?;
    let mut client = env.client();
    let token = env.backends.token(Role::Verifier);
    let bad = GetScorecardRequest {
        round: Some(common::RoundRef {
            year: 1999,
            framework: "hcm-2023-district".into(),
        }),
        unit: Some(common::UnitRef {
            unit_id: " spaced".into(),
        }),
        basis: 0,
    };
    let status = client
        .get_scorecard(with_auth(bad, &token))
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::InvalidArgument);
    let fields: Vec<String> = violated_fields(&status);
    assert_eq!(fields, ["round.year", "unit.unit_id", "basis"]);
    let no_round = GetScorecardRequest {
        round: None,
        ..scorecard_request(&round, &units[0].unit, Basis::SelfAssessed)
    };
    let status = client
        .get_scorecard(with_auth(no_round, &token))
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::InvalidArgument);
    assert_eq!(field_violations(&status)[0].field, "round");

    let unknown_round = scorecard_request(
        &support::round(2030, "hcm-2023-district"),
        &units[0].unit,
        Basis::SelfAssessed,
    );
    let status = client
        .get_scorecard(with_auth(unknown_round, &token))
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::NotFound);
    let outsider = scorecard_request(&round, "quan-99", Basis::SelfAssessed);
    let status = client
        .get_scorecard(with_auth(outsider, &token))
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::NotFound);
    // A well-formed framework id that no round is scored on is the caller's mistake, named as
    // such (not "round does not exist"); so is a framework collected by the national sync.
    for framework in ["hcm-2030-district", "mic-2022-province"] {
        let request = scorecard_request(
            &support::round(2023, framework),
            &units[0].unit,
            Basis::SelfAssessed,
        );
        let status = client
            .get_scorecard(with_auth(request, &token))
            .await
            .unwrap_err();
        assert_eq!(status.code(), Code::InvalidArgument, "{framework}");
        assert_eq!(field_violations(&status)[0].field, "round.framework");
    }
    env.close().await
}

fn count(n: u64) -> common::VariableValue {
    common::VariableValue {
        value: Some(ProtoValue::Count(n)),
    }
}

fn what_if_request(round: &dti_domain::RoundRef, unit: &str) -> WhatIfRequest {
    WhatIfRequest {
        round: Some(proto_round(round)),
        unit: Some(common::UnitRef {
            unit_id: unit.to_owned(),
        }),
        values: vec![
            common::IndicatorValue {
                indicator_code: "5.1".into(),
                variables: HashMap::from([("a".into(), count(500))]),
            },
            common::IndicatorValue {
                indicator_code: "1.2".into(),
                variables: HashMap::from([("a".into(), count(7)), ("b".into(), count(7))]),
            },
        ],
        not_applicable: vec!["7.3".into()],
        cleared: vec!["2.1".into()],
    }
}

#[tokio::test]
async fn what_if_scores_a_change_against_the_cohort_and_stores_nothing() -> anyhow::Result<()> {
    let (env, round, units) = scored_env(UnitVisibility::Live).await?;
    let mut client = env.client();
    let own = &units[0].unit;
    let token = env.backends.unit_token(own);
    let version = cohort_version(env.pool(), &round, "self").await?;
    let stored = env.scorecard(&round, own, Basis::SelfAssessed).await?;

    let response = client
        .what_if(with_auth(what_if_request(&round, own), &token))
        .await?
        .into_inner();
    let current = response.current.expect("current scorecard");
    let hypothetical = response.hypothetical.expect("hypothetical scorecard");
    assert_eq!(
        card_scores(&current),
        card_scores(&stored),
        "current equals the stored scorecard"
    );

    // The same change applied to the inputs, scored by dtictl with the whole cohort: the unit's
    // 5.1 becomes the new maximum.
    let mut changed = units.clone();
    changed[0].values.insert("5.1".into(), json!({"a": 500}));
    changed[0]
        .values
        .insert("1.2".into(), json!({"a": 7, "b": 7}));
    changed[0].values.remove("7.3");
    changed[0]
        .not_applicable
        .retain(|code| code != "7.3" && code != "2.1");
    changed[0].not_applicable.push("7.3".into());
    changed[0].values.remove("2.1");
    let expected = dtictl_scores("hcm-2023-district", &changed);
    let (indicators, groups, total) = card_scores(&hypothetical);
    assert_eq!(indicators, expected[own].indicators);
    assert_eq!(groups, expected[own].groups);
    assert_eq!(total, expected[own].total);
    assert_eq!(
        response.total_change_cents,
        hypothetical.total_cents - current.total_cents
    );
    let range = hypothetical
        .cohort_ranges
        .iter()
        .find(|r| r.indicator_code == "5.1")
        .expect("5.1 range");
    assert_eq!((range.max.as_str(), range.units_counted), ("500", 5));

    assert_eq!(
        cohort_version(env.pool(), &round, "self").await?,
        version,
        "nothing stored"
    );
    let after = env.scorecard(&round, own, Basis::SelfAssessed).await?;
    assert_eq!(card_scores(&after), card_scores(&stored));
    env.close().await
}

#[tokio::test]
async fn what_if_is_only_for_the_callers_own_valid_values() -> anyhow::Result<()> {
    let (env, round, units) = scored_env(UnitVisibility::Live).await?;
    let mut client = env.client();
    let own = &units[0].unit;
    let unauthenticated = client
        .what_if(what_if_request(&round, own))
        .await
        .unwrap_err();
    assert_eq!(unauthenticated.code(), Code::Unauthenticated);
    let other = client
        .what_if(with_auth(
            what_if_request(&round, own),
            &env.backends.unit_token(&units[1].unit),
        ))
        .await
        .unwrap_err();
    assert_eq!(other.code(), Code::PermissionDenied);
    let verifier = client
        .what_if(with_auth(
            what_if_request(&round, own),
            &env.backends.token(Role::Verifier),
        ))
        .await
        .unwrap_err();
    assert_eq!(verifier.code(), Code::PermissionDenied);

    let mut bad = what_if_request(&round, own);
    bad.values[1].variables.insert("b".into(), count(0));
    bad.values.push(common::IndicatorValue {
        indicator_code: "42.1".into(),
        variables: HashMap::new(),
    });
    bad.values.push(common::IndicatorValue {
        indicator_code: "1.3".into(),
        variables: HashMap::from([
            (
                "a".into(),
                common::VariableValue {
                    value: Some(ProtoValue::Flag(true)),
                },
            ),
            ("b".into(), count(3)),
        ]),
    });
    bad.cleared.push("5.1".into());
    let token = env.backends.unit_token(own);
    let status = client.what_if(with_auth(bad, &token)).await.unwrap_err();
    assert_eq!(status.code(), Code::InvalidArgument);
    let fields: Vec<String> = violated_fields(&status);
    assert!(
        fields
            .iter()
            .any(|f| f == &format!("unit {own} / indicator 1.2 / variable b")),
        "{fields:?}"
    );
    assert!(
        fields
            .iter()
            .any(|f| f == &format!("unit {own} / indicator 1.3 / variable a")),
        "{fields:?}"
    );
    assert!(
        fields.iter().any(|f| f == "values[2].indicator_code"),
        "{fields:?}"
    );
    assert!(fields.iter().any(|f| f == "cleared[1]"), "{fields:?}");

    let hidden = ScoringEnv::start(Settings {
        unit_visibility: UnitVisibility::AfterPublication,
        ..Settings::default()
    })
    .await?;
    create_round(hidden.pool(), &round, std::slice::from_ref(own), "open").await?;
    let denied = hidden
        .client()
        .what_if(with_auth(
            what_if_request(&round, own),
            &hidden.backends.unit_token(own),
        ))
        .await
        .unwrap_err();
    assert_eq!(denied.code(), Code::PermissionDenied);
    hidden.close().await?;
    env.close().await
}
