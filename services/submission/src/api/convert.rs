//! Protobuf at the edge: request fields parsed into domain values (an invalid field is
//! `InvalidArgument` naming it), and the service's answers rendered as protobuf messages.
//! Nothing past this module sees a `dti_proto` type.

use chrono::{DateTime, SubsecRound, Utc};
use dti_domain::round::{RoundState as DomainRoundState, SubmissionState as DomainState};
use dti_domain::values::InputIssue;
use dti_domain::{RoundRef, UnitId};
use dti_i18n::Message;
use dti_proto::convert::{
    general_info_map_to_proto, general_info_to_json, indicator_to_proto, instant, timestamp,
    variable_to_json,
};
use dti_proto::dti::common::v1 as common;
use dti_proto::dti::submission::v1 as pb;
use dti_service_kit::status::FieldViolation;
use dti_workflow::rounds::proto_round;

use crate::rounds::{Reopening, RoundView};
use crate::submissions::{
    version_number, Entry, GeneralInfoInput, IndicatorInput, SubmissionView, Submitted, VersionView,
};
use crate::SubmissionError;

/// A deadline at the database's precision (microseconds), so a retried request with the same
/// deadline compares equal to the stored one.
pub fn deadline(
    at: Option<&dti_proto::Timestamp>,
) -> Result<Option<DateTime<Utc>>, SubmissionError> {
    at.map(|at| {
        instant(at).map(|at| at.trunc_subsecs(6)).ok_or_else(|| {
            SubmissionError::invalid_field("deadline", Message::new("round-bad-instant"))
        })
    })
    .transpose()
}

/// A request's indicator values as the scoring contract's JSON, in request order. A variable
/// that cannot be read keeps its reason; validation reports it with the indicator's other
/// problems, naming unit, indicator and variable.
pub fn indicator_inputs(values: &[common::IndicatorValue]) -> Vec<IndicatorInput> {
    values
        .iter()
        .map(|value| IndicatorInput {
            code: value.indicator_code.clone(),
            variables: value
                .variables
                .iter()
                .map(|(name, variable)| (name.clone(), variable_to_json(variable)))
                .collect(),
        })
        .collect()
}

/// A request's general-information fields as the contract's JSON, by key; a value that cannot
/// be read keeps its reason, reported with the request's other problems.
pub fn general_info_inputs(
    fields: &std::collections::HashMap<String, common::GeneralInfoValue>,
) -> Vec<GeneralInfoInput> {
    let mut inputs: Vec<GeneralInfoInput> = fields
        .iter()
        .map(|(key, value)| (key.clone(), general_info_to_json(value)))
        .collect();
    inputs.sort_by(|a, b| a.0.cmp(&b.0));
    inputs
}

/// A request's not-applicable marks as (indicator code, reason), in request order.
pub fn not_applicable_marks(marks: &[pb::NotApplicable]) -> Vec<(String, String)> {
    marks
        .iter()
        .map(|mark| (mark.indicator_code.clone(), mark.reason.clone()))
        .collect()
}

fn submission_state(state: DomainState) -> pb::SubmissionState {
    match state {
        DomainState::Draft => pb::SubmissionState::Draft,
        DomainState::Submitted => pb::SubmissionState::Submitted,
        DomainState::ClarificationRequested => pb::SubmissionState::ClarificationRequested,
        DomainState::UnderVerification => pb::SubmissionState::UnderVerification,
        DomainState::Verified => pb::SubmissionState::Verified,
    }
}

fn round_state(state: DomainRoundState) -> pb::RoundState {
    match state {
        DomainRoundState::Draft => pb::RoundState::Draft,
        DomainRoundState::Open => pb::RoundState::Open,
        DomainRoundState::Closed => pb::RoundState::Closed,
        DomainRoundState::UnderVerification => pb::RoundState::UnderVerification,
        DomainRoundState::Verified => pb::RoundState::Verified,
        DomainRoundState::Approved => pb::RoundState::Approved,
        DomainRoundState::Provisional => pb::RoundState::Provisional,
        DomainRoundState::Final => pb::RoundState::Final,
    }
}

fn unit_ref(unit: &UnitId) -> common::UnitRef {
    common::UnitRef {
        unit_id: unit.to_string(),
    }
}

