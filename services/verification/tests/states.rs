//! The round's state machine at the service: from every state, every step of this service that
//! the machine does not allow is refused with FailedPrecondition and changes nothing, while the
//! one allowed step moves the round on (draft → open → closed → under_verification → verified
//! ⇄ under_verification → approved → provisional → final).

mod support;

use dti_auth::Role;
use dti_domain::{RoundRef, UnitId};
use dti_proto::dti::verification::v1::{
    ApproveRoundRequest, CompleteRoundVerificationRequest, FinalizeRoundRequest,
    PublishRoundRequest, ReturnForVerificationRequest, StartRoundVerificationRequest,
};
use dti_testkit::{tokens, with_auth};
use dti_verification::Settings;
use support::{round, values, Stack};
use tonic::Code;

/// The round steps this service serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Step {
    StartVerification,
    CompleteVerification,
    ReturnForVerification,
    Approve,
    Publish,
    Finalize,
}

const STEPS: [Step; 6] = [
    Step::StartVerification,
    Step::CompleteVerification,
    Step::ReturnForVerification,
    Step::Approve,
    Step::Publish,
    Step::Finalize,
];

/// Takes `step` through the API as the role it belongs to.
async fn take(stack: &Stack, step: Step) -> Result<String, tonic::Status> {
    let round = Some(round());
    let status = match step {
        Step::StartVerification => stack
            .verification()
            .start_round_verification(with_auth(
                StartRoundVerificationRequest { round },
                &stack.verifier(),
            ))
            .await?
            .into_inner(),
        Step::CompleteVerification => stack
            .verification()
            .complete_round_verification(with_auth(
                CompleteRoundVerificationRequest { round },
                &stack.verifier(),
            ))
            .await?
            .into_inner(),
        Step::ReturnForVerification => stack
            .approval()
            .return_for_verification(with_auth(
                ReturnForVerificationRequest {
                    round,
                    reason: "check 1.2 again".into(),
                },
                &stack.approver(),
            ))
            .await?
            .into_inner(),
        Step::Approve => stack
            .approval()
            .approve_round(with_auth(ApproveRoundRequest { round }, &stack.approver()))
            .await?
            .into_inner(),
        Step::Publish => {
            let publication = stack
                .publication()
                .publish_round(with_auth(PublishRoundRequest { round }, &stack.approver()))
                .await?
                .into_inner();
            return Ok(publication.round_state);
        }
        Step::Finalize => stack
            .publication()
            .finalize_round(with_auth(FinalizeRoundRequest { round }, &stack.operator()))
            .await?
            .into_inner(),
    };
    Ok(status.state)
}

/// Tries every step but `allowed` and checks each is refused and changes nothing.
async fn refuse_all_but(stack: &Stack, state: &str, allowed: &[Step]) -> anyhow::Result<usize> {
    assert_eq!(stack.round_state().await?, state);
    let before = stack.footprint().await?;
    let mut refused = 0;
    for step in STEPS.into_iter().filter(|step| !allowed.contains(step)) {
        let status = take(stack, step).await.unwrap_err();
        assert_eq!(
            status.code(),
            Code::FailedPrecondition,
            "{step:?} from {state}: {status:?}"
        );
        assert!(
            status.message().contains(state),
            "{step:?} from {state} names the state: {}",
            status.message()
        );
        refused += 1;
    }
    assert_eq!(stack.round_state().await?, state, "nothing moved");
    assert_eq!(stack.footprint().await?, before, "nothing was written");
    Ok(refused)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_illegal_round_step_is_refused_with_failed_precondition() -> anyhow::Result<()> {
    let stack = Stack::start_with(Settings {
        provisional_period_secs: 0,
        finalize_check_interval_secs: 3600,
        ..Settings::default()
    })
    .await?;
    // A round in draft, as operators prepare it.
    let mut tx = stack.backends.db.pool().begin().await?;
    let operator = tokens::city(Role::Operator);
    let reference = RoundRef {
        year: 2023,
        framework: "hcm-2023-district".parse()?,
    };
    let catalog = dti_domain::FrameworkCatalog::builtin()?;
    let hash = dti_domain::framework::content_hash(
        catalog
            .get(&reference.framework)
            .ok_or_else(|| anyhow::anyhow!("no framework"))?,
    );
    dti_workflow::rounds::create_draft(
        &mut tx,
        &reference,
        &hash,
        &[UnitId::parse("quan-1")?],
        &operator,
    )
    .await?;
    tx.commit().await?;

    let mut refused = refuse_all_but(&stack, "draft", &[]).await?;
    stack.open_round(&["quan-1"]).await?;
    refused += refuse_all_but(&stack, "open", &[]).await?;
    let id = stack.draft("quan-1").await?;
    stack.set("quan-1", &id, values(7, 4)).await?;
    stack.submit("quan-1", &id).await?;
    stack.close_round().await?;
    refused += refuse_all_but(&stack, "closed", &[Step::StartVerification]).await?;
    assert_eq!(
        take(&stack, Step::StartVerification).await?,
        "under_verification"
    );
    refused += refuse_all_but(&stack, "under_verification", &[Step::CompleteVerification]).await?;
    stack.open(&id).await?;
    stack.complete(&id, 1).await?;
    assert_eq!(take(&stack, Step::CompleteVerification).await?, "verified");
    refused += refuse_all_but(
        &stack,
        "verified",
        &[Step::ReturnForVerification, Step::Approve],
    )
    .await?;
    assert_eq!(
        take(&stack, Step::ReturnForVerification).await?,
        "under_verification"
    );
    assert_eq!(take(&stack, Step::CompleteVerification).await?, "verified");
    assert_eq!(take(&stack, Step::Approve).await?, "approved");
    refused += refuse_all_but(&stack, "approved", &[Step::Publish]).await?;
    assert_eq!(take(&stack, Step::Publish).await?, "provisional");
    refused += refuse_all_but(&stack, "provisional", &[Step::Finalize]).await?;
    assert_eq!(take(&stack, Step::Finalize).await?, "final");
    refused += refuse_all_but(&stack, "final", &[]).await?;
    assert_eq!(
        refused,
        8 * 6 - 6,
        "every illegal step of every state was tried"
    );

    let returned: i64 =
        sqlx::query_scalar("SELECT count(*) FROM audit_log WHERE action = 'verification.returned'")
            .fetch_one(stack.backends.db.pool())
            .await?;
    assert_eq!(returned, 1, "the return's reason is in the audit log");
    stack.close().await
}
