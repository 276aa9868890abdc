//! The audit chain against a real PostgreSQL database: appends verify, and each kind of
//! tampering (an edited, deleted or cut-off entry) is reported at the right place; entries
//! appended together chain exactly as if appended one by one.

use dti_audit::{append, append_all, verify_round, AuditEntry, AuditError, Chain};
use dti_auth::Principal;
use dti_domain::{FrameworkId, RoundRef};
use dti_testkit::TestDatabase;
use serde_json::json;

fn round() -> RoundRef {
    RoundRef {
        year: 2023,
        framework: FrameworkId::parse("hcm-2023-district").expect("id"),
    }
}

fn actor() -> Principal {
    Principal::unit_submitter("submitter-q1", "quan-1")
}

/// Appends `n` value changes to unit quan-1's chain and one state change to the round chain.
async fn write_entries(db: &TestDatabase, n: i64) -> anyhow::Result<()> {
    let (round, actor) = (round(), actor());
    for i in 1..=n {
        let mut tx = db.pool().begin().await?;
        let record = append(
            &mut tx,
            &AuditEntry {
                round: &round,
                chain: Chain::Unit("quan-1".into()),
                actor: &actor,
                action: "submission.values_set",
                subject: "indicator 1.2".into(),
                before: (i > 1).then(|| json!({"b": 34, "a": i - 1})),
                after: Some(json!({"a": i, "b": 34})),
            },
        )
        .await?;
        assert_eq!(record.seq, i);
        tx.commit().await?;
    }
    let mut tx = db.pool().begin().await?;
    append(
        &mut tx,
        &AuditEntry {
            round: &round,
            chain: Chain::Round,
            actor: &actor,
            action: "round.close",
            subject: "round 2023/hcm-2023-district".into(),
            before: Some(json!("open")),
            after: Some(json!("closed")),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

#[tokio::test]
async fn an_untouched_log_verifies() -> anyhow::Result<()> {
    let db = TestDatabase::create().await?;
    write_entries(&db, 4).await?;
    let report = verify_round(db.pool(), &round()).await?;
    assert_eq!((report.chains, report.entries), (2, 5));
    assert_eq!(report.first_broken, None);
    db.close().await?;
    Ok(())
}

#[tokio::test]
async fn an_edited_entry_is_reported_at_its_place() -> anyhow::Result<()> {
    let db = TestDatabase::create().await?;
    write_entries(&db, 4).await?;
    sqlx::query(
        "UPDATE audit_log SET after = '{\"a\": 99, \"b\": 34}' WHERE chain = 'unit:quan-1' AND seq = 2",
    )
    .execute(db.pool())
    .await?;
    let broken = verify_round(db.pool(), &round())
        .await?
        .first_broken
        .expect("the edit is caught");
    assert_eq!((broken.chain.as_str(), broken.seq), ("unit:quan-1", 2));
    assert!(broken.problem.contains("changed"), "{broken}");
    db.close().await?;
    Ok(())
}

#[tokio::test]
async fn deleted_and_cut_off_entries_are_reported() -> anyhow::Result<()> {
    let db = TestDatabase::create().await?;
    write_entries(&db, 4).await?;
    sqlx::query("DELETE FROM audit_log WHERE chain = 'unit:quan-1' AND seq = 3")
        .execute(db.pool())
        .await?;
    let broken = verify_round(db.pool(), &round())
        .await?
        .first_broken
        .expect("the gap is caught");
    assert_eq!((broken.chain.as_str(), broken.seq), ("unit:quan-1", 4));
    assert!(broken.problem.contains("missing"), "{broken}");

    sqlx::query("DELETE FROM audit_log WHERE chain = 'unit:quan-1' AND seq = 4")
        .execute(db.pool())
        .await?;
    let broken = verify_round(db.pool(), &round())
        .await?
        .first_broken
        .expect("the cut is caught");
    assert!(broken.problem.contains("cut off"), "{broken}");
    db.close().await?;
    Ok(())
}

/// The `i`-th value change of unit quan-1 in [`write_entries`]'s shape.
fn value_change<'a>(round: &'a RoundRef, actor: &'a Principal, i: i64) -> AuditEntry<'a> {
    AuditEntry {
        round,
        chain: Chain::Unit("quan-1".into()),
        actor,
        action: "submission.values_set",
        subject: "indicator 1.2".into(),
        before: Some(json!({"a": i - 1})),
        after: Some(json!({"a": i})),
    }
}

#[tokio::test]
async fn entries_appended_together_continue_the_chain_and_verify() -> anyhow::Result<()> {
    let db = TestDatabase::create().await?;
    let (round, actor) = (round(), actor());
    let mut tx = db.pool().begin().await?;
    let first = append(&mut tx, &value_change(&round, &actor, 1)).await?;
    let together: Vec<AuditEntry> = (2..=4).map(|i| value_change(&round, &actor, i)).collect();
    let records = append_all(&mut tx, &together).await?;
    assert!(append_all(&mut tx, &[]).await?.is_empty());
    tx.commit().await?;
    let seqs: Vec<i64> = records.iter().map(|record| record.seq).collect();
    assert_eq!((first.seq, seqs), (1, vec![2, 3, 4]));
    // Each entry links to the one before it, and the head is the last one.
    let links: Vec<(String, String)> = sqlx::query_as(
        "SELECT encode(prev_hash, 'hex'), encode(hash, 'hex') FROM audit_log \
         WHERE chain = 'unit:quan-1' ORDER BY seq",
    )
    .fetch_all(db.pool())
    .await?;
    assert_eq!(links[0].1, first.hash);
    for pair in links.windows(2) {
        assert_eq!(
            pair[1].0, pair[0].1,
            "each entry links to the one before it"
        );
    }
    let stored: Vec<&String> = links[1..].iter().map(|(_, hash)| hash).collect();
    let returned: Vec<&String> = records.iter().map(|record| &record.hash).collect();
    assert_eq!(stored, returned);
    let head: (i64, String) = sqlx::query_as(
        "SELECT seq, encode(hash, 'hex') FROM audit_chain_heads WHERE chain = 'unit:quan-1'",
    )
    .fetch_one(db.pool())
    .await?;
    assert_eq!(head, (4, records[2].hash.clone()));
    let report = verify_round(db.pool(), &round).await?;
    assert_eq!((report.chains, report.entries), (1, 4));
    assert_eq!(report.first_broken, None);
    db.close().await?;
    Ok(())
}

#[tokio::test]
async fn entries_of_two_chains_are_not_appended_together_and_nothing_is_written(
) -> anyhow::Result<()> {
    let db = TestDatabase::create().await?;
    let (round, actor) = (round(), actor());
    let other_unit = AuditEntry {
        chain: Chain::Unit("quan-3".into()),
        ..value_change(&round, &actor, 2)
    };
    let mut tx = db.pool().begin().await?;
    let refused = append_all(&mut tx, &[value_change(&round, &actor, 1), other_unit]).await;
    assert!(
        matches!(refused, Err(AuditError::NotOneChain)),
        "{refused:?}"
    );
    tx.commit().await?;
    let written: i64 = sqlx::query_scalar("SELECT count(*) FROM audit_log")
        .fetch_one(db.pool())
        .await?;
    assert_eq!(written, 0);
    db.close().await?;
    Ok(())
}
