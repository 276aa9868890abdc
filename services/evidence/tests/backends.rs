//! One suite, two storage backends: every test body runs on the local directory and on a real
//! S3 endpoint (moto, see `support::s3`). Uploads are stored once per content, downloaded
//! whole and swept when nothing references them; large documents go up in parts; a refused or
//! cancelled upload leaves no object, no multipart upload in progress and no row.

mod support;

use std::time::Duration;

use dti_evidence::storage::hash_of;
use dti_evidence::sweep::{SweepReport, Sweeper};
use support::*;
use tonic::Code;

/// Longest run of one test, moto's first installation included.
const TEST_LIMIT: Duration = Duration::from_secs(420);
/// How soon an interrupted upload must be cleared.
const CLEANUP_LIMIT: Duration = Duration::from_secs(5);
const MIB: usize = 1024 * 1024;

/// Runs each named test body once per backend: `<name>::local` and `<name>::s3`.
macro_rules! on_both_backends {
    ($($name:ident),* $(,)?) => {
        $(
            mod $name {
                use super::*;

                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn local() -> anyhow::Result<()> {
                    bounded(super::$name(TestStore::Local)).await
                }

                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn s3() -> anyhow::Result<()> {
                    bounded(super::$name(TestStore::S3)).await
                }
            }
        )*
    };
}

on_both_backends!(
    documents_are_stored_once_downloaded_and_swept,
    a_large_document_goes_up_in_parts_and_comes_back_whole,
    a_large_refused_upload_leaves_no_partial_upload,
    a_cancelled_upload_leaves_no_object_and_no_row,
);

async fn bounded(
    test: impl std::future::Future<Output = anyhow::Result<()>>,
) -> anyhow::Result<()> {
    tokio::time::timeout(TEST_LIMIT, test)
        .await
        .map_err(|_| anyhow::anyhow!("the test took longer than {TEST_LIMIT:?}"))?
}

async fn documents_are_stored_once_downloaded_and_swept(store: TestStore) -> anyhow::Result<()> {
    let harness = EvidenceHarness::start_on(store, |_| {}).await?;
    let bearer = harness.unit("quan-1");
    let bytes = pdf(300_000, 1);
    let key = hash_of(&bytes).storage_key();

    let first = harness.upload_own("quan-1", INDICATOR, &bytes).await?;
    let again = harness
        .upload(&bearer, "quan-1", INDICATOR, "again.pdf", "", &bytes)
        .await?;
    assert!(again.already_attached, "same bytes on the same indicator");
    let other = harness
        .upload_own("quan-1", OTHER_INDICATOR, &bytes)
        .await?;
    assert_ne!(other.evidence_id, first.evidence_id);
    assert_eq!(harness.stored_objects().await?, vec![key.clone()]);
    assert_eq!(
        harness.row_counts().await?,
        (2, 1),
        "two attachments, one object"
    );

    let (downloaded, content) = harness.download(&bearer, &first.evidence_id).await?;
    assert_eq!(downloaded.sha256, hash_of(&bytes).hex());
    assert!(content == bytes, "the download is the upload");

    harness
        .remove(&bearer, &first.evidence_id, "nộp nhầm tài liệu")
        .await?;
    assert_eq!(
        harness.stored_objects().await?,
        vec![key.clone()],
        "removed evidence keeps its content"
    );

    // An unreferenced object and a dead instance's staged upload on the same store go; the
    // referenced object stays.
    let storage = harness.object_storage()?;
    let orphan = pdf(4000, 2);
    storage
        .put_raw(&hash_of(&orphan).storage_key(), orphan.into())
        .await?;
    storage
        .put_raw(
            "staging/0000abcd/0f0e0d0c0b0a09080706050403020100",
            bytes::Bytes::from_static(b"%PDF-1.7 left by a dead instance"),
        )
        .await?;
    let sweeper = Sweeper::new(
        harness.pool().clone(),
        storage,
        "ffffffff".into(),
        Duration::ZERO,
    );
    assert_eq!(
        sweeper.sweep().await?,
        SweepReport {
            dead_instances: 1,
            orphans_deleted: 1,
            ..SweepReport::default()
        }
    );
    assert_eq!(harness.stored_objects().await?, vec![key]);
    let (_, content) = harness.download(&bearer, &other.evidence_id).await?;
    assert!(content == bytes, "the kept object still downloads");
    harness.finish().await
}

async fn a_large_document_goes_up_in_parts_and_comes_back_whole(
    store: TestStore,
) -> anyhow::Result<()> {
    let harness = EvidenceHarness::start_on(store, |settings| {
        settings.max_upload_bytes = 16 * MIB as u64;
    })
    .await?;
    // Three S3 parts of 5 MiB at most, the last one short.
    let bytes = pdf(12 * MIB + 123, 3);
    let evidence = harness.upload_own("quan-1", INDICATOR, &bytes).await?;
    assert_eq!(evidence.size_bytes, bytes.len() as u64);
    assert_eq!(
        harness.stored_objects().await?,
        vec![hash_of(&bytes).storage_key()]
    );
    let (_, content) = harness
        .download(&harness.unit("quan-1"), &evidence.evidence_id)
        .await?;
    assert_eq!(content.len(), bytes.len());
    assert!(content == bytes, "the download is the upload");
    assert_eq!(harness.row_counts().await?, (1, 1));
    harness.finish().await
}

async fn a_large_refused_upload_leaves_no_partial_upload(store: TestStore) -> anyhow::Result<()> {
    let harness = EvidenceHarness::start_on(store, |settings| {
        settings.max_upload_bytes = 6 * MIB as u64;
    })
    .await?;
    // One full part is sent before the limit is crossed.
    let bytes = pdf(9 * MIB, 4);
    let refused = harness
        .upload(
            &harness.unit("quan-1"),
            "quan-1",
            INDICATOR,
            "big.pdf",
            "",
            &bytes,
        )
        .await
        .expect_err("over the limit");
    assert_eq!(refused.code(), Code::InvalidArgument, "{refused:?}");
    harness.wait_for_objects(&[], CLEANUP_LIMIT).await?;
    assert_eq!(harness.row_counts().await?, (0, 0));
    harness.finish().await
}

async fn a_cancelled_upload_leaves_no_object_and_no_row(store: TestStore) -> anyhow::Result<()> {
    let harness = EvidenceHarness::start_on(store, |_| {}).await?;
    let bearer = harness.unit("quan-1");
    let chunk = 64 * 1024;
    let messages = upload_messages(
        header("quan-1", INDICATOR, "cancelled.pdf", ""),
        &pdf(8 * MIB, 5),
        chunk,
    );
    // The header and 6 MiB: more than one S3 part.
    let upload =
        StreamedUpload::start(&harness.client, &bearer, &messages, 1 + 6 * MIB / chunk).await?;
    let started = std::time::Instant::now();
    while !harness
        .stored_objects()
        .await?
        .iter()
        .any(|object| object.contains("staging/"))
    {
        anyhow::ensure!(
            started.elapsed() < Duration::from_secs(10),
            "the upload never showed up in the staging area: {:?}",
            harness.stored_objects().await?
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }

    // The client gives up midway: its call is dropped, the request stream never ends.
    upload.call.abort();
    let cancelled = upload.call.await;
    assert!(cancelled.is_err_and(|error| error.is_cancelled()));
    let sender = upload.sender;
    harness.wait_for_objects(&[], CLEANUP_LIMIT).await?;
    assert_eq!(harness.row_counts().await?, (0, 0));
    drop(sender);
    harness.finish().await
}
