//! What a verifier and a unit read about submissions: a round's submissions as listed, a
//! submission under review, and a unit's self-assessed and verified results side by side.

use chrono::{DateTime, Utc};
use dti_domain::framework::Indicator;
use dti_domain::round::SubmissionState;
use dti_domain::values::InputIssue;
use dti_domain::SubmissionId;
use dti_domain::{RoundRef, UnitId};
use dti_engine::{IndicatorScore, Points};

use crate::evidence::EvidenceDocument;
use crate::inputs::SubmissionInput;
use crate::model::{Reported, StoredDecision};
use crate::versions::Change;

/// A submission as listed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubmissionSummary {
    /// Submission id.
    pub id: SubmissionId,
    /// Its unit.
    pub unit: UnitId,
    /// Its state.
    pub state: SubmissionState,
    /// Latest submitted version.
    pub latest_version: i32,
    /// Indicators of the latest version with a decision.
    pub decided: i64,
    /// Scored indicators of the framework.
    pub indicators: usize,
}

/// A round's submissions.
#[derive(Debug, Clone)]
pub struct SubmissionList {
    /// Submissions, by unit id.
    pub submissions: Vec<SubmissionSummary>,
    /// Units of the cohort with no submitted version.
    pub units_without_submission: Vec<String>,
}

/// One indicator under review.
#[derive(Debug, Clone)]
pub struct IndicatorReview {
    /// Code, name and maximum.
    pub indicator: Indicator,
    /// The self-assessed entry (none: not reported).
    pub reported: Option<Reported>,
    /// Its score against the self-assessed cohort.
    pub self_score: Option<IndicatorScore>,
    /// Evidence documents.
    pub evidence: Vec<EvidenceDocument>,
    /// The decision so far.
    pub decision: Option<StoredDecision>,
}

/// A changed indicator with the question asked about it.
#[derive(Debug, Clone)]
pub struct ReviewedChange {
    /// The change.
    pub change: Change,
    /// The clarification question on the previous version, if any.
    pub question: Option<String>,
}

/// A submission as a verifier reviews it.
#[derive(Debug, Clone)]
pub struct SubmissionReview {
    /// Id, unit, state, version, counts.
    pub summary: SubmissionSummary,
    /// Its round.
    pub round: RoundRef,
    /// When the latest version was submitted.
    pub submitted_at: DateTime<Utc>,
    /// Every scored indicator in framework order.
    pub indicators: Vec<IndicatorReview>,
    /// The version compared against (0: none).
    pub previous_version: i32,
    /// What changed since it.
    pub changes: Vec<ReviewedChange>,
    /// The decision revision.
    pub decisions_revision: i64,
    /// Self-assessed total.
    pub self_total: Points,
}

/// One indicator side by side.
#[derive(Debug, Clone)]
pub struct SideBySideRow {
    /// The indicator.
    pub indicator: Indicator,
    /// Self-assessed entry.
    pub reported: Option<Reported>,
    /// Its score.
    pub self_score: Option<IndicatorScore>,
    /// Verified entry (none: no value).
    pub verified: Option<Reported>,
    /// Its score.
    pub verified_score: Option<IndicatorScore>,
    /// The decision (none: not decided, the self-assessed value stands).
    pub decision: Option<StoredDecision>,
    /// Evidence documents.
    pub evidence: Vec<EvidenceDocument>,
}

impl SideBySideRow {
    /// Verified minus self-assessed score.
    pub fn difference(&self) -> Points {
        let cents = |score: &Option<IndicatorScore>| score.as_ref().map_or(0, |s| s.score.0);
        Points(cents(&self.verified_score) - cents(&self.self_score))
    }
}

/// A unit's results side by side.
#[derive(Debug, Clone)]
pub struct SideBySide {
    /// The round.
    pub round: RoundRef,
    /// The unit.
    pub unit: UnitId,
    /// Its submission, if any.
    pub submission: Option<SubmissionInput>,
    /// Every scored indicator in framework order.
    pub rows: Vec<SideBySideRow>,
    /// Self-assessed total.
    pub self_total: Points,
    /// Verified total.
    pub verified_total: Points,
    /// Warnings about the self-assessed values ([`dti_domain::values::unit_warnings`]).
    pub self_warnings: Vec<InputIssue>,
    /// Warnings about the verified values.
    pub verified_warnings: Vec<InputIssue>,
}
