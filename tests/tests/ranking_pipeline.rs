//! The ranking service behind the scoring service on real PostgreSQL, NATS JetStream and Redis:
//! rankings by total and by every group equal `dtictl score`'s scores and competition ranks,
//! follow min-max changes, and are rebuilt from PostgreSQL when Redis loses them.

mod support;

use dti_proto::dti::scoring::v1::Basis;
use dti_ranking::Settings;
use serde_json::json;
use support::*;

fn scoring_settings() -> dti_scoring::Settings {
    dti_scoring::Settings {
        reconcile_interval_secs: 3600,
        ..dti_scoring::Settings::default()
    }
}

fn settings() -> Settings {
    Settings {
        reconcile_interval_secs: 3600,
        ..Settings::default()
    }
}

async fn assert_every_ranking(
    pipeline: &Pipeline,
    round: &dti_domain::RoundRef,
    basis: Basis,
    inputs: &[UnitSubmission],
) -> anyhow::Result<()> {
    let expected = dtictl_scores(round.framework.as_str(), inputs);
    let (_, total) = pipeline.ranking(round, basis, "", 4).await?;
    assert_ranking_matches(&total, &expected, "");
    let groups: Vec<String> = expected
        .values()
        .next()
        .map(|e| e.groups.keys().cloned().collect())
        .unwrap_or_default();
    for group in groups {
        let (_, ranked) = pipeline.ranking(round, basis, &group, 1000).await?;
        assert_ranking_matches(&ranked, &expected, &group);
    }
    Ok(())
}

#[tokio::test]
async fn rankings_equal_dtictl_and_follow_min_max_changes() -> anyhow::Result<()> {
    let pipeline = Pipeline::start(scoring_settings(), settings()).await?;
    let framework = "hcm-2023-department";
    let round = round(2023, framework);
    let mut units = sample_units(framework, 11, 71, "K-");
    // Two units tie exactly: same values.
    units[4].values = units[3].values.clone();
    units[4].not_applicable = units[3].not_applicable.clone();
    let ids: Vec<String> = units.iter().map(|u| u.unit.clone()).collect();
    create_round(pipeline.pool(), &round, &ids, "open").await?;
    submit_all_scored(&pipeline.scoring, &round, &units).await?;
    pipeline.wait_ranked(&round, Basis::SelfAssessed).await?;
    pipeline.wait_ranked(&round, Basis::Verified).await?;
    assert_every_ranking(&pipeline, &round, Basis::SelfAssessed, &units).await?;
    assert_every_ranking(&pipeline, &round, Basis::Verified, &units).await?;
    let (_, total) = pipeline
        .ranking(&round, Basis::SelfAssessed, "", 1000)
        .await?;
    let tied: Vec<u32> = total
        .iter()
        .filter(|entry| {
            entry
                .unit
                .as_ref()
                .is_some_and(|u| u.unit_id == units[3].unit || u.unit_id == units[4].unit)
        })
        .map(|entry| entry.rank)
        .collect();
    assert_eq!(tied.len(), 2);
    assert_eq!(tied[0], tied[1], "tied units share a rank");

    // A new maximum of 4.1 and then of 5.1: every unit's score of them moves.
    units[7].values.insert(
        "4.1".into(),
        json!({"a": 900, "b": 900, "c": 900, "d": 900, "e": 1, "f": 1}),
    );
    units[7].not_applicable.retain(|code| code != "4.1");
    submit(
        pipeline.pool(),
        pipeline.scoring.prefix(),
        &round,
        &units[7],
        true,
    )
    .await?;
    units[2].values.insert("5.1".into(), json!({"a": 100000}));
    units[2].not_applicable.retain(|code| code != "5.1");
    resubmit_scored(&pipeline.scoring, &round, &units[2]).await?;
    pipeline.wait_ranked(&round, Basis::SelfAssessed).await?;
    assert_every_ranking(&pipeline, &round, Basis::SelfAssessed, &units).await?;

    let bearer = pipeline.verifier();
    let position = pipeline
        .position(&round, Basis::SelfAssessed, &units[2].unit, "5", &bearer)
        .await?;
    let ranked = position.position.expect("position");
    let expected = dtictl_scores(framework, &units);
    let group_5 = &expected[&units[2].unit].groups["5"];
    let better = expected
        .values()
        .filter(|e| cents(&e.groups["5"]) > cents(group_5))
        .count();
    assert_eq!(
        (ranked.rank, &ranked.score),
        (u32::try_from(better)? + 1, group_5)
    );
    assert_eq!(
        expected[&units[2].unit].indicators["5.1"], "10.00",
        "the new maximum scores in full"
    );
    assert!(position.movement.is_none(), "no movement for a group");
    pipeline.close().await
}

