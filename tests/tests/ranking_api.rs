//! The ranking gRPC API: who may read which ranking and when, bad requests, paging, and a
//! unit's movement against the previous year's published ranking (inserted as the
//! verification service publishes it).

mod support;

use dti_auth::Role;
use dti_proto::dti::common::v1 as common;
use dti_proto::dti::ranking::v1::{GetRankingRequest, GetUnitPositionRequest};
use dti_proto::dti::scoring::v1::Basis;
use dti_ranking::Settings;
use dti_scores::UnitVisibility;
use dti_service_kit::status::field_violations;
use dti_testkit::refusals::violated_fields;
use dti_testkit::{tokens, with_auth};
use support::*;
use tonic::Code;

async fn ranked_pipeline(
    visibility: UnitVisibility,
    framework: &str,
    year: u16,
    ids: Option<Vec<String>>,
) -> anyhow::Result<(Pipeline, dti_domain::RoundRef, Vec<UnitSubmission>)> {
    let pipeline = Pipeline::start(
        dti_scoring::Settings {
            reconcile_interval_secs: 3600,
            ..dti_scoring::Settings::default()
        },
        Settings {
            unit_visibility: visibility,
            reconcile_interval_secs: 3600,
            ..Settings::default()
        },
    )
    .await?;
    let round = round(year, framework);
    let mut units = sample_units(framework, 6, 91, "P-");
    if let Some(ids) = ids {
        for (unit, id) in units.iter_mut().zip(ids) {
            unit.unit = id;
        }
    }
    let ids: Vec<String> = units.iter().map(|u| u.unit.clone()).collect();
    create_round(pipeline.pool(), &round, &ids, "open").await?;
    submit_all_scored(&pipeline.scoring, &round, &units).await?;
    pipeline.wait_ranked(&round, Basis::SelfAssessed).await?;
    pipeline.wait_ranked(&round, Basis::Verified).await?;
    Ok((pipeline, round, units))
}

fn ranking_request(round: &dti_domain::RoundRef) -> GetRankingRequest {
    GetRankingRequest {
        round: Some(proto_round(round)),
        basis: Basis::SelfAssessed as i32,
        group_code: String::new(),
        page_size: 0,
        page_token: String::new(),
    }
}

fn position_request(round: &dti_domain::RoundRef, unit: &str) -> GetUnitPositionRequest {
    GetUnitPositionRequest {
        round: Some(proto_round(round)),
        basis: Basis::SelfAssessed as i32,
        unit: Some(common::UnitRef {
            unit_id: unit.to_owned(),
        }),
        group_code: String::new(),
    }
}

#[tokio::test]
async fn rankings_need_a_valid_token_and_a_caller_of_the_cohort() -> anyhow::Result<()> {
    let (pipeline, round, units) =
        ranked_pipeline(UnitVisibility::Live, "hcm-2023-district", 2023, None).await?;
    let mut client = pipeline.client();
    let backends = &pipeline.scoring.backends;
    let missing = client
        .get_ranking(ranking_request(&round))
        .await
        .unwrap_err();
    assert_eq!(missing.code(), Code::Unauthenticated);
    let verifier = tokens::city(Role::Verifier);
    let forged = tokens::forged_bearer(&verifier);
    let status = client
        .get_ranking(with_auth(ranking_request(&round), &forged))
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::Unauthenticated);
    let expired = tokens::expired_bearer(&verifier);
    let status = client
        .get_unit_position(with_auth(
            position_request(&round, &units[0].unit),
            &expired,
        ))
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::Unauthenticated);

    let member = backends.unit_token(&units[0].unit);
    let page = client
        .get_ranking(with_auth(ranking_request(&round), &member))
        .await?
        .into_inner();
    assert_eq!(page.units.len(), 6);
    let outsider = backends.unit_token("quan-12");
    let status = client
        .get_ranking(with_auth(ranking_request(&round), &outsider))
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::PermissionDenied);
    let own = client
        .get_unit_position(with_auth(position_request(&round, &units[0].unit), &member))
        .await?
        .into_inner();
    assert!(own.position.is_some());
    let other = client
        .get_unit_position(with_auth(position_request(&round, &units[1].unit), &member))
        .await
        .unwrap_err();
    assert_eq!(other.code(), Code::PermissionDenied);
    for bearer in [
        backends.department_token("so-tttt"),
        backends.token(Role::NationalSync),
    ] {
        let status = client
            .get_ranking(with_auth(ranking_request(&round), &bearer))
            .await
            .unwrap_err();
        assert_eq!(status.code(), Code::PermissionDenied);
    }
    for role in [Role::Verifier, Role::Approver, Role::Operator] {
        let position = client
            .get_unit_position(with_auth(
                position_request(&round, &units[5].unit),
                &backends.token(role),
            ))
            .await?;
        assert!(position.into_inner().position.is_some());
    }
    pipeline.close().await
}

