//! The audit chain against a real PostgreSQL database: appends verify, and each kind of
//! tampering (an edited, deleted or cut-off entry) is reported at the right place.

use dti_audit::{append, verify_round, AuditEntry, Chain};
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
