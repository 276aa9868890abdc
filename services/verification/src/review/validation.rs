//! Checking a verifier's request against the submission: the version reviewed, and the
//! clarification questions (every problem at once, naming unit, indicator and field).

use std::collections::BTreeMap;

use dti_domain::framework::Framework;
use dti_domain::UnitId;
use dti_i18n::Message;
use dti_service_kit::status::{FieldViolation, InvalidRequest};
use dti_workflow::submissions::SubmissionHead;

use crate::model::{decided_indicators, MAX_TEXT_BYTES};
use crate::VerificationError;

/// Checks that a request names a version at all, before anything is read or locked: a
/// malformed request is refused as such whatever state the submission is in.
pub fn check_version_given(version: u32) -> Result<(), VerificationError> {
    if version == 0 {
        return Err(VerificationError::invalid_field(
            "version",
            Message::new("verification-version-needed"),
        ));
    }
    Ok(())
}

/// Checks a request's version: set, and the submission's latest.
pub fn check_version(head: &SubmissionHead, version: u32) -> Result<i32, VerificationError> {
    check_version_given(version)?;
    if i64::from(version) != i64::from(head.latest_version) {
        return Err(VerificationError::not_now(
            Message::new("verification-not-latest")
                .arg("version", version)
                .arg("unit", head.unit.to_string())
                .arg("latest", head.latest_version.to_string())
                .into(),
        ));
    }
    Ok(head.latest_version)
}

/// Checks the number of clarification questions before anything is read or locked (1 to
/// `max_per_request`): a request without questions is refused as such in any state. What each
/// question says is checked against the framework by [`validate_questions`].
pub fn check_question_count(
    questions: &[(String, String)],
    max_per_request: usize,
) -> Result<(), VerificationError> {
    if questions.is_empty() || questions.len() > max_per_request {
        return Err(VerificationError::invalid_field(
            "questions",
            Message::new("verification-question-count").arg("max", max_per_request),
        ));
    }
    Ok(())
}

/// Validates clarification questions: every problem at once.
pub fn validate_questions(
    framework: &Framework,
    unit: &UnitId,
    questions: &[(String, String)],
    max_per_request: usize,
) -> Result<Vec<(String, String)>, VerificationError> {
    check_question_count(questions, max_per_request)?;
    let mut violations = Vec::new();
    let mut asked: BTreeMap<String, String> = BTreeMap::new();
    for (position, (code, question)) in questions.iter().enumerate() {
        let place = format!("unit {unit} / indicator {code}");
        let Some(indicator) = decided_indicators(framework).find(|i| i.code.as_str() == code)
        else {
            violations.push(FieldViolation::new(
                place,
                Message::new("submission-not-scored")
                    .arg("at", format!("questions[{position}]"))
                    .arg("framework", framework.id.to_string()),
            ));
            continue;
        };
        let question = question.trim();
        if question.is_empty() || question.len() > MAX_TEXT_BYTES {
            violations.push(FieldViolation::new(
                format!("{place} / question"),
                Message::new("verification-question-needed").arg("max", MAX_TEXT_BYTES),
            ));
            continue;
        }
        if asked
            .insert(indicator.code.to_string(), question.to_owned())
            .is_some()
        {
            violations.push(FieldViolation::new(
                place,
                Message::new("verification-one-question")
                    .arg("at", format!("questions[{position}]")),
            ));
        }
    }
    if violations.is_empty() {
        Ok(asked.into_iter().collect())
    } else {
        Err(VerificationError::from(InvalidRequest {
            summary: Message::new("verification-clarification-rejected")
                .arg("unit", unit.to_string())
                .into(),
            violations,
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use dti_domain::FrameworkCatalog;
    use dti_service_kit::service_error::Refusal;

    #[test]
    fn clarification_questions_name_their_indicator_and_field() {
        let catalog = FrameworkCatalog::builtin().expect("frameworks");
        let framework = catalog.get_str("hcm-2023-district").expect("district");
        let unit = UnitId::parse("quan-1").expect("id");
        let ok = validate_questions(
            framework,
            &unit,
            &[("1.2".into(), " Which meetings? ".into())],
            10,
        )
        .expect("valid");
        assert_eq!(ok, [("1.2".to_owned(), "Which meetings?".to_owned())]);
        let refused = validate_questions(
            framework,
            &unit,
            &[
                ("1.2".into(), "a".into()),
                ("1.2".into(), "b".into()),
                ("42.1".into(), "c".into()),
                ("2.1".into(), "  ".into()),
            ],
            10,
        )
        .unwrap_err();
        let VerificationError::Refused(Refusal::Invalid(InvalidRequest { violations, .. })) =
            refused
        else {
            panic!("invalid input expected")
        };
        let fields: Vec<&str> = violations.iter().map(|v| v.field.as_str()).collect();
        assert_eq!(
            fields,
            [
                "unit quan-1 / indicator 1.2",
                "unit quan-1 / indicator 42.1",
                "unit quan-1 / indicator 2.1 / question"
            ]
        );
        assert!(validate_questions(framework, &unit, &[], 10).is_err());
    }
}