#[tokio::test]
async fn units_see_rankings_after_publication_when_so_configured() -> anyhow::Result<()> {
    let (pipeline, round, units) = ranked_pipeline(
        UnitVisibility::AfterPublication,
        "hcm-2023-district",
        2023,
        None,
    )
    .await?;
    let mut client = pipeline.client();
    let member = pipeline.scoring.backends.unit_token(&units[2].unit);
    let early = client
        .get_ranking(with_auth(ranking_request(&round), &member))
        .await
        .unwrap_err();
    assert_eq!(early.code(), Code::PermissionDenied);
    let early = client
        .get_unit_position(with_auth(position_request(&round, &units[2].unit), &member))
        .await
        .unwrap_err();
    assert_eq!(early.code(), Code::PermissionDenied);
    assert!(client
        .get_ranking(with_auth(ranking_request(&round), &pipeline.verifier()))
        .await
        .is_ok());
    set_round_state(pipeline.pool(), &round, "provisional").await?;
    assert!(client
        .get_ranking(with_auth(ranking_request(&round), &member))
        .await
        .is_ok());
    assert!(client
        .get_unit_position(with_auth(position_request(&round, &units[2].unit), &member))
        .await
        .is_ok());
    pipeline.close().await
}

#[tokio::test]
async fn bad_ranking_requests_name_the_field_and_pages_cover_the_cohort() -> anyhow::Result<()> {
    let (pipeline, round, units) =
        ranked_pipeline(UnitVisibility::Live, "hcm-2023-district", 2023, None).await?;
    let mut client = pipeline.client();
    let token = pipeline.verifier();
    let bad = GetRankingRequest {
        round: Some(common::RoundRef {
            year: 2023,
            framework: "Not A Framework".into(),
        }),
        basis: 7,
        ..ranking_request(&round)
    };
    let status = client
        .get_ranking(with_auth(bad, &token))
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::InvalidArgument);
    let fields: Vec<String> = violated_fields(&status);
    assert_eq!(fields, ["round.framework", "basis"]);
    for (request, field) in [
        (
            GetRankingRequest {
                group_code: "10".into(),
                ..ranking_request(&round)
            },
            "group_code",
        ),
        (
            GetRankingRequest {
                page_size: 5000,
                ..ranking_request(&round)
            },
            "page_size",
        ),
        (
            GetRankingRequest {
                page_token: "next".into(),
                ..ranking_request(&round)
            },
            "page_token",
        ),
    ] {
        let status = client
            .get_ranking(with_auth(request, &token))
            .await
            .unwrap_err();
        assert_eq!(status.code(), Code::InvalidArgument);
        assert_eq!(field_violations(&status)[0].field, field);
    }
    let no_unit = GetUnitPositionRequest {
        unit: None,
        ..position_request(&round, "x")
    };
    let status = client
        .get_unit_position(with_auth(no_unit, &token))
        .await
        .unwrap_err();
    assert_eq!(field_violations(&status)[0].field, "unit");
    let unknown = client
        .get_ranking(with_auth(
            ranking_request(&support::round(2031, "hcm-2023-district")),
            &token,
        ))
        .await
        .unwrap_err();
    assert_eq!(unknown.code(), Code::NotFound);
    let unscored = client
        .get_ranking(with_auth(
            ranking_request(&support::round(2023, "hcm-2030-district")),
            &token,
        ))
        .await
        .unwrap_err();
    assert_eq!(unscored.code(), Code::InvalidArgument);
    assert_eq!(field_violations(&unscored)[0].field, "round.framework");
    let stranger = client
        .get_unit_position(with_auth(position_request(&round, "quan-5"), &token))
        .await
        .unwrap_err();
    assert_eq!(stranger.code(), Code::NotFound);

    let (_, whole) = pipeline
        .ranking(&round, Basis::SelfAssessed, "", 1000)
        .await?;
    let (_, paged) = pipeline.ranking(&round, Basis::SelfAssessed, "", 4).await?;
    assert_eq!(whole, paged, "pages of 4 cover the cohort in order");
    let expected = dtictl_scores("hcm-2023-district", &units);
    assert_ranking_matches(&paged, &expected, "");

    // A page token is opaque and continues only the query that returned it.
    let first = client
        .get_ranking(with_auth(
            GetRankingRequest {
                page_size: 4,
                ..ranking_request(&round)
            },
            &token,
        ))
        .await?
        .into_inner();
    let next = first.next_page_token;
    assert!(next.len() > 8 && next.parse::<u64>().is_err(), "{next}");
    let edited = format!("{:016x}{}", 0, next.get(16..).unwrap_or_default());
    for (request, what) in [
        (
            GetRankingRequest {
                basis: Basis::Verified as i32,
                page_token: next.clone(),
                ..ranking_request(&round)
            },
            "reused on another basis",
        ),
        (
            GetRankingRequest {
                group_code: "1".into(),
                page_token: next.clone(),
                ..ranking_request(&round)
            },
            "reused for a group",
        ),
        (
            GetRankingRequest {
                page_token: edited,
                ..ranking_request(&round)
            },
            "its offset edited",
        ),
    ] {
        let status = client
            .get_ranking(with_auth(request, &token))
            .await
            .unwrap_err();
        assert_eq!(status.code(), Code::InvalidArgument, "{what}");
        assert_eq!(field_violations(&status)[0].field, "page_token", "{what}");
    }
    let second = client
        .get_ranking(with_auth(
            GetRankingRequest {
                page_size: 4,
                page_token: next,
                ..ranking_request(&round)
            },
            &token,
        ))
        .await?
        .into_inner();
    let expected: Vec<_> = paged.iter().skip(4).take(4).cloned().collect();
    assert!(!expected.is_empty(), "the cohort has a second page");
    assert_eq!(second.units, expected);
    pipeline.close().await
}

