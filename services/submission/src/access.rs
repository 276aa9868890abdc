//! Who may touch a unit's submission: the unit's own submitter writes and reads; verifiers,
//! approvers and operators read every unit's; nobody else touches it. Refusals are written in
//! the request's language.

use dti_auth::{Principal, Role, Scope};
use dti_domain::UnitId;
use dti_i18n::Message;

use crate::SubmissionError;

/// Refuses unless `actor` is the unit submitter of `unit`.
pub fn require_writer(actor: &Principal, unit: &UnitId) -> Result<(), SubmissionError> {
    match &actor.scope {
        Scope::Unit { unit_id }
            if actor.role == Role::UnitSubmitter && unit_id == unit.as_str() =>
        {
            Ok(())
        }
        _ => Err(SubmissionError::permission_denied(
            Message::new("submission-writer-only")
                .arg("unit", unit.to_string())
                .into(),
        )),
    }
}

/// Refuses unless `actor` may read `unit`'s submission.
pub fn require_reader(actor: &Principal, unit: &UnitId) -> Result<(), SubmissionError> {
    if matches!(actor.role, Role::Verifier | Role::Approver | Role::Operator) {
        return Ok(());
    }
    require_writer(actor, unit).map_err(|_| {
        SubmissionError::permission_denied(
            Message::new("submission-readers-only")
                .arg("unit", unit.to_string())
                .into(),
        )
    })
}

/// Refuses unless `actor` may read a round whose cohort is `cohort`: operators, verifiers and
/// approvers read every round; a unit submitter reads the rounds its unit is assessed in (it
/// needs their state and deadline); nobody else (data owners, the national sync, public
/// readers) reads rounds here.
pub fn require_round_reader(actor: &Principal, cohort: &[String]) -> Result<(), SubmissionError> {
    if matches!(actor.role, Role::Verifier | Role::Approver | Role::Operator) {
        return Ok(());
    }
    match &actor.scope {
        Scope::Unit { unit_id }
            if actor.role == Role::UnitSubmitter && cohort.iter().any(|unit| unit == unit_id) =>
        {
            Ok(())
        }
        Scope::Unit { unit_id } if actor.role == Role::UnitSubmitter => {
            Err(SubmissionError::permission_denied(
                Message::new("submission-round-not-units")
                    .arg("unit", unit_id.as_str())
                    .into(),
            ))
        }
        _ => Err(SubmissionError::permission_denied(
            Message::new("submission-round-readers")
                .arg("role", actor.role.to_string())
                .into(),
        )),
    }
}

/// Refuses unless `actor` is an operator.
pub fn require_operator(actor: &Principal) -> Result<(), SubmissionError> {
    if actor.role == Role::Operator {
        return Ok(());
    }
    Err(SubmissionError::permission_denied(
        Message::new("submission-operator-only")
            .arg("role", actor.role.to_string())
            .into(),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use dti_testkit::tokens::{city, unit_submitter as submitter};

    #[test]
    fn rounds_are_read_by_the_city_and_the_units_they_assess() {
        let cohort = vec!["quan-1".to_owned(), "quan-3".to_owned()];
        assert!(require_round_reader(&submitter("quan-1"), &cohort).is_ok());
        assert!(require_round_reader(&submitter("quan-4"), &cohort).is_err());
        for role in [Role::Verifier, Role::Approver, Role::Operator] {
            assert!(require_round_reader(&city(role), &cohort).is_ok(), "{role}");
        }
        for role in [Role::DataOwner, Role::NationalSync, Role::PublicReader] {
            assert!(
                require_round_reader(&city(role), &cohort).is_err(),
                "{role}"
            );
        }
    }

    #[test]
    fn a_unit_touches_only_its_own_submission() {
        let q1 = UnitId::parse("quan-1").expect("id");
        let q3 = UnitId::parse("quan-3").expect("id");
        assert!(require_writer(&submitter("quan-1"), &q1).is_ok());
        assert!(require_writer(&submitter("quan-1"), &q3).is_err());
        assert!(require_reader(&submitter("quan-1"), &q3).is_err());
        let verifier = city(Role::Verifier);
        assert!(require_reader(&verifier, &q3).is_ok());
        assert!(require_writer(&verifier, &q3).is_err());
        assert!(require_operator(&verifier).is_err());
    }
}
