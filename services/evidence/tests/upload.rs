//! Uploading and downloading evidence against real PostgreSQL, NATS and the filesystem
//! backend: content addressing, the attached event and audit entry, content sniffing, file
//! name sanitising, limits, bad headers and interrupted uploads.

mod support;

use dti_auth::Role;
use dti_evidence::content_type::{samples, DOCX, PDF, PNG, XLSX};
use dti_evidence::storage::hash_of;
use dti_proto::dti::events::v1::EvidenceAttached;
use dti_testkit::with_auth;
use prost::Message;
use support::*;
use tonic::Code;

#[tokio::test]
async fn an_upload_is_stored_by_content_and_read_back_by_its_unit_and_verifiers(
) -> anyhow::Result<()> {
    let harness = EvidenceHarness::start().await?;
    let bytes = pdf(3 * 1024 * 1024 + 17, 1);
    let response = harness
        .upload(
            &harness.unit("quan-1"),
            "quan-1",
            INDICATOR,
            "Báo cáo.pdf",
            "application/pdf",
            &bytes,
        )
        .await?;
    assert!(!response.already_attached);
    let evidence = response.evidence.expect("evidence");
    let expected_hash = hash_of(&bytes);
    assert_eq!(evidence.sha256, expected_hash.hex());
    assert_eq!(evidence.size_bytes, bytes.len() as u64);
    assert_eq!(evidence.content_type, PDF);
    assert_eq!(evidence.file_name, "Báo cáo.pdf");
    assert_eq!(evidence.indicator_code, INDICATOR);
    assert_eq!(evidence.uploaded_by, "test-submitter-quan-1");
    assert!(evidence.removal.is_none());

    assert_eq!(harness.stored_files(), [expected_hash.storage_key()]);
    let on_disk = std::fs::read(harness.storage.path().join(expected_hash.storage_key()))?;
    assert_eq!(on_disk, bytes);

    for bearer in [
        harness.unit("quan-1"),
        harness.backends.token(Role::Verifier),
        harness.backends.token(Role::Approver),
    ] {
        let (metadata, content) = harness.download(&bearer, &evidence.evidence_id).await?;
        assert_eq!(metadata, evidence);
        assert_eq!(content, bytes, "downloaded bytes differ");
    }
    let listed = harness
        .list(&harness.unit("quan-1"), "quan-1", INDICATOR, false)
        .await?;
    assert_eq!(listed, std::slice::from_ref(&evidence));
    assert!(harness
        .list(&harness.unit("quan-1"), "quan-1", OTHER_INDICATOR, false)
        .await?
        .is_empty());

    let audit: Vec<(String, String, String)> = sqlx::query_as(
        "SELECT chain, action, subject FROM audit_log WHERE action LIKE 'evidence.%'",
    )
    .fetch_all(harness.pool())
    .await?;
    assert_eq!(
        audit,
        [(
            "unit:quan-1".to_owned(),
            "evidence.attach".to_owned(),
            format!("evidence {} indicator {INDICATOR}", evidence.evidence_id)
        )]
    );

    let event = wait_for_event(&harness, "evidence.attached.v1").await?;
    assert_eq!(
        event.0,
        format!("evidence/{}/attached", evidence.evidence_id),
        "Nats-Msg-Id"
    );
    let attached = EvidenceAttached::decode(event.1.as_slice())?;
    assert_eq!(attached.evidence_id, evidence.evidence_id);
    assert_eq!(attached.sha256, expected_hash.hex());
    assert_eq!(attached.indicator_code, INDICATOR);
    assert_eq!(attached.unit.expect("unit").unit_id, "quan-1");
    harness.finish().await
}

#[tokio::test]
async fn the_same_bytes_are_stored_once_and_attached_once_per_indicator() -> anyhow::Result<()> {
    let harness = EvidenceHarness::start().await?;
    let bytes = pdf(200_000, 2);
    let first = harness.upload_own("quan-1", INDICATOR, &bytes).await?;
    let again = harness
        .upload(
            &harness.unit("quan-1"),
            "quan-1",
            INDICATOR,
            "copy.pdf",
            "",
            &bytes,
        )
        .await?;
    assert!(
        again.already_attached,
        "the same bytes on the same indicator"
    );
    assert_eq!(again.evidence.as_ref(), Some(&first));

    let other_indicator = harness
        .upload_own("quan-1", OTHER_INDICATOR, &bytes)
        .await?;
    let other_unit = harness.upload_own("quan-3", INDICATOR, &bytes).await?;
    assert_ne!(other_indicator.evidence_id, first.evidence_id);
    assert_ne!(other_unit.evidence_id, first.evidence_id);
    assert_eq!(other_unit.sha256, first.sha256);

    assert_eq!(
        harness.stored_files(),
        [hash_of(&bytes).storage_key()],
        "one object"
    );
    assert_eq!(harness.row_counts().await?, (3, 1));
    let attach_entries: i64 =
        sqlx::query_scalar("SELECT count(*) FROM audit_log WHERE action = 'evidence.attach'")
            .fetch_one(harness.pool())
            .await?;
    assert_eq!(attach_entries, 3, "the repeated upload recorded nothing");
    let (_, content) = harness
        .download(&harness.unit("quan-3"), &other_unit.evidence_id)
        .await?;
    assert_eq!(content, bytes);
    harness.finish().await
}

