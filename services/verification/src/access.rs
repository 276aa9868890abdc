//! Who may do what: verifiers verify; approvers approve, return and publish; operators
//! finalize; verifiers and approvers answer objections; a unit submitter reads its own unit's
//! side-by-side view and objects for its own unit; verifiers, approvers and operators read
//! every unit's submission, evidence and ranking. Nobody edits a published revision.

use dti_auth::{Principal, Role, Scope};
use dti_domain::UnitId;
use dti_i18n::Message;

use crate::VerificationError;

/// `who` may do this, the caller may not: in the request's language.
fn refuse(who: Message, actor: &Principal) -> VerificationError {
    VerificationError::permission_denied(
        Message::new("verification-only")
            .arg("who", who)
            .arg("role", actor.role.to_string())
            .into(),
    )
}

/// Refuses unless `actor` is a verifier.
pub fn require_verifier(actor: &Principal) -> Result<(), VerificationError> {
    match actor.role {
        Role::Verifier => Ok(()),
        _ => Err(refuse(Message::new("verification-who-verifier"), actor)),
    }
}

/// Refuses unless `actor` is an approver (`action`: what only an approver may do).
pub fn require_approver(actor: &Principal, action: Message) -> Result<(), VerificationError> {
    match actor.role {
        Role::Approver => Ok(()),
        _ => Err(refuse(
            Message::new("verification-who-approver").arg("action", action),
            actor,
        )),
    }
}

/// Refuses unless `actor` is an operator (`action`: what only an operator may do).
pub fn require_operator(actor: &Principal, action: Message) -> Result<(), VerificationError> {
    match actor.role {
        Role::Operator => Ok(()),
        _ => Err(refuse(
            Message::new("verification-who-operator").arg("action", action),
            actor,
        )),
    }
}

/// Refuses unless `actor` reads every unit's data: a verifier, approver or operator.
pub fn require_reviewer(actor: &Principal) -> Result<(), VerificationError> {
    match actor.role {
        Role::Verifier | Role::Approver | Role::Operator => Ok(()),
        _ => Err(refuse(Message::new("verification-who-reviewers"), actor)),
    }
}

/// Whether `actor` is the unit submitter of `unit`.
pub fn is_submitter_of(actor: &Principal, unit: &UnitId) -> bool {
    matches!(&actor.scope, Scope::Unit { unit_id }
        if actor.role == Role::UnitSubmitter && unit_id == unit.as_str())
}

/// Refuses unless `actor` may read `unit`'s results and evidence: a reviewer or the unit's
/// own submitter.
pub fn require_unit_reader(actor: &Principal, unit: &UnitId) -> Result<(), VerificationError> {
    if require_reviewer(actor).is_ok() || is_submitter_of(actor, unit) {
        return Ok(());
    }
    Err(VerificationError::permission_denied(
        Message::new("verification-results-readers")
            .arg("unit", unit.to_string())
            .into(),
    ))
}

/// Refuses unless `actor` is the unit submitter of `unit` (objections are the unit's).
pub fn require_objector(actor: &Principal, unit: &UnitId) -> Result<(), VerificationError> {
    if is_submitter_of(actor, unit) {
        return Ok(());
    }
    Err(VerificationError::permission_denied(
        Message::new("verification-objector-only")
            .arg("unit", unit.to_string())
            .into(),
    ))
}

/// Refuses unless `actor` may answer objections: a verifier or an approver.
pub fn require_answerer(actor: &Principal) -> Result<(), VerificationError> {
    match actor.role {
        Role::Verifier | Role::Approver => Ok(()),
        _ => Err(refuse(Message::new("verification-who-answerers"), actor)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use dti_testkit::tokens::{city, unit_submitter as submitter};

    #[test]
    fn units_read_their_own_results_and_never_verify_or_approve() {
        let q1 = UnitId::parse("quan-1").expect("id");
        let unit = submitter("quan-1");
        assert!(require_unit_reader(&unit, &q1).is_ok());
        assert!(require_objector(&unit, &q1).is_ok());
        assert!(require_verifier(&unit).is_err());
        assert!(require_approver(&unit, Message::new("verification-action-approve")).is_err());
        assert!(require_reviewer(&unit).is_err());
        let q3 = UnitId::parse("quan-3").expect("id");
        assert!(require_unit_reader(&unit, &q3).is_err());
        assert!(require_objector(&unit, &q3).is_err());
    }

    #[test]
    fn each_city_role_does_only_its_part() {
        let q1 = UnitId::parse("quan-1").expect("id");
        let verifier = city(Role::Verifier);
        assert!(require_verifier(&verifier).is_ok());
        assert!(require_approver(&verifier, Message::new("verification-action-approve")).is_err());
        assert!(require_unit_reader(&verifier, &q1).is_ok());
        assert!(require_objector(&verifier, &q1).is_err());
        let approver = city(Role::Approver);
        assert!(require_verifier(&approver).is_err());
        assert!(require_answerer(&approver).is_ok());
        assert!(require_operator(&approver, Message::new("verification-action-finalize")).is_err());
        let owner = city(Role::DataOwner);
        assert!(require_reviewer(&owner).is_err());
        assert!(require_unit_reader(&owner, &q1).is_err());
    }
}
