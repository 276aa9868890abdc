//! A round's life after it closes, one step each, every one through
//! `dti_workflow::rounds::transition` (role, state machine, audit, `round.state_changed.v1`):
//! verifiers start verification (setting aside, in the same transaction, every draft a unit
//! left after its last submitted version, so that version is the one verified) and complete
//! it; approvers read the verified ranking, approve it
//! or return it for more verification; operators finalize a provisional result once its
//! provisional period has ended and every objection is answered, which a background task also
//! does on a timer. Publishing is [`crate::publication`]'s.

use chrono::{DateTime, Utc};
use dti_audit::{AuditEntry, Chain};
use dti_auth::{Principal, Role};
use dti_db::PgTransaction;
use dti_domain::round::{RoundAction, RoundState, SubmissionState};
use dti_domain::{RoundRef, SubmissionId, UnitId};
use dti_engine::{Explain, Points};
use dti_i18n::Message;
use dti_service_kit::service_error::Refusal;
use dti_workflow::rounds::{self, stored_year, RoundRecord};
use dti_workflow::WorkflowError;
use serde_json::json;

use crate::access::{require_approver, require_operator, require_reviewer, require_verifier};
use crate::context::{provisional_until, Context};
use crate::inputs::load_round;
use crate::model::MAX_TEXT_BYTES;
use crate::review::steps::set_draft_aside;
use crate::{scoring, stage, VerificationError};

/// A round's state after a step.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoundStatus {
    /// The round and its state.
    pub record: RoundRecord,
    /// End of the provisional period, once published.
    pub provisional_until: Option<DateTime<Utc>>,
}

/// One unit of the verified ranking.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RankedUnit {
    /// The unit.
    pub unit: UnitId,
    /// Verified total.
    pub total: Points,
    /// Rank on verified totals.
    pub rank: u32,
    /// Self-assessed total.
    pub self_total: Points,
    /// Rank on self-assessed totals.
    pub self_rank: u32,
    /// Submission state, once it submitted a version (none for a unit that never did, even
    /// with a draft).
    pub state: Option<SubmissionState>,
    /// Version scored (0: none).
    pub version: i32,
}

/// The verified ranking of a round.
#[derive(Debug, Clone)]
pub struct VerifiedRanking {
    /// The round and its state.
    pub record: RoundRecord,
    /// Best verified total first; ties by unit id.
    pub units: Vec<RankedUnit>,
}

/// Round steps after closing.
#[derive(Debug, Clone)]
pub struct RoundSteps {
    context: Context,
}

impl RoundSteps {
    /// Steps over `context`.
    pub fn new(context: Context) -> Self {
        Self { context }
    }

    /// Begins `action` on `round`: checks the caller's role, locks the round and asks the
    /// state machine, so a step refused by its state is refused before anything else is
    /// checked. The caller checks its own preconditions in the returned transaction, then
    /// calls [`RoundSteps::finish`].
    async fn begin(
        &self,
        actor: &Principal,
        round: &RoundRef,
        action: RoundAction,
    ) -> Result<PgTransaction, VerificationError> {
        self.context.framework(round).await?;
        let mut tx = self.context.begin().await?;
        rounds::require_actor(actor, action)?;
        let current = rounds::lock(&mut tx, round).await?;
        current.state.apply(action).map_err(WorkflowError::from)?;
        Ok(tx)
    }

    /// Applies `action` through the workflow and commits.
    async fn finish(
        &self,
        mut tx: PgTransaction,
        actor: &Principal,
        round: &RoundRef,
        action: RoundAction,
    ) -> Result<RoundStatus, VerificationError> {
        let record = rounds::transition(
            &mut tx,
            &self.context.nats_prefix,
            round,
            action,
            None,
            actor,
        )
        .await?;
        let until = provisional_until(&mut tx, round).await?;
        tx.commit()
            .await
            .map_err(VerificationError::database("committing a round step"))?;
        tracing::info!(%round, state = %record.state, "round changed state");
        Ok(RoundStatus {
            record,
            provisional_until: until,
        })
    }

