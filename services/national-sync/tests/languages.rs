//! The national sync answers in the caller's language: Vietnamese without `accept-language`,
//! English with `accept-language: en` — the same refusal (code, fields) in words of each
//! language, from the catalogues: an owner's values for a year before the national set and for
//! an item it does not have, and a sync with nowhere to push.

mod support;

use dti_auth::Role;
use dti_i18n::{Lang, Message};
use dti_national_sync::national_set::ItemKind;
use dti_national_sync::Settings;
use dti_proto::dti::nationalsync::v1 as pb;
use dti_service_kit::status::{field_violations, FieldViolation};
use dti_testkit::values::flag;
use dti_testkit::{in_language, with_auth, TestBackends};
use support::{clients, footprint, one_indicator, start_service, YEAR};
use tonic::Code;

#[tokio::test]
async fn an_owners_bad_values_are_refused_in_vietnamese_by_default_and_in_english_on_request(
) -> anyhow::Result<()> {
    let backends = TestBackends::create().await?;
    let running = start_service(&backends, Settings::default()).await?;
    let c = clients(&running);
    let pool = backends.db.pool();
    let before = footprint(pool).await?;
    let token = backends.department_token("so-tttt");
    // 2021 is before the national set applies; 10.1 is not one of its indicators.
    let refused = |languages: Option<&'static str>| {
        let request = pb::SubmitOwnerValuesRequest {
            year: 2021,
            ..one_indicator("10.1", "yes", flag(true))
        };
        let request = in_language(with_auth(request, &token), languages);
        let mut owners = c.owners.clone();
        async move { owners.submit_owner_values(request).await.unwrap_err() }
    };
    let vietnamese = refused(None).await;
    let english = refused(Some("en-GB,en;q=0.9")).await;
    for status in [&vietnamese, &english] {
        assert_eq!(status.code(), Code::InvalidArgument, "{}", status.message());
    }
    let before_set = Message::new("sync-year-before-set")
        .arg("framework", "mic-2022-province")
        .arg("first", "2022")
        .arg("year", "2021");
    let unknown = Message::new("sync-item-not-in-framework")
        .arg("item", ItemKind::Indicator.named("\"10.1\""))
        .arg("framework", "mic-2022-province");
    assert_eq!(
        field_violations(&vietnamese),
        [
            FieldViolation::new("year", before_set.render(Lang::Vi)),
            FieldViolation::new("indicators[0].indicator_code", unknown.render(Lang::Vi)),
        ]
    );
    assert_eq!(
        field_violations(&vietnamese)[1].description,
        "chỉ số \"10.1\" không có trong bộ chỉ số mic-2022-province"
    );
    assert_eq!(
        field_violations(&english),
        [
            FieldViolation::new(
                "year",
                "the national set mic-2022-province applies from 2022; got 2021"
            ),
            FieldViolation::new(
                "indicators[0].indicator_code",
                "indicator \"10.1\" is not in framework mic-2022-province"
            ),
        ]
    );
    assert!(
        vietnamese
            .message()
            .starts_with("số liệu của đơn vị sở hữu dữ liệu bị từ chối; chưa lưu gì"),
        "{}",
        vietnamese.message()
    );
    assert!(
        english
            .message()
            .starts_with("owner values rejected; nothing was stored"),
        "{}",
        english.message()
    );
    assert_eq!(footprint(pool).await?, before, "nothing was stored");

    // A sync confirmed from its dry run, with no national endpoint to push to.
    let operator = backends.token(Role::Operator);
    let plan = c
        .sync
        .clone()
        .plan_sync(with_auth(pb::PlanSyncRequest { year: YEAR }, &operator))
        .await?
        .into_inner();
    let start = |languages: Option<&'static str>| {
        let request = pb::StartSyncRequest {
            year: YEAR,
            plan_digest: plan.plan_digest.clone(),
        };
        let request = in_language(with_auth(request, &operator), languages);
        let mut sync = c.sync.clone();
        async move { sync.start_sync(request).await.unwrap_err() }
    };
    let vietnamese = start(None).await;
    let english = start(Some("en")).await;
    for status in [&vietnamese, &english] {
        assert_eq!(
            status.code(),
            Code::FailedPrecondition,
            "{}",
            status.message()
        );
    }
    assert_eq!(
        vietnamese.message(),
        Message::new("sync-no-endpoint").render(Lang::Vi)
    );
    assert!(
        vietnamese
            .message()
            .starts_with("chưa cấu hình địa chỉ của hệ thống quốc gia"),
        "{}",
        vietnamese.message()
    );
    assert_eq!(
        english.message(),
        "no national endpoint is configured (service.national.endpoint); nothing can be pushed"
    );

    running.stop().await?;
    backends.close().await?;
    Ok(())
}