#[tokio::test]
async fn office_documents_and_images_are_recognised_from_their_bytes() -> anyhow::Result<()> {
    let harness = EvidenceHarness::start().await?;
    let bearer = harness.unit("quan-1");
    let cases = [
        ("bao-cao.docx", "", samples::docx(), DOCX),
        ("so-lieu.xlsx", XLSX, samples::xlsx_docprops_first(), XLSX),
        (
            "anh.png",
            "application/octet-stream",
            samples::png(5000),
            PNG,
        ),
    ];
    for (name, declared, bytes, expected) in cases {
        let evidence = harness
            .upload(&bearer, "quan-1", INDICATOR, name, declared, &bytes)
            .await?
            .evidence
            .expect("evidence");
        assert_eq!(evidence.content_type, expected, "{name}");
        assert_eq!(evidence.declared_content_type, declared, "{name}");
    }
    harness.finish().await
}

#[tokio::test]
async fn documents_of_other_types_or_falsely_declared_are_refused_leaving_nothing(
) -> anyhow::Result<()> {
    let harness = EvidenceHarness::start().await?;
    let bearer = harness.unit("quan-1");
    let text = b"plain text pretending to be a report".repeat(1000);
    let zip = samples::zip(&[("a.txt", b"a"), ("b.txt", b"b")]);
    let gif = b"GIF89a\x01\x00\x01\x00\x00\x00\x00;".to_vec();
    for (name, declared, bytes, field) in [
        ("report.pdf", "application/pdf", text, "chunk"),
        ("archive.zip", "", zip, "chunk"),
        ("image.gif", "", gif, "chunk"),
        (
            "report.pdf",
            "application/pdf",
            samples::png(3000),
            "header.declared_content_type",
        ),
    ] {
        let (code, status) = code_of(
            harness
                .upload(&bearer, "quan-1", INDICATOR, name, declared, &bytes)
                .await,
        );
        assert_eq!(code, Code::InvalidArgument, "{name}: {status:?}");
        assert_eq!(violated_fields(&status), [field], "{name}: {status:?}");
    }
    assert_eq!(harness.wait_for_files(0).await?, Vec::<String>::new());
    assert_eq!(harness.row_counts().await?, (0, 0));
    harness.finish().await
}

#[tokio::test]
async fn file_names_are_sanitised() -> anyhow::Result<()> {
    let harness = EvidenceHarness::start().await?;
    let evidence = harness
        .upload(
            &harness.unit("quan-1"),
            "quan-1",
            INDICATOR,
            "..\\..\\windows\\Kế hoạch\t2023?.pdf",
            "",
            &pdf(1000, 3),
        )
        .await?
        .evidence
        .expect("evidence");
    assert_eq!(evidence.file_name, "Kế hoạch 2023_.pdf");
    harness.finish().await
}

#[tokio::test]
async fn an_oversized_upload_is_refused_while_streaming_and_leaves_nothing() -> anyhow::Result<()> {
    let harness =
        EvidenceHarness::start_with(|settings| settings.max_upload_bytes = 1024 * 1024).await?;
    let bearer = harness.unit("quan-1");
    let exactly = pdf(1024 * 1024, 4);
    harness
        .upload(&bearer, "quan-1", INDICATOR, "fits.pdf", "", &exactly)
        .await?;
    let over = pdf(1024 * 1024 + 1, 5);
    let (code, status) = code_of(
        harness
            .upload(&bearer, "quan-1", INDICATOR, "big.pdf", "", &over)
            .await,
    );
    assert_eq!(code, Code::InvalidArgument, "{status:?}");
    assert_eq!(violated_fields(&status), ["chunk"]);
    assert!(status.message().contains("1 MiB"), "{}", status.message());
    assert_eq!(
        harness.wait_for_files(1).await?,
        [hash_of(&exactly).storage_key()]
    );
    assert_eq!(harness.row_counts().await?, (1, 1));

    let (code, status) = code_of(
        harness
            .upload(&bearer, "quan-1", INDICATOR, "empty.pdf", "", b"")
            .await,
    );
    assert_eq!(code, Code::InvalidArgument);
    assert_eq!(violated_fields(&status), ["chunk"]);
    harness.finish().await
}

