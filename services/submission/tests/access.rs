//! Who may call what: missing, expired, forged and malformed tokens are Unauthenticated; a
//! unit touching another unit's submission, or anyone but an operator managing rounds, is
//! PermissionDenied — and nothing changes; rounds are read by the city and by the units they
//! assess.

mod support;

use std::time::Duration;

use dti_auth::Role;
use dti_proto::dti::common::v1::UnitRef;
use dti_proto::dti::submission::v1::{
    CloseRoundRequest, CreateDraftRequest, FindSubmissionRequest, GetRoundRequest,
    GetSubmissionRequest, SetValuesRequest, SubmitRequest,
};
use dti_testkit::{tokens, with_auth};
use support::{round, some_values, Stack};
use tonic::Code;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_tokens_are_unauthenticated() -> anyhow::Result<()> {
    let stack = Stack::start().await?;
    stack
        .open_round(&["quan-1"], Duration::from_secs(3600))
        .await?;
    let request = || CreateDraftRequest {
        round: Some(round()),
        unit: Some(UnitRef {
            unit_id: "quan-1".into(),
        }),
    };
    let submitter = tokens::unit_submitter("quan-1");
    let expired = tokens::expired_bearer(&submitter);
    let forged = tokens::forged_bearer(&submitter);
    let wrong_audience = tokens::wrong_audience_bearer(&submitter);

    let missing = stack
        .submissions()
        .create_draft(request())
        .await
        .unwrap_err();
    assert_eq!(missing.code(), Code::Unauthenticated);
    for (bearer, why) in [
        (expired, "expired"),
        (forged, "signature"),
        (wrong_audience, "audience"),
        ("Basic dXNlcjpwYXNz".to_owned(), "Bearer"),
        ("Bearer not.a.jwt".to_owned(), "malformed"),
    ] {
        let status = stack
            .submissions()
            .create_draft(with_auth(request(), &bearer))
            .await
            .unwrap_err();
        assert_eq!(status.code(), Code::Unauthenticated, "{why}: {status:?}");
        assert!(
            status.message().contains(why),
            "{why}: {}",
            status.message()
        );
    }
    assert_eq!(stack.count("submissions").await?, 0, "no draft was created");
    stack.close().await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_unit_cannot_touch_another_units_submission() -> anyhow::Result<()> {
    let stack = Stack::start().await?;
    stack
        .open_round(&["quan-1", "quan-3"], Duration::from_secs(3600))
        .await?;
    let q3 = stack.draft("quan-3").await?.submission_id;
    stack.set("quan-3", &q3, some_values(2)).await?;
    let intruder = stack.unit_token("quan-1");
    let audit_before = stack.count("audit_log").await?;

    let create = CreateDraftRequest {
        round: Some(round()),
        unit: Some(UnitRef {
            unit_id: "quan-3".into(),
        }),
    };
    let set = SetValuesRequest {
        submission_id: q3.clone(),
        values: some_values(30),
        ..Default::default()
    };
    let submit = SubmitRequest {
        submission_id: q3.clone(),
        client_request_id: "x".into(),
    };
    let get = GetSubmissionRequest {
        submission_id: q3.clone(),
    };
    let find = FindSubmissionRequest {
        round: Some(round()),
        unit: Some(UnitRef {
            unit_id: "quan-3".into(),
        }),
    };
    let mut client = stack.submissions();
    let codes = [
        client
            .create_draft(with_auth(create, &intruder))
            .await
            .unwrap_err()
            .code(),
        client
            .set_values(with_auth(set.clone(), &intruder))
            .await
            .unwrap_err()
            .code(),
        client
            .submit(with_auth(submit, &intruder))
            .await
            .unwrap_err()
            .code(),
        client
            .get_submission(with_auth(get.clone(), &intruder))
            .await
            .unwrap_err()
            .code(),
        client
            .find_submission(with_auth(find, &intruder))
            .await
            .unwrap_err()
            .code(),
    ];
    assert_eq!(codes, [Code::PermissionDenied; 5]);

    // City-wide readers may read, but not write; a unit outside the cohort gets no draft.
    let verifier = stack.backends.token(Role::Verifier);
    client.get_submission(with_auth(get, &verifier)).await?;
    let status = client
        .set_values(with_auth(set, &verifier))
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::PermissionDenied);
    let outsider = CreateDraftRequest {
        round: Some(round()),
        unit: Some(UnitRef {
            unit_id: "quan-12".into(),
        }),
    };
    let status = client
        .create_draft(with_auth(outsider, &stack.unit_token("quan-12")))
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::PermissionDenied);

    // Only operators manage rounds.
    let close = CloseRoundRequest {
        round: Some(round()),
    };
    for bearer in [
        stack.unit_token("quan-1"),
        verifier,
        stack.backends.token(Role::Approver),
    ] {
        let status = stack
            .operators()
            .close_round(with_auth(close.clone(), &bearer))
            .await
            .unwrap_err();
        assert_eq!(status.code(), Code::PermissionDenied);
    }
    assert_eq!(
        stack.count("audit_log").await?,
        audit_before,
        "nothing was changed"
    );
    let state: String = sqlx::query_scalar("SELECT state FROM rounds")
        .fetch_one(stack.backends.db.pool())
        .await?;
    assert_eq!(state, "open");
    stack.close().await
}

#[tokio::test]
async fn a_round_is_read_by_the_city_and_by_the_units_it_assesses() -> anyhow::Result<()> {
    let stack = Stack::start().await?;
    stack
        .open_round(&["quan-1", "quan-3"], Duration::from_secs(3600))
        .await?;
    let read = |bearer: String| {
        let mut operators = stack.operators();
        async move {
            operators
                .get_round(with_auth(
                    GetRoundRequest {
                        round: Some(round()),
                    },
                    &bearer,
                ))
                .await
        }
    };
    for bearer in [
        stack.backends.token(Role::Operator),
        stack.backends.token(Role::Verifier),
        stack.backends.token(Role::Approver),
        stack.unit_token("quan-1"),
    ] {
        let round = read(bearer).await?.into_inner();
        assert_eq!(round.unit_ids, ["quan-1", "quan-3"]);
    }
    for (bearer, who) in [
        (stack.unit_token("quan-4"), "unit quan-4"),
        (stack.backends.department_token("so-tttt"), "a data owner"),
        (
            stack.backends.token(Role::NationalSync),
            "the national sync",
        ),
        (stack.backends.token(Role::PublicReader), "a public reader"),
    ] {
        let refused = read(bearer).await.expect_err(who);
        assert_eq!(refused.code(), Code::PermissionDenied, "{who}: {refused:?}");
    }
    stack.close().await
}