    /// Starts verifying a closed round. In the same transaction, every unit whose submission
    /// is a draft opened after its last submitted version (it edited again, or edited while
    /// the round was reopened for it, and did not resubmit in time) has that draft set aside:
    /// its last submitted version is the one verified, and it can no longer change it.
    #[tracing::instrument(skip_all, fields(round = %round))]
    pub async fn start_verification(
        &self,
        actor: &Principal,
        round: &RoundRef,
    ) -> Result<RoundStatus, VerificationError> {
        require_verifier(actor)?;
        let action = RoundAction::StartVerification;
        let mut tx = self.begin(actor, round, action).await?;
        let drafts: Vec<SubmissionId> = sqlx::query_scalar(
            "SELECT id FROM submissions WHERE year = $1 AND framework = $2 \
             AND state = 'draft' AND latest_version > 0 ORDER BY unit_id",
        )
        .bind(stored_year(round))
        .bind(round.framework.as_str())
        .fetch_all(&mut *tx)
        .await
        .map_err(VerificationError::database(
            "finding drafts left after a submitted version",
        ))?;
        for id in drafts {
            let head = dti_workflow::submissions::lock(&mut tx, id).await?;
            if stage::sets_draft_aside(
                RoundState::UnderVerification,
                head.state,
                head.latest_version,
            ) {
                set_draft_aside(&mut tx, &head, actor).await?;
            }
        }
        self.finish(tx, actor, round, action).await
    }

    /// Completes the round's verification: every unit's last submitted version must be
    /// verified. Units that never submitted are ranked with every indicator missing.
    #[tracing::instrument(skip_all, fields(round = %round))]
    pub async fn complete_verification(
        &self,
        actor: &Principal,
        round: &RoundRef,
    ) -> Result<RoundStatus, VerificationError> {
        require_verifier(actor)?;
        let action = RoundAction::CompleteVerification;
        let mut tx = self.begin(actor, round, action).await?;
        let rows: Vec<(String, String, i32)> = sqlx::query_as(
            "SELECT unit_id, state, latest_version FROM submissions \
             WHERE year = $1 AND framework = $2 ORDER BY unit_id",
        )
        .bind(stored_year(round))
        .bind(round.framework.as_str())
        .fetch_all(&mut *tx)
        .await
        .map_err(VerificationError::database(
            "reading the round's submissions",
        ))?;
        let submissions = rows
            .into_iter()
            .map(|(unit, state, version)| {
                let unit =
                    UnitId::parse(unit).map_err(|e| VerificationError::Corrupted(e.to_string()))?;
                let state: SubmissionState = state.parse().map_err(|_| {
                    VerificationError::Corrupted(format!("unit {unit}: state {state:?}"))
                })?;
                Ok((unit, state, version))
            })
            .collect::<Result<Vec<_>, VerificationError>>()?;
        let blockers = stage::completion_blockers(&submissions);
        if !blockers.is_empty() {
            return Err(VerificationError::not_now(
                Message::new("verification-round-blocked")
                    .arg("round", round.to_string())
                    .arg("blockers", blockers.join("; "))
                    .into(),
            ));
        }
        self.finish(tx, actor, round, action).await
    }

    /// Approves the verified ranking.
    #[tracing::instrument(skip_all, fields(round = %round))]
    pub async fn approve(
        &self,
        actor: &Principal,
        round: &RoundRef,
    ) -> Result<RoundStatus, VerificationError> {
        require_approver(actor, Message::new("verification-action-approve"))?;
        let action = RoundAction::Approve;
        let tx = self.begin(actor, round, action).await?;
        self.finish(tx, actor, round, action).await
    }

    /// Returns the verified round for more verification, recording why.
    #[tracing::instrument(skip_all, fields(round = %round))]
    pub async fn return_for_verification(
        &self,
        actor: &Principal,
        round: &RoundRef,
        reason: &str,
    ) -> Result<RoundStatus, VerificationError> {
        require_approver(actor, Message::new("verification-action-return"))?;
        let reason = reason.trim();
        if reason.is_empty() || reason.len() > MAX_TEXT_BYTES {
            return Err(VerificationError::invalid_field(
                "reason",
                Message::new("verification-return-reason").arg("max", MAX_TEXT_BYTES),
            ));
        }
        let action = RoundAction::ReturnForVerification;
        let mut tx = self.begin(actor, round, action).await?;
        dti_audit::append(
            &mut tx,
            &AuditEntry {
                round,
                chain: Chain::Round,
                actor,
                action: "verification.returned",
                subject: format!("round {round}"),
                before: None,
                after: Some(json!({"reason": reason})),
            },
        )
        .await?;
        self.finish(tx, actor, round, action).await
    }

