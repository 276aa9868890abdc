//! The exact DTI scoring engine: pure functions, no I/O.
//!
//! Given a framework (from `dti-domain`) and a validated cohort of unit values, the engine
//! computes every indicator score with exact rational arithmetic, rounds each half up to two
//! decimals, sums groups and totals from the rounded scores, and ranks units with standard
//! competition ranking. Every score carries an [`Explanation`] a unit can read: the rule kind,
//! the inputs, the ratio, the threshold, tier or level applied, the cohort min/max for min-max
//! rules, and the raw and rounded score.
//!
//! Modules:
//! - [`points`]: the rounded score type (whole hundredths of a point);
//! - [`explain`]: the explanation model shown to units and verifiers;
//! - [`number`]: exact rationals on machine integers, promoted to big integers on overflow;
//! - [`rules`]: one pure function per rule kind;
//! - [`cohort`]: cohort statistics for min-max rules, unit scoring and ranking.
//!
//! `dtictl` and the scoring service both call [`score_cohort`], so they always agree.

#![warn(missing_docs)]

pub mod cohort;
pub mod explain;
pub mod number;
pub mod points;
pub mod rules;

pub use cohort::{
    rank_competition, score_cohort, score_indicator, score_unit, CohortScores, CohortStats,
    Explain, GroupScore, IndicatorScore, UnitScore,
};
pub use explain::{Detail, ExactView, Explanation, Outcome};
pub use points::Points;

/// The engine met values that validation should have rejected. Callers validate with
/// `dti_domain::values` first; this error only guards that contract.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unit {unit}, indicator {indicator}: {problem} (values must be validated before scoring)")]
pub struct EngineError {
    /// The unit.
    pub unit: String,
    /// The indicator.
    pub indicator: String,
    /// What was wrong.
    pub problem: String,
}
