//! The verifiers' work on submissions: listing a round's submissions, opening one (values,
//! evidence, self-assessed scores, decisions, and what changed since the previous version),
//! deciding on indicators, asking the unit for clarification, completing a submission; and the
//! side-by-side view of self-assessed and verified results a unit and a verifier both read.
//!
//! - [`view`]: what is read (summaries, reviews, side by side);
//! - [`validation`]: checking a request's version and clarification questions;
//! - [`reading`]: reading submissions in one consistent state;
//! - [`steps`]: the changes, each in one transaction (see there).
//!
//! [`Reviews`] is the service's entry point to all of them.

pub mod reading;
pub mod steps;
pub mod validation;
pub mod view;

use dti_auth::Principal;
use dti_domain::round::SubmissionState;
use dti_domain::values::InputIssue;
use dti_domain::SubmissionId;
use dti_domain::{RoundRef, UnitId};

use crate::context::Context;
use crate::decisions::{Recorded, RequestedDecision};
use crate::VerificationError;

pub use crate::model::{decided_indicators, verified_entry};
pub use validation::validate_questions;
pub use view::{
    IndicatorReview, ReviewedChange, SideBySide, SideBySideRow, SubmissionList, SubmissionReview,
    SubmissionSummary,
};

/// The verifiers' side of submissions.
#[derive(Debug, Clone)]
pub struct Reviews {
    context: Context,
}

impl Reviews {
    /// Reviews over `context`.
    pub fn new(context: Context) -> Self {
        Self { context }
    }

    /// The round's submissions (in `state`, when given) and the units that submitted nothing.
    pub async fn list(
        &self,
        actor: &Principal,
        round: &RoundRef,
        state: Option<SubmissionState>,
    ) -> Result<SubmissionList, VerificationError> {
        reading::list(&self.context, actor, round, state).await
    }

    /// Opens the submission's latest version: starts its verification when it was submitted
    /// (carrying forward the previous version's decisions on unchanged indicators) and returns
    /// the review.
    pub async fn open(
        &self,
        actor: &Principal,
        id: SubmissionId,
    ) -> Result<SubmissionReview, VerificationError> {
        steps::open(&self.context, actor, id).await
    }

    /// Records decisions on the latest version (all or nothing). Returns what changed and the
    /// warnings about verified values.
    pub async fn decide(
        &self,
        actor: &Principal,
        id: SubmissionId,
        version: u32,
        requested: &[RequestedDecision],
    ) -> Result<(Recorded, Vec<InputIssue>), VerificationError> {
        steps::decide(&self.context, actor, id, version, requested).await
    }

    /// Sends the submission back to its unit with questions on chosen indicators.
    pub async fn request_clarification(
        &self,
        actor: &Principal,
        id: SubmissionId,
        version: u32,
        questions: &[(String, String)],
    ) -> Result<SubmissionSummary, VerificationError> {
        steps::request_clarification(&self.context, actor, id, version, questions).await
    }

    /// Completes the verification of the latest version. Undecided indicators refuse it unless
    /// `accept_undecided`, which records them as accepted in the same transaction.
    pub async fn complete(
        &self,
        actor: &Principal,
        id: SubmissionId,
        version: u32,
        accept_undecided: bool,
    ) -> Result<SubmissionSummary, VerificationError> {
        steps::complete(&self.context, actor, id, version, accept_undecided).await
    }

    /// The unit's self-assessed and verified results side by side.
    pub async fn side_by_side(
        &self,
        actor: &Principal,
        round: &RoundRef,
        unit: &UnitId,
    ) -> Result<SideBySide, VerificationError> {
        reading::side_by_side(&self.context, actor, round, unit).await
    }
}
