//! What units are scored from, read from PostgreSQL, on both bases the platform scores — one
//! reading for the scoring service (which ranks the scores) and the verification service (whose
//! verifiers review and publish them), so the two can never disagree:
//!
//! - **self-assessed**: the values of the unit's latest submitted version
//!   (`submission_version_values` at `submissions.latest_version`);
//! - **verified**: those values with the verifiers' decisions of `verified_values` on that
//!   version applied by [`Decision::apply`].
//!
//! Both carry the version's general information (`submission_versions.general_info`, read by
//! [`load_round`] for the verifiers' cross-checks).
//!
//! A unit that never submitted has no values on either basis (every indicator missing). Stored
//! values are decoded with `dti_domain::values::decode_indicator_values`, the validation every
//! writer used; a row that no longer decodes is an error naming round, unit, version and
//! indicator.
//!
//! Modules:
//! - [`model`]: entries, decisions and the rule that applies a decision (a leaf);
//! - [`decode`]: stored rows to the model;
//! - [`error`]: why inputs could not be read;
//! - [`cohort`]: the inputs read, the values and cohorts on each basis, input identities;
//! - [`load`]: the loader and its statements.

pub mod cohort;
pub mod decode;
pub mod error;
pub mod load;
pub mod model;

pub use cohort::{InputIdentity, RoundInputs, SubmissionInput, UnitInput};
pub use decode::{decode_decision, decode_reported, decode_values};
pub use error::InputsError;
pub use load::{load_decisions, load_round, load_units, load_version};
pub use model::{Decision, DecisionKind, Reported, StoredDecision, VerifiedValue};
