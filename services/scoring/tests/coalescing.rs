//! A burst of events coalesced: a batch naming many versions of many units of one cohort is
//! applied with one scoring pass per cohort and basis, and the scores equal `dtictl score` on
//! each unit's latest input — the same as handling the events one by one.

mod support;

use std::sync::Arc;

use bytes::Bytes;
use dti_bus::consumer::{EventHandler, InboundEvent};
use dti_domain::FrameworkCatalog;
use dti_proto::dti::scoring::v1::Basis;
use dti_scoring::consumers::OnSubmissionSubmitted;
use dti_scoring::rescore::Scorer;
use prost::Message;
use support::*;

fn event(subject: &str, msg_id: String, payload: Vec<u8>) -> InboundEvent {
    InboundEvent {
        subject: subject.to_owned(),
        msg_id,
        payload: Bytes::from(payload),
        headers: Default::default(),
        delivery: 1,
    }
}

#[tokio::test]
async fn a_batch_scores_each_cohort_once_on_the_latest_inputs() -> anyhow::Result<()> {
    let (mut env, round, mut units) = burst_round(6, 47, "B-").await?;
    let ids: Vec<String> = units.iter().map(|u| u.unit.clone()).collect();

    // Four versions of every unit, each changing a min-max count; events in submission order,
    // interleaved across units, plus one event nobody can read.
    let subject = format!("{}.submission.submitted.v1", env.prefix());
    let mut events = Vec::new();
    for pass in 0..4_u64 {
        for (i, unit) in units.iter_mut().enumerate() {
            let a = 10 + pass * 7 + u64::try_from(i)? * 3;
            set_min_max_count(unit, a);
            let (id, version) = submit(env.pool(), env.prefix(), &round, unit, false).await?;
            let payload = submitted_event(&round, &unit.unit, id, version).encode_to_vec();
            events.push(event(&subject, format!("{id}/v{version}"), payload));
        }
    }
    events.push(event(&subject, "unreadable".into(), b"\xff\xff".to_vec()));

    let catalog = Arc::new(FrameworkCatalog::builtin()?);
    let handler = OnSubmissionSubmitted::new(Arc::new(Scorer::new(catalog, env.prefix())));
    let mut tx = env.pool().begin().await?;
    handler.handle_batch(&mut tx, &events).await?;
    tx.commit().await?;

    // Each basis's cohort: created (version 1), then one pass for all 24 events (version 2).
    for basis in ["self", "verified"] {
        assert_eq!(
            cohort_version(env.pool(), &round, basis).await?,
            2,
            "{basis}: one pass for the whole batch"
        );
    }
    let latest: Vec<(String, i32)> = ids.iter().map(|id| (id.clone(), 4)).collect();
    wait_scored(env.pool(), &round, "self", &latest).await?;
    wait_scored(env.pool(), &round, "verified", &latest).await?;

    env.restart().await?;
    assert_scores_match(&env, &round, Basis::SelfAssessed, &units).await?;
    assert_scores_match(&env, &round, Basis::Verified, &units).await?;
    env.close().await
}
