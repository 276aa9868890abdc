//! The sweep of leftovers: staged uploads of dead instances go, those of live instances stay;
//! old content objects nobody references go, referenced or young ones stay.

mod support;

use std::time::Duration;

use dti_evidence::storage::{hash_of, ObjectStorage};
use dti_evidence::sweep::{SweepReport, Sweeper};
use sqlx::{Connection, PgConnection};
use support::*;

/// First key of the evidence instance locks (see `dti_evidence::lease`).
const INSTANCE_LOCK_SPACE: i32 = 0x4576_4964;

fn write_partial(root: &std::path::Path, instance: &str) -> anyhow::Result<()> {
    let dir = root.join("staging").join(instance);
    std::fs::create_dir_all(&dir)?;
    std::fs::write(
        dir.join("0f0e0d0c0b0a09080706050403020100#1"),
        b"%PDF-1.7 partial",
    )?;
    Ok(())
}

#[tokio::test]
async fn dead_instances_uploads_and_old_unreferenced_objects_are_swept() -> anyhow::Result<()> {
    let harness = EvidenceHarness::start().await?;
    let root = harness.storage.path();
    let kept = pdf(4000, 1);
    harness.upload_own("quan-1", INDICATOR, &kept).await?;
    let storage = ObjectStorage::local(root, false)?;
    let orphan = pdf(4000, 2);
    storage
        .put_raw(&hash_of(&orphan).storage_key(), orphan.clone().into())
        .await?;
    write_partial(root, "0000abcd")?;
    let mut alive = PgConnection::connect(harness.backends.db.url()).await?;
    sqlx::query("SELECT pg_advisory_lock($1, $2)")
        .bind(INSTANCE_LOCK_SPACE)
        .bind(0x1234_i32)
        .execute(&mut alive)
        .await?;
    write_partial(root, "00001234")?;

    let patient = Sweeper::new(
        harness.pool().clone(),
        storage.clone(),
        "ffffffff".into(),
        Duration::from_secs(3600),
    );
    assert_eq!(
        patient.sweep().await?,
        SweepReport {
            dead_instances: 1,
            orphans_deleted: 0,
            ..SweepReport::default()
        },
        "the orphan is younger than an hour"
    );
    let eager = Sweeper::new(
        harness.pool().clone(),
        storage,
        "ffffffff".into(),
        Duration::ZERO,
    );
    assert_eq!(
        eager.sweep().await?,
        SweepReport {
            dead_instances: 0,
            orphans_deleted: 1,
            ..SweepReport::default()
        }
    );
    assert_eq!(
        harness.stored_files(),
        [
            hash_of(&kept).storage_key(),
            "staging/00001234/0f0e0d0c0b0a09080706050403020100#1".to_owned()
        ],
        "the live instance's upload and the referenced object stay"
    );

    alive.close().await?;
    let report = eager.sweep().await?;
    assert_eq!(report.dead_instances, 1, "gone once its session ended");
    assert_eq!(harness.stored_files(), [hash_of(&kept).storage_key()]);
    harness.finish().await
}

#[tokio::test]
async fn a_sweep_never_touches_an_upload_in_flight_of_a_running_service() -> anyhow::Result<()> {
    let harness = EvidenceHarness::start().await?;
    let bytes = pdf(2 * 1024 * 1024, 3);
    let messages = upload_messages(header("quan-1", INDICATOR, "a.pdf", ""), &bytes, 128 * 1024);
    let upload =
        StreamedUpload::start(&harness.client, &harness.unit("quan-1"), &messages, 4).await?;
    let staged = staged_within(harness.storage.path(), |_| true).await;
    assert!(staged, "the upload never reached the staging area");

    let other = Sweeper::new(
        harness.pool().clone(),
        ObjectStorage::local(harness.storage.path(), false)?,
        "ffffffff".into(),
        Duration::ZERO,
    );
    assert_eq!(other.sweep().await?, SweepReport::default());

    for message in messages.into_iter().skip(4) {
        upload.sender.send(message).await?;
    }
    drop(upload.sender);
    let evidence = upload.call.await??.into_inner().evidence.expect("evidence");
    assert_eq!(evidence.sha256, hash_of(&bytes).hex());
    assert_eq!(harness.stored_files(), [hash_of(&bytes).storage_key()]);
    harness.finish().await
}