/// Splits entries into protobuf values and not-applicable marks.
fn entries_to_proto(
    entries: &[(String, Entry)],
) -> (Vec<common::IndicatorValue>, Vec<pb::NotApplicable>) {
    let mut values = Vec::new();
    let mut not_applicable = Vec::new();
    for (code, entry) in entries {
        match entry {
            Entry::Values(v) => values.push(indicator_to_proto(code, v)),
            Entry::NotApplicable(reason) => not_applicable.push(pb::NotApplicable {
                indicator_code: code.clone(),
                reason: reason.clone(),
            }),
        }
    }
    (values, not_applicable)
}

/// A submission as protobuf.
pub fn submission_to_proto(view: &SubmissionView) -> Result<pb::Submission, SubmissionError> {
    let (values, not_applicable) = entries_to_proto(&view.entries);
    let clarifications = view
        .clarifications
        .iter()
        .map(|c| {
            Ok(pb::ClarificationQuestion {
                indicator_code: c.indicator_code.clone(),
                question: c.question.clone(),
                version: version_number(c.version)?,
            })
        })
        .collect::<Result<_, SubmissionError>>()?;
    Ok(pb::Submission {
        submission_id: view.head.id.to_string(),
        round: Some(proto_round(&view.head.round)),
        unit: Some(unit_ref(&view.head.unit)),
        state: submission_state(view.head.state).into(),
        latest_version: version_number(view.head.latest_version)?,
        values,
        not_applicable,
        created_at: Some(timestamp(view.created_at)),
        updated_at: Some(timestamp(view.updated_at)),
        clarifications,
        general_info: general_info_map_to_proto(&view.general_info),
    })
}

/// A submitted version as protobuf.
pub fn version_to_proto(version: &VersionView) -> Result<pb::SubmissionVersion, SubmissionError> {
    let (values, not_applicable) = entries_to_proto(&version.entries);
    Ok(pb::SubmissionVersion {
        version: version_number(version.version)?,
        values,
        not_applicable,
        submitted_at: Some(timestamp(version.submitted_at)),
        submitted_by: version.submitted_by.clone(),
        general_info: general_info_map_to_proto(&version.general_info),
    })
}

/// The outcome of a submit as protobuf.
pub fn submit_response(submitted: &Submitted) -> Result<pb::SubmitResponse, SubmissionError> {
    Ok(pb::SubmitResponse {
        submission: Some(submission_to_proto(&submitted.view)?),
        version: version_number(submitted.version)?,
        warnings: warnings_to_proto(&submitted.warnings),
    })
}

/// A submission after setting values, with the warnings about them, as protobuf.
pub fn set_values_response(
    view: &SubmissionView,
    warnings: &[InputIssue],
) -> Result<pb::SetValuesResponse, SubmissionError> {
    Ok(pb::SetValuesResponse {
        submission: Some(submission_to_proto(view)?),
        warnings: warnings_to_proto(warnings),
    })
}

/// Value warnings as protobuf, each naming unit, indicator and variable, in the request's
/// language.
fn warnings_to_proto(warnings: &[InputIssue]) -> Vec<pb::ValidationWarning> {
    warnings
        .iter()
        .map(|issue| {
            let violation = FieldViolation::from(issue);
            pb::ValidationWarning {
                field: violation.field,
                description: violation.description,
            }
        })
        .collect()
}

/// A round with its cohort as protobuf.
pub fn round_to_proto(view: &RoundView) -> pb::Round {
    pb::Round {
        round: Some(proto_round(&view.record.round)),
        state: round_state(view.record.state).into(),
        deadline: view.record.deadline.map(timestamp),
        unit_ids: view.units.clone(),
        framework_hash: view.framework_hash.clone().unwrap_or_default(),
    }
}

/// A round reopened for a unit as protobuf.
pub fn reopening_to_proto(
    round: &RoundRef,
    unit: &UnitId,
    reopening: Reopening,
) -> pb::UnitReopening {
    pb::UnitReopening {
        round: Some(proto_round(round)),
        unit: Some(unit_ref(unit)),
        deadline: Some(timestamp(reopening.deadline)),
        reason: reopening.reason,
    }
}