#[tokio::test]
async fn bad_headers_are_refused_naming_the_field_unit_and_indicator() -> anyhow::Result<()> {
    let harness = EvidenceHarness::start().await?;
    let bearer = harness.unit("quan-1");
    let bytes = pdf(2000, 6);
    let unknown_indicator = header("quan-1", "9.99", "a.pdf", "");
    let mut unknown_round = header("quan-1", INDICATOR, "a.pdf", "");
    unknown_round.round.as_mut().expect("round").year = 2024;
    let mut unknown_framework = header("quan-1", INDICATOR, "a.pdf", "");
    unknown_framework.round.as_mut().expect("round").framework = "hcm-1999-district".into();
    let cases = [
        (
            unknown_indicator,
            "header.indicator_code",
            "unit quan-1: indicator 9.99",
        ),
        (
            unknown_round,
            "header.round",
            "round 2024/hcm-2023-district does not exist",
        ),
        (
            unknown_framework,
            "header.round.framework",
            "hcm-1999-district",
        ),
        (
            header("quan-1", INDICATOR, "/", ""),
            "header.file_name",
            "no usable",
        ),
        (
            header("quan-1", "", "a.pdf", ""),
            "header.indicator_code",
            "must be set",
        ),
        (
            header("quan-1", INDICATOR, "a.pdf", "pdf"),
            "header.declared_content_type",
            "media type",
        ),
    ];
    for (header, field, says) in cases {
        let messages = upload_messages(header, &bytes, 1000);
        let (code, status) = code_of(
            harness
                .client
                .clone()
                .upload_evidence(with_auth(futures::stream::iter(messages), &bearer))
                .await,
        );
        assert_eq!(code, Code::InvalidArgument, "{field}: {status:?}");
        assert_eq!(violated_fields(&status), [field], "{status:?}");
        assert!(
            status.message().contains(says),
            "{field}: {}",
            status.message()
        );
    }

    // A unit outside the round's cohort (its own submitter, so access is not the problem).
    sqlx::query("DELETE FROM round_units WHERE unit_id = 'quan-3'")
        .execute(harness.pool())
        .await?;
    let (code, status) = code_of(
        harness
            .upload(
                &harness.unit("quan-3"),
                "quan-3",
                INDICATOR,
                "a.pdf",
                "",
                &bytes,
            )
            .await,
    );
    assert_eq!(code, Code::InvalidArgument);
    assert_eq!(violated_fields(&status), ["header.unit.unit_id"]);
    assert!(
        status.message().contains("unit quan-3 is not assessed"),
        "{}",
        status.message()
    );

    // Chunks before the header, and a second header.
    let mut messages = upload_messages(header("quan-1", INDICATOR, "a.pdf", ""), &bytes, 1000);
    messages.swap(0, 1);
    let (code, status) = code_of(
        harness
            .client
            .clone()
            .upload_evidence(with_auth(futures::stream::iter(messages.clone()), &bearer))
            .await,
    );
    assert_eq!(
        (code, violated_fields(&status)),
        (Code::InvalidArgument, vec!["header".to_owned()])
    );
    messages.swap(0, 1);
    messages.push(messages[0].clone());
    let (code, status) = code_of(
        harness
            .client
            .clone()
            .upload_evidence(with_auth(futures::stream::iter(messages), &bearer))
            .await,
    );
    assert_eq!(
        (code, violated_fields(&status)),
        (Code::InvalidArgument, vec!["header".to_owned()])
    );

    assert_eq!(harness.wait_for_files(0).await?, Vec::<String>::new());
    assert_eq!(harness.row_counts().await?, (0, 0));
    harness.finish().await
}

#[tokio::test]
async fn an_upload_the_client_abandons_leaves_nothing_and_can_be_retried() -> anyhow::Result<()> {
    let harness = EvidenceHarness::start().await?;
    let bearer = harness.unit("quan-1");
    let bytes = pdf(4 * 1024 * 1024, 7);
    let messages = upload_messages(header("quan-1", INDICATOR, "a.pdf", ""), &bytes, 256 * 1024);
    let upload = StreamedUpload::start(&harness.client, &bearer, &messages, 6).await?;
    let partial = staged_within(harness.storage.path(), |_| true).await;
    assert!(partial, "the upload never reached the staging area");
    upload.call.abort();
    let _ = upload.call.await;
    drop(upload.sender);

    assert_eq!(harness.wait_for_files(0).await?, Vec::<String>::new());
    assert_eq!(harness.row_counts().await?, (0, 0));
    let retried = harness.upload_own("quan-1", INDICATOR, &bytes).await?;
    assert_eq!(retried.sha256, hash_of(&bytes).hex());
    assert_eq!(harness.stored_files(), [hash_of(&bytes).storage_key()]);
    harness.finish().await
}
