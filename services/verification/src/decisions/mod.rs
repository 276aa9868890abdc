//! Verifiers' decisions on the indicators of a submitted version: the validation of a request
//! ([`validation`]), carrying decisions forward to a resubmitted version ([`carry`]), and
//! recording a batch and reading the current decisions ([`store`]). The decisions themselves
//! are the model of `dti_scores::inputs`, re-exported from [`crate::model`].

pub mod carry;
pub mod store;
pub mod validation;

pub use carry::carried_forward;
pub use dti_scores::inputs::decode_decision as decode_stored;
pub use store::{current, latest_revision, record, BatchContext, BatchKind, Recorded};
pub use validation::validate;

pub use crate::model::{
    decision_json, Decision, DecisionKind, NewDecision, RequestedDecision, StoredDecision,
    VerifiedValue, MAX_TEXT_BYTES,
};