    /// Makes a provisional result final, once its provisional period has ended and every
    /// objection is answered.
    #[tracing::instrument(skip_all, fields(round = %round))]
    pub async fn finalize(
        &self,
        actor: &Principal,
        round: &RoundRef,
    ) -> Result<RoundStatus, VerificationError> {
        require_operator(actor, Message::new("verification-action-finalize"))?;
        let action = RoundAction::Finalize;
        let mut tx = self.begin(actor, round, action).await?;
        let until = provisional_until(&mut tx, round).await?;
        let open: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM verification_objections \
             WHERE year = $1 AND framework = $2 AND status = 'open'",
        )
        .bind(stored_year(round))
        .bind(round.framework.as_str())
        .fetch_one(&mut *tx)
        .await
        .map_err(VerificationError::database("counting open objections"))?;
        stage::may_finalize(
            until,
            Utc::now(),
            usize::try_from(open).map_err(|_| {
                VerificationError::Corrupted(format!("round {round} counts {open} open objections"))
            })?,
        )
        .map_err(VerificationError::not_now)?;
        self.finish(tx, actor, round, action).await
    }

    /// The round's ranking on verified values, beside the self-assessed one.
    #[tracing::instrument(skip_all, fields(round = %round))]
    pub async fn verified_ranking(
        &self,
        actor: &Principal,
        round: &RoundRef,
    ) -> Result<VerifiedRanking, VerificationError> {
        require_reviewer(actor)?;
        let framework = self.context.framework(round).await?;
        let mut tx = self.context.read().await?;
        let record = rounds::find(&mut *tx, round).await?.ok_or_else(|| {
            VerificationError::not_found(dti_workflow::rounds::not_found(round).into())
        })?;
        let inputs = load_round(&mut tx, &framework, round).await?;
        drop(tx);
        let own = scoring::cohort(inputs.self_cohort(), Explain::ScoresOnly).await?;
        let verified = scoring::cohort(inputs.verified_cohort(), Explain::ScoresOnly).await?;
        let mut units: Vec<RankedUnit> = inputs
            .units
            .iter()
            .zip(verified.units.iter().zip(own.units.iter()))
            .map(|(input, (verified, own))| RankedUnit {
                unit: input.unit.clone(),
                total: verified.total,
                rank: verified.rank,
                self_total: own.total,
                self_rank: own.rank,
                state: input
                    .submission
                    .as_ref()
                    .filter(|s| s.version >= 1)
                    .map(|s| s.state),
                version: input.submission.as_ref().map_or(0, |s| s.version),
            })
            .collect();
        units.sort_by(|a, b| a.rank.cmp(&b.rank).then_with(|| a.unit.cmp(&b.unit)));
        Ok(VerifiedRanking { record, units })
    }

    /// Finalizes every provisional round whose period has ended and whose objections are all
    /// answered; returns how many it finalized. Finds its work in PostgreSQL alone.
    pub async fn finalize_due(&self) -> Result<usize, VerificationError> {
        let due: Vec<(i16, String)> = sqlx::query_as(
            "SELECT r.year, r.framework FROM rounds r JOIN round_provisional_periods p \
             ON p.year = r.year AND p.framework = r.framework \
             WHERE r.state = 'provisional' AND p.provisional_until < now() \
             AND NOT EXISTS (SELECT 1 FROM verification_objections o WHERE o.year = r.year \
             AND o.framework = r.framework AND o.status = 'open')",
        )
        .fetch_all(&self.context.pool)
        .await
        .map_err(VerificationError::database("finding rounds to finalize"))?;
        let clock = provisional_clock();
        let mut finalized = 0;
        for (year, framework) in due {
            let (Ok(year), Ok(framework)) = (u16::try_from(year), framework.parse()) else {
                continue;
            };
            let round = RoundRef { year, framework };
            match self.finalize(&clock, &round).await {
                Ok(_) => {
                    tracing::info!(%round, "finalized a round whose provisional period ended");
                    finalized += 1;
                }
                Err(VerificationError::Refused(Refusal::NotNow(reason))) => {
                    tracing::debug!(%round, %reason, "not finalized yet");
                }
                Err(VerificationError::Workflow(WorkflowError::IllegalRound(_))) => {}
                Err(error) => return Err(error),
            }
        }
        Ok(finalized)
    }
}

/// The principal the finalizer acts as.
fn provisional_clock() -> Principal {
    Principal::city("system:provisional-period", Role::Operator)
}

impl RoundStatus {
    /// The round's state.
    pub fn state(&self) -> RoundState {
        self.record.state
    }
}
