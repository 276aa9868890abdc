//! Owners' data collection on the real stack: a data owner writes exactly the items its
//! department owns; multi-owner items combine by their rule; bad input is refused and changes
//! nothing. Who may write and read is `owner_access.rs`.

mod support;

use dti_auth::Role;
use dti_national_sync::Settings;
use dti_proto::dti::common::v1 as common_pb;
use dti_proto::dti::nationalsync::v1 as pb;
use dti_service_kit::status::field_violations;
use dti_testkit::refusals::assert_names_field;
use dti_testkit::refusals::violated_fields;
use dti_testkit::values::flag;
use dti_testkit::{with_auth, TestBackends};
use serde_json::Value;
use support::{
    clients, footprint, money, national_set, one_indicator, owner_request, start_service, YEAR,
};
use tonic::Code;

#[tokio::test]
async fn an_owner_writes_its_items_with_audit_and_event_and_reads_them_back() -> anyhow::Result<()>
{
    let backends = TestBackends::create().await?;
    let running = start_service(&backends, Settings::default()).await?;
    let mut c = clients(&running);
    let set = national_set();
    let token = backends.department_token("cuc-thong-ke");
    let request = owner_request(&set, "cuc-thong-ke", YEAR, 1);
    let owned = request.indicators.len() + request.general_info.len();
    let response = c
        .owners
        .submit_owner_values(with_auth(request.clone(), &token))
        .await?
        .into_inner();
    assert_eq!(response.parts.len(), owned);
    assert_eq!(response.changed as usize, owned);
    assert!(response
        .parts
        .iter()
        .all(|p| p.revision == 1 && p.department_id == "cuc-thong-ke"));

    let again = c
        .owners
        .submit_owner_values(with_auth(request, &token))
        .await?
        .into_inner();
    assert_eq!(
        again.changed, 0,
        "an identical resubmission changes nothing"
    );

    let read = c
        .owners
        .get_owner_values(with_auth(
            pb::GetOwnerValuesRequest {
                year: YEAR,
                department_id: String::new(),
            },
            &token,
        ))
        .await?
        .into_inner();
    assert_eq!(read.parts.len(), owned);
    assert!(read.missing.is_empty());
    let population = read
        .parts
        .iter()
        .find(|p| p.item.as_ref().is_some_and(|i| i.code == "population"))
        .expect("population is stored");
    assert_eq!(
        population
            .general_info
            .as_ref()
            .and_then(|v| v.value.clone()),
        Some(common_pb::variable_value::Value::Count(11))
    );

    let pool = backends.db.pool();
    let audited: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM audit_log WHERE chain = 'national:cuc-thong-ke' AND framework = 'mic-2022-province' \
         AND year = $1 AND action = 'national_sync.owner_value_set'",
    )
    .bind(i16::try_from(YEAR)?)
    .fetch_one(pool)
    .await?;
    assert_eq!(
        usize::try_from(audited)?,
        owned,
        "one audit entry per value change"
    );
    let events: i64 = sqlx::query_scalar("SELECT count(*) FROM outbox_messages WHERE subject = $1")
        .bind(format!(
            "{}.national_sync.owner_value_changed.v1",
            backends.nats_prefix
        ))
        .fetch_one(pool)
        .await?;
    assert_eq!(usize::try_from(events)?, owned);
    let chain = dti_audit::verify_round(
        pool,
        &dti_domain::RoundRef {
            year: 2024,
            framework: dti_domain::FrameworkId::parse("mic-2022-province")?,
        },
    )
    .await?;
    assert!(chain.first_broken.is_none(), "{chain:?}");
    assert!(chain.entries >= u64::try_from(owned)?);

    // A city-wide reader names the department; the operator sees what cuc-thong-ke supplied.
    let operator = backends.token(Role::Operator);
    let read = c
        .owners
        .get_owner_values(with_auth(
            pb::GetOwnerValuesRequest {
                year: YEAR,
                department_id: "so-tttt".into(),
            },
            &operator,
        ))
        .await?
        .into_inner();
    assert!(read.parts.is_empty());
    assert!(read.missing.len() > 50, "so-tttt owns most items");

    running.stop().await?;
    backends.close().await?;
    Ok(())
}

