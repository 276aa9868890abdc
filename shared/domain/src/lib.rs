//! Domain model of the city's Digital Transformation Index (DTI) assessment.
//!
//! This crate owns the vocabulary every service and `dtictl` share:
//! - [`ids`]: checked identifiers (units, frameworks, indicator codes, rounds);
//! - [`cents`]: published figures in hundredths: their text, and the mean compared with a merged
//!   unit;
//! - [`exact`]: exact rational numbers written as `"0.8"` or `"1/2"` in data files;
//! - [`framework`]: indicator frameworks as versioned data files, their loading and validation,
//!   and the catalog of known frameworks;
//! - [`units`]: the unit registry (departments, districts, agencies), cohorts per round and
//!   lineage;
//! - [`round`]: the round and submission state machines, enforced in one place;
//! - [`sample`]: deterministic sample cohorts generated from a framework, for demos and benchmarks;
//! - [`values`]: a unit's submitted indicator values, parsed and validated against a framework,
//!   with problems that name the unit, indicator and variable.
//!
//! Scoring itself lives in `dti-engine`, which is pure and depends on this crate.

#![warn(missing_docs)]

pub mod cents;
pub mod exact;
pub mod framework;
pub mod ids;
pub mod round;
pub mod sample;
pub mod units;
pub mod values;

pub use framework::{Framework, FrameworkCatalog, FrameworkError};
pub use ids::{
    EvidenceId, FrameworkId, GroupCode, IdError, IndicatorCode, ObjectionId, RoundRef,
    SubmissionId, SyncRunId, UnitId, VariableName,
};
pub use units::{UnitRegistry, UnitRegistryError};
pub use values::{Cohort, InputIssue, UnitValues, VariableValue};
