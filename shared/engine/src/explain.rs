//! Explanations: how each score came about, in a form a unit can read and a verifier can check.
//!
//! Every number is exact: [`ExactView`] carries the exact fraction and a decimal rendering.
//! `summary` is one line such as `a/b = 133/190 = 0.7; 0.7 × 10 = 7 → 7.00`.

use crate::number::Num;
use crate::points::Points;
use dti_domain::exact::Exact;
use dti_domain::values::VariableValue;
use serde::Serialize;
use std::collections::BTreeMap;

/// Whether the unit reported the indicator.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// Scored from the unit's values (a real zero is a scored zero).
    Scored,
    /// No values were submitted: 0 points.
    Missing,
    /// Declared not applicable: the maximum.
    NotApplicable,
}

/// An exact number shown two ways.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ExactView {
    /// Exact value as a fraction or whole number, e.g. `7/10`.
    pub exact: String,
    /// Decimal rendering rounded to 6 places, e.g. `0.7`.
    pub decimal: String,
}

impl From<&Num> for ExactView {
    fn from(value: &Num) -> Self {
        ExactView {
            exact: value.to_exact_string(),
            decimal: value.to_decimal_string(6),
        }
    }
}

impl From<&Exact> for ExactView {
    fn from(value: &Exact) -> Self {
        ExactView {
            exact: value.to_string(),
            decimal: value.to_decimal_string(6),
        }
    }
}

/// The rule-specific part of an explanation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Detail {
    /// Nothing beyond the ratio (plain `ratio`, `boolean`) or no values.
    Plain,
    /// A threshold was compared (`target`, `all_or_nothing`).
    Threshold {
        /// The threshold.
        threshold: ExactView,
        /// Whether the ratio reached it.
        reached: bool,
    },
    /// A tier was applied (`tiers_3_3`).
    Tier {
        /// The tier reached, described like `> 0.8` or `≥ 0.5`; none when below every tier.
        tier: Option<String>,
        /// Points of that tier.
        tier_points: ExactView,
    },
    /// Equal parts (`split_halves`).
    Parts {
        /// Each part's clamped ratio and its points.
        parts: Vec<PartView>,
    },
    /// A level was chosen (`head_role`, `frequency`, `status`).
    Level {
        /// The chosen value.
        choice: String,
        /// Its share of the points.
        share: ExactView,
    },
    /// Portal posts band.
    Posts {
        /// Whether the portal has the section.
        has_section: bool,
        /// Posts in the year.
        posts: u64,
        /// Lowest count of the band reached, none without a section.
        band_at_least: Option<u64>,
        /// Share of the points.
        share: ExactView,
    },
    /// Flags that earn shares (`portal_tech`).
    Flags {
        /// Flag name → share earned (zero when false).
        earned: BTreeMap<String, ExactView>,
    },
    /// Growth against last year.
    Growth {
        /// g = current/previous − 1.
        growth: ExactView,
        /// Target growth.
        threshold: ExactView,
        /// Whether g reached it.
        reached: bool,
    },
    /// Min-max over the cohort.
    MinMax {
        /// This unit's x.
        x: ExactView,
        /// Smallest x in the cohort.
        min: ExactView,
        /// Largest x in the cohort.
        max: ExactView,
        /// Units that submitted the indicator.
        units_counted: usize,
        /// All submitted x are equal (then P when x > 0, else 0).
        all_equal: bool,
    },
    /// Effective activities.
    Activities {
        /// Activities reported.
        reported: usize,
        /// Activities with reports > 0 and resolved/reports ≥ the share (1-based positions).
        effective: Vec<usize>,
        /// resolved/reports needed.
        min_resolved_share: ExactView,
        /// Points per effective activity.
        points_each: ExactView,
        /// Whether the cap (the indicator's points) applied.
        capped: bool,
    },
}

/// One part of a `split_halves` rule.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PartView {
    /// The fraction, e.g. `c/d`.
    pub formula: String,
    /// The clamped ratio.
    pub ratio: ExactView,
    /// Points the part earns.
    pub points: ExactView,
}

/// How one indicator's score came about.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Explanation {
    /// Rule kind, e.g. `target`.
    pub kind: &'static str,
    /// Scored, missing or not applicable.
    pub outcome: Outcome,
    /// Maximum points.
    pub max_points: ExactView,
    /// The unit's values for the indicator.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub inputs: BTreeMap<String, VariableValue>,
    /// The ratio the rule computed (before clamping), when it has one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ratio: Option<ExactView>,
    /// Whether the ratio was clamped to [0, 1].
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub clamped: bool,
    /// Rule-specific detail.
    pub detail: Detail,
    /// The exact score before rounding.
    pub raw: ExactView,
    /// The score rounded half up to 2 decimals.
    pub rounded: Points,
    /// One line a person can follow.
    pub summary: String,
}
