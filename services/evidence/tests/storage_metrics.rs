//! What the object store holds and what the sweep deletes, on the service's `/metrics`: the
//! stored documents' count and bytes (a document attached twice is stored once), and the
//! unreferenced objects the sweep deleted (exported at 0 from the start).

mod support;

use std::time::Duration;

use dti_evidence::storage::{hash_of, ObjectStorage};
use dti_evidence::sweep::{Sweeper, DELETED_OBJECTS};
use dti_evidence::usage::{self, STORED_BYTES, STORED_OBJECTS};
use support::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stored_bytes_and_swept_objects_are_exported() -> anyhow::Result<()> {
    let harness = EvidenceHarness::start().await?;
    let metrics = harness.scrape_metrics().await?;
    assert_eq!(
        sample(&metrics, DELETED_OBJECTS, &[]),
        Some(0.0),
        "{metrics}"
    );

    let first = pdf(4000, 1);
    harness.upload_own("quan-1", INDICATOR, &first).await?;
    harness
        .upload_own("quan-1", OTHER_INDICATOR, &first)
        .await?;
    harness
        .upload_own("quan-3", INDICATOR, &pdf(5000, 2))
        .await?;
    usage::export_usage(harness.pool()).await?;
    let metrics = harness.scrape_metrics().await?;
    assert_eq!(sample(&metrics, STORED_OBJECTS, &[]), Some(2.0));
    assert_eq!(sample(&metrics, STORED_BYTES, &[]), Some(9000.0));

    let storage = ObjectStorage::local(harness.storage.path(), false)?;
    let orphan = pdf(4000, 3);
    storage
        .put_raw(&hash_of(&orphan).storage_key(), orphan.into())
        .await?;
    let sweeper = Sweeper::new(
        harness.pool().clone(),
        storage,
        "ffffffff".into(),
        Duration::ZERO,
    );
    assert_eq!(sweeper.sweep().await?.orphans_deleted, 1);
    let metrics = harness.scrape_metrics().await?;
    assert_eq!(sample(&metrics, DELETED_OBJECTS, &[]), Some(1.0));
    assert_eq!(
        sample(&metrics, STORED_BYTES, &[]),
        Some(9000.0),
        "an unrecorded object never counted"
    );
    harness.finish().await
}
