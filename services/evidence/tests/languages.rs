//! The evidence service answers in the caller's language: Vietnamese without `accept-language`,
//! English with `accept-language: en` — the same refusal (code, fields) in words of each
//! language, from the catalogues: a bad upload header, an empty document and a removal that
//! does not say why.

mod support;

use dti_i18n::{Lang, Message};
use dti_proto::dti::evidence::v1::{RemoveEvidenceRequest, UploadHeader};
use dti_service_kit::status::{field_violations, FieldViolation};
use dti_testkit::{in_language, with_auth};
use support::*;
use tonic::{Code, Status};

/// The field violations of an `InvalidArgument` refusal, and its summary (the first line of its
/// message).
fn refusal(status: &Status) -> (Vec<FieldViolation>, String) {
    assert_eq!(status.code(), Code::InvalidArgument, "{status:?}");
    let summary = status.message().lines().next().unwrap_or_default();
    (field_violations(status), summary.to_owned())
}

#[tokio::test]
async fn refusals_are_written_in_vietnamese_by_default_and_in_english_on_request(
) -> anyhow::Result<()> {
    let harness = EvidenceHarness::start().await?;
    let bearer = harness.unit("quan-1");
    let upload = |header: UploadHeader, bytes: Vec<u8>, languages: Option<&'static str>| {
        let messages = upload_messages(header, &bytes, 1000);
        let request = in_language(
            with_auth(futures::stream::iter(messages), &bearer),
            languages,
        );
        let mut client = harness.client.clone();
        async move { client.upload_evidence(request).await.unwrap_err() }
    };

    // A header whose file name has nothing usable and whose declared type is no media type.
    let bad_header = || header("quan-1", INDICATOR, "/", "pdf");
    let vietnamese = refusal(&upload(bad_header(), pdf(1000, 1), None).await);
    let english = refusal(&upload(bad_header(), pdf(1000, 1), Some("en-US,en;q=0.9")).await);
    let unusable = Message::new("evidence-file-name-unusable").arg("name", "\"/\"");
    let not_media = Message::new("evidence-not-media-type").arg("declared", "\"pdf\"");
    assert_eq!(
        vietnamese,
        (
            vec![
                FieldViolation::new("header.file_name", unusable.render(Lang::Vi)),
                FieldViolation::new("header.declared_content_type", not_media.render(Lang::Vi)),
            ],
            Message::new("evidence-invalid-header").render(Lang::Vi)
        )
    );
    assert_eq!(
        vietnamese.0[0].description,
        "\"/\" không còn ký tự nào dùng được làm tên tệp"
    );
    assert_eq!(
        english,
        (
            vec![
                FieldViolation::new("header.file_name", "\"/\" has no usable characters"),
                FieldViolation::new(
                    "header.declared_content_type",
                    "\"pdf\" is not a media type such as application/pdf"
                ),
            ],
            "invalid upload header".to_owned()
        )
    );

    // An empty document: the header is fine, the content is not.
    let empty = || header("quan-1", INDICATOR, "a.pdf", "");
    let vietnamese = refusal(&upload(empty(), Vec::new(), None).await);
    let english = refusal(&upload(empty(), Vec::new(), Some("en")).await);
    assert_eq!(
        vietnamese,
        (
            vec![FieldViolation::new("chunk", "tài liệu không có nội dung")],
            "yêu cầu không hợp lệ".to_owned()
        )
    );
    assert_eq!(
        vietnamese.0[0].description,
        Message::new("evidence-empty").render(Lang::Vi)
    );
    assert_eq!(
        english,
        (
            vec![FieldViolation::new("chunk", "the document is empty")],
            "invalid request".to_owned()
        )
    );

    // Removing a document without saying why.
    let evidence = harness
        .upload_own("quan-1", INDICATOR, &pdf(1000, 2))
        .await?;
    let remove = |languages: Option<&'static str>| {
        let request = RemoveEvidenceRequest {
            evidence_id: evidence.evidence_id.clone(),
            reason: " ".into(),
        };
        let request = in_language(with_auth(request, &bearer), languages);
        let mut client = harness.client.clone();
        async move { client.remove_evidence(request).await.unwrap_err() }
    };
    let vietnamese = refusal(&remove(None).await);
    let english = refusal(&remove(Some("en")).await);
    assert_eq!(
        vietnamese.0,
        [FieldViolation::new(
            "reason",
            Message::new("evidence-removal-reason").render(Lang::Vi)
        )]
    );
    assert_eq!(vietnamese.0[0].description, "phải nêu lý do gỡ bỏ tài liệu");
    assert_eq!(
        english.0,
        [FieldViolation::new(
            "reason",
            "must say why the document is removed"
        )]
    );
    assert_eq!(harness.row_counts().await?, (1, 1), "nothing was removed");
    harness.finish().await
}