/// Writes a publication of `round` with `ranks` the way the verification service does.
async fn publish(
    pool: &sqlx::PgPool,
    round: &dti_domain::RoundRef,
    revision: i32,
    ranks: &[(&str, i32)],
) -> anyhow::Result<()> {
    let year = i16::try_from(round.year)?;
    sqlx::query(
        "INSERT INTO rounds (year, framework, state) VALUES ($1, $2, 'final') ON CONFLICT DO NOTHING",
    )
    .bind(year)
    .bind(round.framework.as_str())
    .execute(pool)
    .await?;
    sqlx::query(
        "INSERT INTO publications (year, framework, revision, reason, published_by, snapshot, content_hash) \
         VALUES ($1, $2, $3, 'initial publication', 'approver-1', '{}'::jsonb, '\\x00')",
    )
    .bind(year)
    .bind(round.framework.as_str())
    .bind(revision)
    .execute(pool)
    .await?;
    for (unit, rank) in ranks {
        sqlx::query(
            "INSERT INTO publication_ranks (year, framework, revision, unit_id, total_cents, rank) \
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(year)
        .bind(round.framework.as_str())
        .bind(revision)
        .bind(unit)
        .bind(50_000 - i64::from(*rank))
        .bind(rank)
        .execute(pool)
        .await?;
    }
    Ok(())
}

#[tokio::test]
async fn positions_show_movement_against_last_years_latest_publication() -> anyhow::Result<()> {
    let ids: Vec<String> = ["quan-1", "quan-3", "thu-duc", "quan-4", "quan-5", "quan-6"]
        .iter()
        .map(|id| (*id).to_owned())
        .collect();
    let (pipeline, round, units) =
        ranked_pipeline(UnitVisibility::Live, "hcm-2023-district", 2021, Some(ids)).await?;
    let token = pipeline.verifier();
    let before = pipeline
        .position(&round, Basis::Verified, "quan-1", "", &token)
        .await?;
    assert!(before.movement.is_none(), "no publication of 2020 yet");

    // 2020: revision 1, then a correction (revision 2); Quận 2, 9 and Thủ Đức merged into
    // Thành phố Thủ Đức from 2021. A department publication of 2020 is not compared with.
    let previous = support::round(2020, "hcm-2023-district");
    publish(
        pipeline.pool(),
        &previous,
        1,
        &[("quan-1", 1), ("quan-2", 2), ("quan-9", 3)],
    )
    .await?;
    publish(
        pipeline.pool(),
        &previous,
        2,
        &[
            ("quan-9", 1),
            ("quan-1", 2),
            ("quan-2", 3),
            ("quan-thu-duc", 4),
            ("quan-3", 5),
        ],
    )
    .await?;
    publish(
        pipeline.pool(),
        &support::round(2020, "hcm-2023-department"),
        1,
        &[("quan-1", 9)],
    )
    .await?;

    let expected = dtictl_scores("hcm-2023-district", &units);
    let quan_1 = pipeline
        .position(&round, Basis::Verified, "quan-1", "", &token)
        .await?;
    let rank = quan_1.position.as_ref().map(|p| p.rank).expect("rank");
    assert_eq!(u64::from(rank), expected["quan-1"].rank);
    let movement = quan_1.movement.expect("movement of quan-1");
    assert_eq!((movement.previous_revision, movement.previous_rank), (2, 2));
    assert_eq!(movement.places_moved, 2 - i32::try_from(rank)?);
    assert_eq!(
        (
            movement.previous_total.as_str(),
            movement.previous_total_cents
        ),
        ("499.98", 49_998),
        "quan-1's own published total of revision 2"
    );
    assert!(!movement.previous_total_is_mean);
    assert_eq!(
        movement.previous_round.map(|r| (r.year, r.framework)),
        Some((2020, "hcm-2023-district".to_owned()))
    );

    let thu_duc = pipeline
        .position(&round, Basis::Verified, "thu-duc", "", &token)
        .await?;
    let movement = thu_duc.movement.expect("movement of thu-duc");
    assert_eq!(
        movement.previous_rank, 1,
        "the best of the merged districts"
    );
    let continued: Vec<String> = movement
        .previous_units
        .into_iter()
        .map(|u| u.unit_id)
        .collect();
    assert_eq!(continued, ["quan-2", "quan-9", "quan-thu-duc"]);
    // (499.97 + 499.99 + 499.96) / 3 = 499.973…, rounded half-up to a hundredth.
    assert_eq!(
        (
            movement.previous_total.as_str(),
            movement.previous_total_cents
        ),
        ("499.97", 49_997)
    );
    assert!(movement.previous_total_is_mean);

    let newcomer = pipeline
        .position(&round, Basis::Verified, "quan-6", "", &token)
        .await?;
    assert!(newcomer.movement.is_none(), "quan-6 was not ranked in 2020");
    let by_group = pipeline
        .position(&round, Basis::Verified, "quan-1", "1", &token)
        .await?;
    assert!(by_group.movement.is_none());
    pipeline.close().await
}