#[tokio::test]
async fn a_flushed_redis_is_rebuilt_from_postgresql() -> anyhow::Result<()> {
    let mut pipeline = Pipeline::start(scoring_settings(), settings()).await?;
    let framework = "hcm-2023-district";
    let round = round(2023, framework);
    let units = sample_units(framework, 9, 81, "F-");
    let ids: Vec<String> = units.iter().map(|u| u.unit.clone()).collect();
    create_round(pipeline.pool(), &round, &ids, "open").await?;
    submit_all_scored(&pipeline.scoring, &round, &units).await?;
    pipeline.wait_ranked(&round, Basis::SelfAssessed).await?;
    let (version, before) = pipeline
        .ranking(&round, Basis::SelfAssessed, "", 1000)
        .await?;

    // Every key gone: the next read rebuilds and answers the same.
    assert!(pipeline.flush_redis().await? > 0);
    let (rebuilt_version, after) = pipeline.ranking(&round, Basis::SelfAssessed, "", 3).await?;
    assert_eq!((rebuilt_version, &after), (version, &before));
    assert_every_ranking(&pipeline, &round, Basis::SelfAssessed, &units).await?;
    pipeline.flush_redis().await?;
    let bearer = pipeline.verifier();
    let position = pipeline
        .position(&round, Basis::Verified, &units[0].unit, "", &bearer)
        .await?;
    let expected = dtictl_scores(framework, &units);
    let ranked = position.position.expect("position");
    assert_eq!(u64::from(ranked.rank), expected[&units[0].unit].rank);

    // Flushed while the ranking service is down, and changed meanwhile: its start rebuilds.
    let ranking = pipeline.ranking.take().expect("running");
    ranking.stop().await?;
    pipeline.flush_redis().await?;
    let mut changed = units.clone();
    changed[1].values.insert("5.1".into(), json!({"a": 5000}));
    changed[1].not_applicable.retain(|code| code != "5.1");
    resubmit_scored(&pipeline.scoring, &round, &changed[1]).await?;
    pipeline.restart_ranking().await?;
    pipeline.wait_ranked(&round, Basis::SelfAssessed).await?;
    assert_every_ranking(&pipeline, &round, Basis::SelfAssessed, &changed).await?;

    // A marker that does not match the ranking's state is rebuilt too (reconciler).
    let client = redis::Client::open(dti_testkit::redis_url())?;
    let mut conn = client.get_multiplexed_async_connection().await?;
    let marker = format!(
        "{}ranking:2023:{framework}:self:version",
        pipeline.scoring.backends.redis_prefix
    );
    let total = format!(
        "{}ranking:2023:{framework}:self:total",
        pipeline.scoring.backends.redis_prefix
    );
    let () = redis::cmd("ZADD")
        .arg(&total)
        .arg(1)
        .arg(&changed[0].unit)
        .query_async(&mut conn)
        .await?;
    let () = redis::cmd("SET")
        .arg(&marker)
        .arg(1)
        .query_async(&mut conn)
        .await?;
    pipeline.settings.reconcile_interval_secs = 1;
    pipeline.restart_ranking().await?;
    pipeline.wait_ranked(&round, Basis::SelfAssessed).await?;
    assert_every_ranking(&pipeline, &round, Basis::SelfAssessed, &changed).await?;
    pipeline.close().await
}
