//! Who may write and read owners' data: a data owner writing another department's indicator
//! (alone or mixed with its own), other roles writing at all, and readers of another
//! department are PermissionDenied; missing, expired and forged tokens are Unauthenticated on
//! every owner RPC — and nothing changes.

mod support;

use dti_auth::Role;
use dti_national_sync::Settings;
use dti_proto::dti::nationalsync::v1 as pb;
use dti_testkit::values::flag;
use dti_testkit::{tokens, with_auth, TestBackends};
use support::{
    clients, footprint, indicator_values, money, national_set, one_indicator, owner_request,
    start_service, YEAR,
};
use tonic::Code;

#[tokio::test]
async fn an_owner_writing_another_departments_indicator_is_refused_and_nothing_changes(
) -> anyhow::Result<()> {
    let backends = TestBackends::create().await?;
    let running = start_service(&backends, Settings::default()).await?;
    let mut c = clients(&running);
    let set = national_set();
    let pool = backends.db.pool();
    let before = footprint(pool).await?;

    // so-noi-vu sends its own general information together with 1.1, which is so-tttt's.
    let mut request = owner_request(&set, "so-noi-vu", YEAR, 1);
    request.indicators.push(indicator_values(&set, "1.1", 1));
    let status = c
        .owners
        .submit_owner_values(with_auth(request, &backends.department_token("so-noi-vu")))
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::PermissionDenied);
    assert!(
        status.message().contains("indicator 1.1"),
        "{}",
        status.message()
    );
    assert!(status.message().contains("so-tttt"), "{}", status.message());
    assert_eq!(
        footprint(pool).await?,
        before,
        "nothing was stored, audited or announced"
    );

    // A share of a multi-owner indicator by a department that is not one of its owners.
    let status = c
        .owners
        .submit_owner_values(with_auth(
            one_indicator("6.22", "amount", money(5)),
            &backends.department_token("cuc-thong-ke"),
        ))
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::PermissionDenied);

    // A department that owns nothing in the national set, and non-owner roles.
    for token in [
        backends.department_token("so-y-te"),
        backends.token(Role::Operator),
        backends.token(Role::NationalSync),
        backends.unit_token("quan-1"),
    ] {
        let status = c
            .owners
            .submit_owner_values(with_auth(one_indicator("1.1", "yes", flag(true)), &token))
            .await
            .unwrap_err();
        assert_eq!(status.code(), Code::PermissionDenied);
    }
    // A data owner reading another department, and a unit.
    for token in [
        backends.department_token("so-noi-vu"),
        backends.unit_token("quan-1"),
    ] {
        let status = c
            .owners
            .get_owner_values(with_auth(
                pb::GetOwnerValuesRequest {
                    year: YEAR,
                    department_id: "so-tttt".into(),
                },
                &token,
            ))
            .await
            .unwrap_err();
        assert_eq!(status.code(), Code::PermissionDenied);
    }
    assert_eq!(footprint(pool).await?, before);

    running.stop().await?;
    backends.close().await?;
    Ok(())
}

#[tokio::test]
async fn owner_rpcs_refuse_missing_expired_and_forged_tokens() -> anyhow::Result<()> {
    let backends = TestBackends::create().await?;
    let running = start_service(&backends, Settings::default()).await?;
    let mut c = clients(&running);
    let owner = tokens::data_owner("so-tttt");
    let expired = tokens::expired_bearer(&owner);
    let forged = tokens::forged_bearer(&owner);
    for bearer in [
        None,
        Some(expired),
        Some(forged),
        Some("Bearer not-a-jwt".to_owned()),
    ] {
        let submit = one_indicator("1.1", "yes", flag(true));
        let read = pb::GetOwnerValuesRequest {
            year: YEAR,
            department_id: String::new(),
        };
        let (submit, read) = match &bearer {
            Some(bearer) => (with_auth(submit, bearer), with_auth(read, bearer)),
            None => (tonic::Request::new(submit), tonic::Request::new(read)),
        };
        assert_eq!(
            c.owners
                .submit_owner_values(submit)
                .await
                .unwrap_err()
                .code(),
            Code::Unauthenticated
        );
        assert_eq!(
            c.owners.get_owner_values(read).await.unwrap_err().code(),
            Code::Unauthenticated
        );
    }
    let stored: i64 = sqlx::query_scalar("SELECT count(*) FROM national_owner_parts")
        .fetch_one(backends.db.pool())
        .await?;
    assert_eq!(stored, 0);
    running.stop().await?;
    backends.close().await?;
    Ok(())
}
