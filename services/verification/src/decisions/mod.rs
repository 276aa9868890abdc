//! Verifiers' decisions on the indicators of a submitted version: the validation of a request
//! ([`validation`]), carrying decisions forward to a resubmitted version ([`carry`]), and
//! recording a batch ([`store`]). The decisions themselves, and the reading of the current ones,
//! are `dti_scores::inputs`'s: the model is re-exported from [`crate::model`].

pub mod carry;
pub mod store;
pub mod validation;

pub use carry::carried_forward;
pub use dti_scores::inputs::decode_decision as decode_stored;
/// The current decisions on `version` of `unit`'s submission in `round`, read as the scoring
/// service reads them.
pub use dti_scores::inputs::load_decisions as current;
pub use store::{latest_revision, record, BatchContext, BatchKind, Recorded};
pub use validation::validate;

pub use crate::model::{
    decision_json, Decision, DecisionKind, NewDecision, RequestedDecision, StoredDecision,
    VerifiedValue, MAX_TEXT_BYTES,
};
