//! A round's cohort inputs on both bases the platform scores, read by the one loader the scoring
//! service uses too (`dti_scores::inputs`), so the scores a verifier reviews and publishes are
//! computed from exactly the inputs that are ranked:
//!
//! - **self-assessed**: each unit of `round_units` with the values of its latest submitted
//!   version;
//! - **verified**: that version with the verifiers' decisions of `verified_values` applied
//!   (`dti_scores::inputs::Decision::apply`).
//!
//! A unit that never submitted has no values on either basis; a stored row that no longer
//! decodes is an error naming round, unit, version and indicator.

pub use dti_scores::inputs::{
    decode_reported, decode_values, load_round, load_version, InputsError, Reported, RoundInputs,
    SubmissionInput, UnitInput,
};