#[tokio::test]
async fn bad_values_are_refused_naming_unit_item_and_field_and_nothing_changes(
) -> anyhow::Result<()> {
    let backends = TestBackends::create().await?;
    let running = start_service(&backends, Settings::default()).await?;
    let mut c = clients(&running);
    let pool = backends.db.pool();
    let token = backends.department_token("so-tttt");
    let before = footprint(pool).await?;
    let text = |s: &str| common_pb::VariableValue {
        value: Some(common_pb::variable_value::Value::Text(s.into())),
    };
    let cases: Vec<(&str, pb::SubmitOwnerValuesRequest, &str)> = vec![
        (
            "year too early",
            pb::SubmitOwnerValuesRequest {
                year: 2021,
                ..one_indicator("1.1", "yes", flag(true))
            },
            "year",
        ),
        (
            "year out of range",
            pb::SubmitOwnerValuesRequest {
                year: 1999,
                ..one_indicator("1.1", "yes", flag(true))
            },
            "year",
        ),
        (
            "empty request",
            pb::SubmitOwnerValuesRequest {
                year: YEAR,
                ..Default::default()
            },
            "indicators",
        ),
        (
            "unknown indicator",
            one_indicator("10.1", "yes", flag(true)),
            "indicators[0].indicator_code",
        ),
        (
            "wrong type",
            one_indicator("1.1", "yes", text("có")),
            "unit so-tttt / indicator 1.1 / variable yes",
        ),
        (
            "unknown variable",
            one_indicator("1.1", "no", flag(true)),
            "unit so-tttt / indicator 1.1 / variable no",
        ),
        (
            "missing variable",
            one_indicator(
                "1.2",
                "numerator",
                common_pb::VariableValue {
                    value: Some(common_pb::variable_value::Value::Count(3)),
                },
            ),
            "unit so-tttt / indicator 1.2 / variable denominator",
        ),
        (
            "unset value",
            one_indicator("1.1", "yes", common_pb::VariableValue { value: None }),
            "unit so-tttt / indicator 1.1 / variable yes",
        ),
        (
            "bad decimal",
            pb::SubmitOwnerValuesRequest {
                year: YEAR,
                ..one_indicator(
                    "3.6",
                    "level",
                    common_pb::VariableValue {
                        value: Some(common_pb::variable_value::Value::Decimal("-1".into())),
                    },
                )
            },
            "unit so-tttt / indicator 3.6 / variable level",
        ),
        (
            "money of 2^64-1 (beyond the 10^15 bound)",
            one_indicator("6.22", "amount", money(u64::MAX)),
            "unit so-tttt / indicator 6.22 / variable amount",
        ),
        (
            "a decimal of 5,000 digits",
            one_indicator(
                "3.6",
                "level",
                common_pb::VariableValue {
                    value: Some(common_pb::variable_value::Value::Decimal("9".repeat(5_000))),
                },
            ),
            "unit so-tttt / indicator 3.6 / variable level",
        ),
    ];
    for (name, request, field) in cases {
        let status = c
            .owners
            .submit_owner_values(with_auth(request, &token))
            .await
            .unwrap_err();
        assert_names_field(&status, field, name);
    }

    let mut duplicate = one_indicator("1.1", "yes", flag(true));
    duplicate.indicators.push(duplicate.indicators[0].clone());
    let status = c
        .owners
        .submit_owner_values(with_auth(duplicate, &token))
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::InvalidArgument);
    assert!(
        status.message().contains("given twice"),
        "{}",
        status.message()
    );

    let mut evidence = one_indicator("1.1", "yes", flag(true));
    evidence.indicators[0].evidence = vec![
        pb::EvidenceRef {
            reference: "  ".into(),
            title: String::new()
        };
        21
    ];
    let status = c
        .owners
        .submit_owner_values(with_auth(evidence, &token))
        .await
        .unwrap_err();
    let fields: Vec<String> = violated_fields(&status);
    assert!(
        fields.contains(&"indicators[0].evidence".to_owned()),
        "{fields:?}"
    );
    assert!(
        fields.contains(&"indicators[0].evidence[0].reference".to_owned()),
        "{fields:?}"
    );

    let general = pb::SubmitOwnerValuesRequest {
        year: YEAR,
        indicators: vec![],
        general_info: vec![pb::OwnerGeneralInfoValue {
            key: "physical_servers".into(),
            value: Some(flag(true)),
            evidence: vec![],
        }],
    };
    let status = c
        .owners
        .submit_owner_values(with_auth(general, &token))
        .await
        .unwrap_err();
    let fields: Vec<String> = violated_fields(&status);
    assert!(
        fields.contains(&"unit so-tttt / general information physical_servers".to_owned()),
        "{fields:?}"
    );

    // One bad value among good ones stores none of them.
    let mut mixed = owner_request(&national_set(), "so-tttt", YEAR, 1);
    assert_eq!(mixed.indicators[0].indicator_code, "1.1");
    mixed.indicators[0]
        .variables
        .insert("yes".into(), text("x"));
    let status = c
        .owners
        .submit_owner_values(with_auth(mixed, &token))
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::InvalidArgument);

    // Reads: bad year, a city-wide reader without a department, an unknown department.
    let operator = backends.token(Role::Operator);
    for (request, field) in [
        (
            pb::GetOwnerValuesRequest {
                year: 3000,
                department_id: "so-tttt".into(),
            },
            "year",
        ),
        (
            pb::GetOwnerValuesRequest {
                year: YEAR,
                department_id: String::new(),
            },
            "department_id",
        ),
        (
            pb::GetOwnerValuesRequest {
                year: YEAR,
                department_id: "so-y-te".into(),
            },
            "department_id",
        ),
        (
            pb::GetOwnerValuesRequest {
                year: YEAR,
                department_id: "Not An Id".into(),
            },
            "department_id",
        ),
    ] {
        let status = c
            .owners
            .get_owner_values(with_auth(request, &operator))
            .await
            .unwrap_err();
        assert_eq!(status.code(), Code::InvalidArgument);
        assert_eq!(field_violations(&status)[0].field, field);
    }
    assert_eq!(footprint(pool).await?, before, "nothing was stored");

    running.stop().await?;
    backends.close().await?;
    Ok(())
}

