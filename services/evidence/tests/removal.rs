//! Removing evidence: allowed while the submission is editable, kept as a marked record with
//! an audit entry and an `evidence.removed` event, never deleting an object still shared;
//! refused once the submission is submitted or the round verified.

mod support;

use dti_evidence::storage::hash_of;
use dti_proto::dti::events::v1::EvidenceRemoved;
use prost::Message;
use support::*;
use tonic::Code;

#[tokio::test]
async fn a_draft_removal_is_kept_marked_audited_and_announced() -> anyhow::Result<()> {
    let harness = EvidenceHarness::start().await?;
    set_submission_state(harness.pool(), "quan-1", "draft").await?;
    let owner = harness.unit("quan-1");
    let bytes = pdf(5000, 1);
    let evidence = harness.upload_own("quan-1", INDICATOR, &bytes).await?;

    let removed = harness
        .remove(&owner, &evidence.evidence_id, "  wrong year's report ")
        .await?;
    let removal = removed.removal.clone().expect("marked removed");
    assert_eq!(removal.removed_by, "test-submitter-quan-1");
    assert_eq!(removal.reason, "wrong year's report");
    assert!(removal.removed_at.is_some());

    assert!(harness
        .list(&owner, "quan-1", INDICATOR, false)
        .await?
        .is_empty());
    assert_eq!(
        harness.list(&owner, "quan-1", INDICATOR, true).await?,
        std::slice::from_ref(&removed)
    );
    let (metadata, content) = harness.download(&owner, &evidence.evidence_id).await?;
    assert_eq!(
        (metadata, content),
        (removed.clone(), bytes.clone()),
        "kept for the record"
    );
    assert_eq!(harness.stored_files(), [hash_of(&bytes).storage_key()]);

    let again = harness
        .remove(&owner, &evidence.evidence_id, "again")
        .await?;
    assert_eq!(again, removed, "removing twice changes nothing");

    let audit: Vec<(String, serde_json::Value)> = sqlx::query_as(
        "SELECT action, after FROM audit_log WHERE chain = 'unit:quan-1' ORDER BY seq",
    )
    .fetch_all(harness.pool())
    .await?;
    let actions: Vec<&str> = audit.iter().map(|(action, _)| action.as_str()).collect();
    assert_eq!(actions, ["evidence.attach", "evidence.remove"]);
    assert_eq!(audit[1].1["reason"], "wrong year's report");
    let report = dti_audit::verify_round(
        harness.pool(),
        &dti_domain::RoundRef {
            year: YEAR as u16,
            framework: dti_domain::FrameworkId::parse(FRAMEWORK)?,
        },
    )
    .await?;
    assert!(report.first_broken.is_none(), "{report:?}");
    assert_eq!(report.entries, 2);

    let (msg_id, payload) = wait_for_event(&harness, "evidence.removed.v1").await?;
    assert_eq!(msg_id, format!("evidence/{}/removed", evidence.evidence_id));
    let event = EvidenceRemoved::decode(payload.as_slice())?;
    assert_eq!(event.reason, "wrong year's report");
    assert_eq!(event.indicator_code, INDICATOR);

    let reattached = harness.upload_own("quan-1", INDICATOR, &bytes).await?;
    assert_ne!(
        reattached.evidence_id, evidence.evidence_id,
        "a new attachment after removal"
    );
    assert_eq!(harness.row_counts().await?, (2, 1));
    harness.finish().await
}

#[tokio::test]
async fn removing_one_attachment_keeps_the_object_others_share() -> anyhow::Result<()> {
    let harness = EvidenceHarness::start().await?;
    let bytes = pdf(5000, 2);
    let first = harness.upload_own("quan-1", INDICATOR, &bytes).await?;
    let second = harness
        .upload_own("quan-1", OTHER_INDICATOR, &bytes)
        .await?;
    harness
        .remove(&harness.unit("quan-1"), &first.evidence_id, "duplicate")
        .await?;
    assert_eq!(harness.stored_files(), [hash_of(&bytes).storage_key()]);
    let (_, content) = harness
        .download(&harness.unit("quan-1"), &second.evidence_id)
        .await?;
    assert_eq!(content, bytes);
    harness.finish().await
}

#[tokio::test]
async fn evidence_changes_only_while_the_submission_is_editable() -> anyhow::Result<()> {
    let harness = EvidenceHarness::start().await?;
    let owner = harness.unit("quan-1");
    let kept = harness
        .upload_own("quan-1", INDICATOR, &pdf(3000, 3))
        .await?;

    for state in ["submitted", "under_verification", "verified"] {
        set_submission_state(harness.pool(), "quan-1", state).await?;
        let (code, status) = code_of(harness.remove(&owner, &kept.evidence_id, "late").await);
        assert_eq!(
            code,
            Code::FailedPrecondition,
            "remove when {state}: {status:?}"
        );
        assert!(status.message().contains(state), "{}", status.message());
        let (code, _) = code_of(
            harness
                .upload(&owner, "quan-1", INDICATOR, "late.pdf", "", &pdf(3000, 4))
                .await,
        );
        assert_eq!(code, Code::FailedPrecondition, "upload when {state}");
    }
    assert!(harness.list(&owner, "quan-1", "", false).await?[0]
        .removal
        .is_none());

    set_submission_state(harness.pool(), "quan-1", "clarification_requested").await?;
    set_round_state(harness.pool(), "under_verification").await?;
    harness
        .upload_own("quan-1", INDICATOR, &pdf(3000, 5))
        .await?;
    harness
        .remove(&owner, &kept.evidence_id, "answered the question")
        .await?;

    set_submission_state(harness.pool(), "quan-1", "draft").await?;
    for state in ["verified", "approved", "final"] {
        set_round_state(harness.pool(), state).await?;
        let (code, status) = code_of(
            harness
                .upload(&owner, "quan-1", INDICATOR, "late.pdf", "", &pdf(3000, 6))
                .await,
        );
        assert_eq!(
            code,
            Code::FailedPrecondition,
            "upload when the round is {state}"
        );
        assert!(status.message().contains(state), "{}", status.message());
    }
    assert_eq!(harness.row_counts().await?, (2, 2));
    harness.finish().await
}

#[tokio::test]
async fn bad_removal_requests_name_the_field() -> anyhow::Result<()> {
    let harness = EvidenceHarness::start().await?;
    let owner = harness.unit("quan-1");
    let evidence = harness
        .upload_own("quan-1", INDICATOR, &pdf(3000, 7))
        .await?;
    for (id, reason, field) in [
        (evidence.evidence_id.as_str(), "  ", "reason"),
        ("", "why", "evidence_id"),
        ("not-a-uuid", "why", "evidence_id"),
    ] {
        let (code, status) = code_of(harness.remove(&owner, id, reason).await);
        assert_eq!(code, Code::InvalidArgument, "{field}");
        assert_eq!(violated_fields(&status), [field]);
    }
    let unknown = uuid::Uuid::new_v4().to_string();
    let (code, _) = code_of(harness.remove(&owner, &unknown, "why").await);
    assert_eq!(code, Code::NotFound);
    assert!(harness.list(&owner, "quan-1", "", false).await?[0]
        .removal
        .is_none());

    let (code, status) = code_of(harness.list(&owner, "quan-1", "77.1", false).await);
    assert_eq!(code, Code::InvalidArgument);
    assert_eq!(violated_fields(&status), ["indicator_code"]);
    harness.finish().await
}
