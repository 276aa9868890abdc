//! Every service through the gateway: a round opened by an operator, a unit's self-assessment
//! submitted, scored and ranked, read by the unit, a verifier, an operator and a data owner,
//! all as JSON over HTTP; the OpenAPI document served; the gateway's metrics.

mod support;

use std::time::Duration;

use dti_auth::Role;
use reqwest::Method;
use serde_json::{json, Value};
use support::{eventually, round_json, Platform};

/// The assessment a district submits: two indicators in the canonical JSON mapping (64-bit
/// counts as strings).
fn assessment(unit: &str, request_id: &str) -> Value {
    json!({
        "round": round_json(),
        "unit": {"unitId": unit},
        "values": [
            {"indicatorCode": "1.2", "variables": {"a": {"count": "33"}, "b": {"count": "57"}}},
            {"indicatorCode": "2.2", "variables": {"yes": {"flag": true}}},
        ],
        "clientRequestId": request_id,
    })
}

/// Opens the district round for `units` as an operator, through the gateway.
pub async fn open_round(platform: &Platform, units: &[&str]) {
    let deadline = (chrono::Utc::now() + chrono::Duration::days(1)).to_rfc3339();
    platform
        .call(
            "dti.submission.v1.RoundOperatorService/OpenRound",
            &platform.token(Role::Operator),
            &json!({"round": round_json(), "deadline": deadline, "unitIds": units}),
        )
        .await
        .expect(200);
}

#[tokio::test]
async fn a_unit_submits_and_every_service_answers_its_callers_as_json() -> anyhow::Result<()> {
    let platform = Platform::start(|_| {}).await?;
    open_round(&platform, &["quan-1", "quan-3"]).await;

    // Submission: the unit sends its whole self-assessment.
    let submitted = platform
        .call(
            "dti.submission.v1.SubmissionService/SubmitAssessment",
            &platform.unit_token("quan-1"),
            &assessment("quan-1", "first"),
        )
        .await;
    submitted.expect(200);
    let submitted = submitted.json();
    assert_eq!(submitted["version"], 1, "{submitted}");
    let submission_id = submitted["submission"]["submissionId"]
        .as_str()
        .expect("the submission has an id")
        .to_owned();

    let found = platform
        .call(
            "dti.submission.v1.SubmissionService/GetSubmission",
            &platform.unit_token("quan-1"),
            &json!({"submissionId": submission_id}),
        )
        .await;
    found.expect(200);
    assert_eq!(found.json()["unit"]["unitId"], "quan-1");

    // Scoring: the unit reads its scorecard once the submission is scored.
    let scorecard = eventually(Duration::from_secs(20), || async {
        let answer = platform
            .call(
                "dti.scoring.v1.ScoringService/GetScorecard",
                &platform.unit_token("quan-1"),
                &json!({"round": round_json(), "unit": {"unitId": "quan-1"}, "basis": "BASIS_SELF_ASSESSED"}),
            )
            .await;
        (answer.status == 200).then(|| answer.json())
    })
    .await
    .expect("the scorecard appears");
    assert_eq!(scorecard["unit"]["unitId"], "quan-1");
    assert!(
        scorecard["indicators"]
            .as_array()
            .is_some_and(|i| !i.is_empty()),
        "{scorecard}"
    );

    // Ranking: an operator reads the cohort's ranking.
    let ranking = eventually(Duration::from_secs(20), || async {
        let answer = platform
            .call(
                "dti.ranking.v1.RankingService/GetRanking",
                &platform.token(Role::Operator),
                &json!({"round": round_json(), "basis": "BASIS_SELF_ASSESSED"}),
            )
            .await;
        let json = (answer.status == 200).then(|| answer.json())?;
        json.to_string().contains("quan-1").then_some(json)
    })
    .await
    .expect("the ranking lists the unit");
    assert_eq!(ranking["round"]["year"], 2023, "{ranking}");

    // Verification: a verifier lists the round's submissions.
    let listed = platform
        .call(
            "dti.verification.v1.VerificationService/ListSubmissions",
            &platform.token(Role::Verifier),
            &json!({"round": round_json()}),
        )
        .await;
    listed.expect(200);
    assert!(listed.json().to_string().contains(&submission_id));

    // Evidence: the unit lists its (no) documents.
    let evidence = platform
        .call(
            "dti.evidence.v1.EvidenceService/ListEvidence",
            &platform.unit_token("quan-1"),
            &json!({"round": round_json(), "unit": {"unitId": "quan-1"}}),
        )
        .await;
    evidence.expect(200);
    assert_eq!(
        evidence.json(),
        json!({}),
        "no documents: every field at its default"
    );

    // National sync: a data owner reads its own values for a year.
    let owner = platform
        .call(
            "dti.nationalsync.v1.OwnerDataService/GetOwnerValues",
            &platform.department_token("so-tttt"),
            &json!({"year": 2024}),
        )
        .await;
    owner.expect(200);
    assert!(owner.json().get("missing").is_some(), "{}", owner.json());

    // The OpenAPI document is the one generated from the descriptors.
    let served = platform
        .send(Method::GET, "/openapi.json", None, None, &[])
        .await;
    served.expect(200);
    let pool = dti_gateway::catalog::descriptor_pool()?;
    assert_eq!(served.json(), dti_gateway::openapi::document(&pool));

    let metrics = platform
        .http
        .get(platform.gateway_metrics_url())
        .send()
        .await?
        .text()
        .await?;
    assert!(
        metrics.contains("dti_gateway_requests_total{rpc=\"dti.ranking.v1.RankingService/GetRanking\",status=\"200\"}"),
        "{metrics}"
    );
    platform.stop().await
}

