//! Uploads that fail on the platform's side are counted by what failed, on the service's
//! `/metrics`: the object store (`storage_error`), the database (`database_error`) or the
//! outbox (`bus_error`) — never lumped together as `unexpected`. Each failure is caused for
//! real: a file where the content directory must be, a table renamed away.

mod support;

use support::*;
use tonic::Code;

const UPLOADS: &str = "dti_evidence_uploads_total";

/// Uploads a new document for quan-1 and expects the platform's failure.
async fn failing_upload(harness: &EvidenceHarness, seed: u8) -> anyhow::Result<()> {
    let bearer = harness.unit("quan-1");
    let refused = harness
        .upload(&bearer, "quan-1", INDICATOR, "a.pdf", "", &pdf(3000, seed))
        .await
        .expect_err("the upload must fail");
    assert_eq!(refused.code(), Code::Internal, "{refused:?}");
    Ok(())
}

async fn rename(harness: &EvidenceHarness, from: &str, to: &str) -> anyhow::Result<()> {
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "ALTER TABLE {from} RENAME TO {to}"
    )))
    .execute(harness.pool())
    .await?;
    Ok(())
}

async fn uploads(harness: &EvidenceHarness, outcome: &str) -> anyhow::Result<Option<f64>> {
    let metrics = harness.scrape_metrics().await?;
    let label = format!("outcome=\"{outcome}\"");
    Ok(sample(&metrics, UPLOADS, &[&label]))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn storage_database_and_bus_failures_are_counted_apart() -> anyhow::Result<()> {
    let harness = EvidenceHarness::start().await?;

    // The object store: a file where the content directory must be created.
    let content_dir = harness.storage.path().join("sha256");
    std::fs::write(&content_dir, b"not a directory")?;
    failing_upload(&harness, 1).await?;
    std::fs::remove_file(&content_dir)?;
    assert_eq!(uploads(&harness, "storage_error").await?, Some(1.0));

    // The database: the table of stored contents is gone.
    rename(&harness, "evidence_objects", "evidence_objects_away").await?;
    failing_upload(&harness, 2).await?;
    rename(&harness, "evidence_objects_away", "evidence_objects").await?;
    assert_eq!(uploads(&harness, "database_error").await?, Some(1.0));

    // The outbox: the event of the attachment cannot be written.
    rename(&harness, "outbox_messages", "outbox_messages_away").await?;
    failing_upload(&harness, 3).await?;
    rename(&harness, "outbox_messages_away", "outbox_messages").await?;
    assert_eq!(uploads(&harness, "bus_error").await?, Some(1.0));

    assert_eq!(uploads(&harness, "storage_error").await?, Some(1.0));
    assert_eq!(uploads(&harness, "database_error").await?, Some(1.0));
    assert_eq!(uploads(&harness, "unexpected").await?, None);
    assert_eq!(harness.row_counts().await?, (0, 0), "nothing was recorded");
    harness
        .upload_own("quan-1", INDICATOR, &pdf(3000, 4))
        .await?;
    assert_eq!(uploads(&harness, "attached").await?, Some(1.0));
    harness.finish().await
}
