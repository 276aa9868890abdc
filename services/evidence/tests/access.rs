//! Who may touch which evidence: missing, expired and forged tokens are Unauthenticated; a
//! caller touching another unit's evidence, or a role that may not, is PermissionDenied — and
//! nothing changes.

mod support;

use dti_auth::Role;
use dti_proto::dti::evidence::v1::{GetEvidenceRequest, ListEvidenceRequest};
use dti_testkit::{tokens, with_auth};
use support::*;
use tonic::Code;

/// Bearer tokens the service must reject as unauthenticated, with what is wrong with each.
fn bad_tokens() -> Vec<(&'static str, String)> {
    let owner = tokens::unit_submitter("quan-1");
    let expired = tokens::expired_bearer(&owner);
    let forged = tokens::forged_bearer(&owner);
    vec![
        ("malformed", "Bearer not-a-jwt".to_owned()),
        ("expired", expired),
        ("forged", forged),
    ]
}

#[tokio::test]
async fn missing_expired_and_forged_tokens_are_unauthenticated() -> anyhow::Result<()> {
    let harness = EvidenceHarness::start().await?;
    let evidence = harness
        .upload_own("quan-1", INDICATOR, &pdf(1000, 1))
        .await?;
    let mut client = harness.client.clone();

    let messages = upload_messages(header("quan-1", INDICATOR, "a.pdf", ""), &pdf(1000, 2), 500);
    let (code, _) = code_of(
        client
            .upload_evidence(tonic::Request::new(futures::stream::iter(messages.clone())))
            .await,
    );
    assert_eq!(code, Code::Unauthenticated, "upload without a token");
    let (code, _) = code_of(
        client
            .get_evidence(tonic::Request::new(GetEvidenceRequest {
                evidence_id: evidence.evidence_id.clone(),
            }))
            .await,
    );
    assert_eq!(code, Code::Unauthenticated, "get without a token");

    for (what, bearer) in bad_tokens() {
        let (code, _) = code_of(
            client
                .upload_evidence(with_auth(futures::stream::iter(messages.clone()), &bearer))
                .await,
        );
        assert_eq!(code, Code::Unauthenticated, "upload with a {what} token");
        let (code, _) = code_of(harness.download(&bearer, &evidence.evidence_id).await);
        assert_eq!(code, Code::Unauthenticated, "download with a {what} token");
        let (code, _) = code_of(harness.list(&bearer, "quan-1", "", false).await);
        assert_eq!(code, Code::Unauthenticated, "list with a {what} token");
        let (code, _) = code_of(harness.remove(&bearer, &evidence.evidence_id, "x").await);
        assert_eq!(code, Code::Unauthenticated, "remove with a {what} token");
    }
    assert_eq!(harness.row_counts().await?, (1, 1));
    harness.finish().await
}

#[tokio::test]
async fn another_unit_cannot_upload_read_or_remove_a_units_evidence() -> anyhow::Result<()> {
    let harness = EvidenceHarness::start().await?;
    let evidence = harness
        .upload_own("quan-1", INDICATOR, &pdf(1000, 3))
        .await?;
    let intruder = harness.unit("quan-3");

    let (code, status) = code_of(
        harness
            .upload(&intruder, "quan-1", INDICATOR, "a.pdf", "", &pdf(1000, 4))
            .await,
    );
    assert_eq!(code, Code::PermissionDenied, "{status:?}");
    assert!(status.message().contains("quan-1"), "{}", status.message());
    let (code, _) = code_of(harness.download(&intruder, &evidence.evidence_id).await);
    assert_eq!(code, Code::PermissionDenied, "download");
    let (code, _) = code_of(
        harness
            .client
            .clone()
            .get_evidence(with_auth(
                GetEvidenceRequest {
                    evidence_id: evidence.evidence_id.clone(),
                },
                &intruder,
            ))
            .await,
    );
    assert_eq!(code, Code::PermissionDenied, "get");
    let (code, _) = code_of(harness.list(&intruder, "quan-1", "", false).await);
    assert_eq!(code, Code::PermissionDenied, "list");
    let (code, _) = code_of(
        harness
            .remove(&intruder, &evidence.evidence_id, "not mine")
            .await,
    );
    assert_eq!(code, Code::PermissionDenied, "remove");

    assert_eq!(harness.row_counts().await?, (1, 1));
    let removed: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM evidence_attachments WHERE removed_at IS NOT NULL",
    )
    .fetch_one(harness.pool())
    .await?;
    assert_eq!(removed, 0);
    harness.finish().await
}

#[tokio::test]
async fn verifiers_and_approvers_read_every_unit_but_change_nothing() -> anyhow::Result<()> {
    let harness = EvidenceHarness::start().await?;
    let evidence = harness
        .upload_own("quan-3", INDICATOR, &pdf(1000, 5))
        .await?;
    for role in [Role::Verifier, Role::Approver] {
        let bearer = harness.backends.token(role);
        assert_eq!(
            harness.list(&bearer, "quan-3", INDICATOR, false).await?,
            std::slice::from_ref(&evidence)
        );
        let (_, content) = harness.download(&bearer, &evidence.evidence_id).await?;
        assert_eq!(content, pdf(1000, 5));
        let (code, _) = code_of(
            harness
                .upload(&bearer, "quan-3", INDICATOR, "a.pdf", "", &pdf(1000, 6))
                .await,
        );
        assert_eq!(code, Code::PermissionDenied, "{role} uploading");
        let (code, _) = code_of(harness.remove(&bearer, &evidence.evidence_id, "no").await);
        assert_eq!(code, Code::PermissionDenied, "{role} removing");
    }
    assert_eq!(harness.row_counts().await?, (1, 1));
    harness.finish().await
}

#[tokio::test]
async fn operators_data_owners_and_the_sync_job_read_nothing() -> anyhow::Result<()> {
    let harness = EvidenceHarness::start().await?;
    let evidence = harness
        .upload_own("quan-1", INDICATOR, &pdf(1000, 7))
        .await?;
    let others = [
        harness.backends.token(Role::Operator),
        harness.backends.token(Role::NationalSync),
        harness.backends.department_token("so-tttt"),
    ];
    for bearer in others {
        let (code, _) = code_of(harness.download(&bearer, &evidence.evidence_id).await);
        assert_eq!(code, Code::PermissionDenied, "download");
        let request = ListEvidenceRequest {
            round: Some(round()),
            unit: evidence.unit.clone(),
            indicator_code: String::new(),
            include_removed: true,
        };
        let (code, _) = code_of(
            harness
                .client
                .clone()
                .list_evidence(with_auth(request, &bearer))
                .await,
        );
        assert_eq!(code, Code::PermissionDenied, "list");
        let (code, _) = code_of(
            harness
                .upload(&bearer, "quan-1", INDICATOR, "a.pdf", "", &pdf(1000, 8))
                .await,
        );
        assert_eq!(code, Code::PermissionDenied, "upload");
    }
    assert_eq!(harness.row_counts().await?, (1, 1));
    harness.finish().await
}