#[tokio::test]
async fn multi_owner_items_collect_each_part_and_combine_by_their_rule() -> anyhow::Result<()> {
    let backends = TestBackends::create().await?;
    let running = start_service(&backends, Settings::default()).await?;
    let mut c = clients(&running);
    let pool = backends.db.pool();
    let operator = backends.token(Role::Operator);
    let completeness = |department: &str| pb::GetCompletenessRequest {
        year: YEAR,
        department_id: department.into(),
    };
    let item_status = |completeness: &pb::Completeness, code: &str| {
        completeness
            .items
            .iter()
            .find(|i| i.item.as_ref().is_some_and(|r| r.code == code))
            .map(|i| (i.status, i.missing_owners.clone(), i.version))
    };

    // 6.22 (sum): Sở Tài chính and Sở KH&ĐT report; Sở TT&TT has not yet.
    for (department, amount) in [
        ("so-tai-chinh", 700_000_000_u64),
        ("so-ke-hoach-dau-tu", 250_000_000),
    ] {
        c.owners
            .submit_owner_values(with_auth(
                one_indicator("6.22", "amount", money(amount)),
                &backends.department_token(department),
            ))
            .await?;
    }
    let seen = c
        .sync
        .get_completeness(with_auth(completeness(""), &operator))
        .await?
        .into_inner();
    let (status, missing, version) = item_status(&seen, "6.22").expect("6.22 listed");
    assert_eq!(status, i32::from(pb::ItemStatus::Missing));
    assert_eq!(missing, ["so-tttt"]);
    assert_eq!(version, 0, "no value version while a part is missing");
    let tttt = seen
        .owners
        .iter()
        .find(|o| o.department_id == "so-tttt")
        .expect("so-tttt grouped");
    assert!(tttt.missing.iter().any(|i| i.code == "6.22"));
    let finance = seen
        .owners
        .iter()
        .find(|o| o.department_id == "so-tai-chinh")
        .expect("so-tai-chinh");
    assert!(finance.complete.iter().any(|i| i.code == "6.22"));

    c.owners
        .submit_owner_values(with_auth(
            one_indicator("6.22", "amount", money(50_000_000)),
            &backends.department_token("so-tttt"),
        ))
        .await?;
    let value: Value = sqlx::query_scalar(
        "SELECT value FROM national_value_versions WHERE item_code = '6.22' AND version = 1",
    )
    .fetch_one(pool)
    .await?;
    assert_eq!(
        value,
        serde_json::json!({"amount": 1_000_000_000_u64}),
        "sum of the three parts"
    );

    // 2.6 (any): false, false, true → true; all three parts are needed for completeness.
    for (department, yes) in [("so-tai-chinh", false), ("so-ke-hoach-dau-tu", false)] {
        c.owners
            .submit_owner_values(with_auth(
                one_indicator("2.6", "yes", flag(yes)),
                &backends.department_token(department),
            ))
            .await?;
    }
    c.owners
        .submit_owner_values(with_auth(
            one_indicator("2.6", "yes", flag(true)),
            &backends.department_token("so-tttt"),
        ))
        .await?;
    let value: Value = sqlx::query_scalar(
        "SELECT value FROM national_value_versions WHERE item_code = '2.6' AND version = 1",
    )
    .fetch_one(pool)
    .await?;
    assert_eq!(value, serde_json::json!({"yes": true}));

    // A change of one part makes a new version; the same content again does not.
    c.owners
        .submit_owner_values(with_auth(
            one_indicator("6.22", "amount", money(60_000_000)),
            &backends.department_token("so-tttt"),
        ))
        .await?;
    let versions: Vec<(i32, Value)> = sqlx::query_as(
        "SELECT version, value FROM national_value_versions WHERE item_code = '6.22' ORDER BY version",
    )
    .fetch_all(pool)
    .await?;
    assert_eq!(versions.len(), 2);
    assert_eq!(
        versions[1].1,
        serde_json::json!({"amount": 1_010_000_000_u64})
    );

    // A reviewer disputes Sở KH&ĐT's part; its owner confirming the value clears it.
    let disputed = c
        .sync
        .dispute_value(with_auth(
            pb::DisputeValueRequest {
                year: YEAR,
                item: Some(pb::ItemRef {
                    kind: pb::ItemKind::Indicator.into(),
                    code: "6.22".into(),
                }),
                department_id: "so-ke-hoach-dau-tu".into(),
                reason: "does not match the 2024 budget settlement".into(),
            },
            &backends.token(Role::Verifier),
        ))
        .await?
        .into_inner();
    assert_eq!(
        disputed.dispute_reason,
        "does not match the 2024 budget settlement"
    );
    let mine = c
        .sync
        .get_completeness(with_auth(
            completeness(""),
            &backends.department_token("so-ke-hoach-dau-tu"),
        ))
        .await?
        .into_inner();
    assert_eq!(mine.owners.len(), 1, "a data owner sees its own department");
    assert!(mine.owners[0].disputed.iter().any(|i| i.code == "6.22"));
    assert!(mine
        .items
        .iter()
        .all(|i| i.owners.contains(&"so-ke-hoach-dau-tu".to_owned())));
    c.owners
        .submit_owner_values(with_auth(
            one_indicator("6.22", "amount", money(250_000_000)),
            &backends.department_token("so-ke-hoach-dau-tu"),
        ))
        .await?;
    let seen = c
        .sync
        .get_completeness(with_auth(completeness("so-ke-hoach-dau-tu"), &operator))
        .await?
        .into_inner();
    assert_eq!(
        item_status(&seen, "6.22").map(|s| s.0),
        Some(i32::from(pb::ItemStatus::Complete))
    );
    let cleared: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM audit_log WHERE action = 'national_sync.dispute_cleared'",
    )
    .fetch_one(pool)
    .await?;
    assert_eq!(cleared, 1);

    running.stop().await?;
    backends.close().await?;
    Ok(())
}