#[tokio::test]
async fn a_caller_touching_data_that_is_not_theirs_gets_403_and_a_bad_token_401(
) -> anyhow::Result<()> {
    let platform = Platform::start(|_| {}).await?;
    open_round(&platform, &["quan-1", "quan-3"]).await;
    platform
        .call(
            "dti.submission.v1.SubmissionService/SubmitAssessment",
            &platform.unit_token("quan-1"),
            &assessment("quan-1", "first"),
        )
        .await
        .expect(200);

    // Another unit submitting for quan-1, reading its evidence and its scorecard.
    let other = platform.unit_token("quan-3");
    let answer = platform
        .call(
            "dti.submission.v1.SubmissionService/SubmitAssessment",
            &other,
            &assessment("quan-1", "intruder"),
        )
        .await;
    answer.expect(403);
    assert_eq!(answer.json()["code"], "PERMISSION_DENIED");
    platform
        .call(
            "dti.evidence.v1.EvidenceService/ListEvidence",
            &other,
            &json!({"round": round_json(), "unit": {"unitId": "quan-1"}}),
        )
        .await
        .expect(403);
    platform
        .call(
            "dti.scoring.v1.ScoringService/GetScorecard",
            &other,
            &json!({"round": round_json(), "unit": {"unitId": "quan-1"}, "basis": "BASIS_SELF_ASSESSED"}),
        )
        .await
        .expect(403);
    // A unit acting as an operator, a data owner reading another department's values.
    platform
        .call(
            "dti.submission.v1.RoundOperatorService/CloseRound",
            &other,
            &json!({"round": round_json()}),
        )
        .await
        .expect(403);
    platform
        .call(
            "dti.nationalsync.v1.OwnerDataService/GetOwnerValues",
            &platform.department_token("so-tttt"),
            &json!({"year": 2024, "departmentId": "so-noi-vu"}),
        )
        .await
        .expect(403);
    let versions = platform.backends.count_rows("submission_versions").await?;
    assert_eq!(versions, 1, "the refused calls stored nothing");

    // No token, a forged one, an expired one: 401 from the services, message passed on.
    let body = serde_json::to_vec(&json!({"round": round_json()}))?;
    let none = platform
        .send(
            Method::POST,
            "/v1/dti.ranking.v1.RankingService/GetRanking",
            None,
            Some(("application/json", body)),
            &[],
        )
        .await;
    none.expect(401);
    assert_eq!(none.json()["code"], "UNAUTHENTICATED");
    let principal = dti_testkit::tokens::city(Role::Operator);
    for bearer in [
        dti_testkit::tokens::forged_bearer(&principal),
        dti_testkit::tokens::expired_bearer(&principal),
        "Bearer not-a-jwt".to_owned(),
    ] {
        platform
            .call(
                "dti.ranking.v1.RankingService/GetRanking",
                &bearer,
                &json!({"round": round_json()}),
            )
            .await
            .expect(401);
    }
    platform.stop().await
}
