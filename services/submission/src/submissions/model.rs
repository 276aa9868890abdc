//! What the submission service reads and answers, in domain terms: a request's indicator
//! values and general information before validation, a draft's or version's entries, the
//! views of a submission and its versions, the outcome of a submit, and version numbers as the
//! API and events carry them.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use dti_domain::values::{IndicatorValues, InputIssue};
use dti_service_kit::service_error::DatabaseFailure;
use dti_workflow::submissions::SubmissionHead;
use serde_json::{json, Value};

use crate::SubmissionError;

/// The values a request gives for one indicator, as the scoring contract's JSON, before they
/// are validated against the submission's framework.
#[derive(Debug, Clone, PartialEq)]
pub struct IndicatorInput {
    /// The indicator code as the request wrote it.
    pub code: String,
    /// Each variable by name: its contract JSON, or why the request's value could not be read
    /// as one (reported with the indicator's other problems).
    pub variables: Vec<(String, Result<Value, String>)>,
}

/// A general-information field a request gives (THÔNG TIN CHUNG): its key as the request wrote
/// it, and its contract JSON or why the request's value could not be read as one.
pub type GeneralInfoInput = (String, Result<Value, String>);

/// A whole assessment as a request gives it, before validation: the indicators' values, the
/// not-applicable marks (code, reason) and the general information.
#[derive(Debug, Clone, Default)]
pub struct AssessmentInput {
    /// Every indicator the unit reports values for.
    pub values: Vec<IndicatorInput>,
    /// Every indicator the unit declares not applicable, with its reason.
    pub not_applicable: Vec<(String, String)>,
    /// The general-information fields.
    pub general_info: Vec<GeneralInfoInput>,
}

/// Validated general information by field key, as the contract's JSON (a number, a text or a
/// contact object).
pub type GeneralInfo = BTreeMap<String, Value>;

/// One indicator of a draft or version: its values, or why it does not apply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Entry {
    /// The unit's values.
    Values(IndicatorValues),
    /// Not applicable, with the unit's reason.
    NotApplicable(String),
}

impl Entry {
    /// The entry as audit JSON.
    pub(super) fn to_json(&self) -> Value {
        match self {
            Entry::Values(values) => values_json(values),
            Entry::NotApplicable(reason) => not_applicable_json(reason),
        }
    }
}

/// General information as one JSON object (as stored and audited).
pub(super) fn general_info_json(fields: &GeneralInfo) -> Value {
    Value::Object(
        fields
            .iter()
            .map(|(key, value)| (key.clone(), value.clone()))
            .collect(),
    )
}

/// An indicator's values as the contract's JSON object.
pub(super) fn values_json(values: &IndicatorValues) -> Value {
    serde_json::to_value(values).unwrap_or(Value::Null)
}

/// A not-applicable mark as audit JSON.
pub(super) fn not_applicable_json(reason: &str) -> Value {
    json!({ "not_applicable": reason })
}

/// A question of a clarification request the unit must answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Clarification {
    /// The version asked about.
    pub version: i32,
    /// The indicator.
    pub indicator_code: String,
    /// The question.
    pub question: String,
}

/// A submission as its unit and verifiers see it.
#[derive(Debug, Clone)]
pub struct SubmissionView {
    /// Id, round, unit, state and latest version.
    pub head: SubmissionHead,
    /// The draft, by indicator code in framework order.
    pub entries: Vec<(String, Entry)>,
    /// The draft's general information.
    pub general_info: GeneralInfo,
    /// Open clarification questions (when the state asks for them).
    pub clarifications: Vec<Clarification>,
    /// When the draft was created.
    pub created_at: DateTime<Utc>,
    /// When it last changed.
    pub updated_at: DateTime<Utc>,
}

/// One submitted version.
#[derive(Debug, Clone)]
pub struct VersionView {
    /// Version number.
    pub version: i32,
    /// Its values, by indicator code in framework order.
    pub entries: Vec<(String, Entry)>,
    /// Its general information.
    pub general_info: GeneralInfo,
    /// When it was submitted.
    pub submitted_at: DateTime<Utc>,
    /// Who submitted it.
    pub submitted_by: String,
}

/// The outcome of a submit.
#[derive(Debug, Clone)]
pub struct Submitted {
    /// The submission afterwards.
    pub view: SubmissionView,
    /// The version created (or, on a retry, the one the first attempt created).
    pub version: i32,
    /// Whether this call created it (false for a retry).
    pub created: bool,
    /// Warnings about the submitted values (they are submitted anyway).
    pub warnings: Vec<InputIssue>,
}

/// A version number that does not fit where it goes: a stored one below zero (a corrupt row),
/// or the one after the largest the database can hold.
#[derive(Debug, thiserror::Error)]
#[error("version number {0} is out of range")]
pub struct VersionOutOfRange(pub i64);

impl From<VersionOutOfRange> for SubmissionError {
    fn from(error: VersionOutOfRange) -> Self {
        SubmissionError::from(DatabaseFailure {
            action: "numbering a version",
            source: sqlx::Error::Decode(Box::new(error)),
        })
    }
}

/// A stored version number as the API and events carry it (unsigned).
pub fn version_number(stored: i32) -> Result<u32, VersionOutOfRange> {
    u32::try_from(stored).map_err(|_| VersionOutOfRange(stored.into()))
}

/// The version after `latest`.
pub(super) fn next_version(latest: i32) -> Result<i32, VersionOutOfRange> {
    latest
        .checked_add(1)
        .ok_or(VersionOutOfRange(i64::from(latest) + 1))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn version_numbers_out_of_range_are_errors_not_clamps() {
        assert_eq!(version_number(0).ok(), Some(0));
        assert_eq!(version_number(7).ok(), Some(7));
        assert!(version_number(-1).is_err());
        assert_eq!(next_version(6).ok(), Some(7));
        assert!(next_version(i32::MAX).is_err());
    }
}
