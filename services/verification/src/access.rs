//! Who may do what: verifiers verify; approvers approve, return and publish; operators
//! finalize; verifiers and approvers answer objections; a unit submitter reads its own unit's
//! side-by-side view and objects for its own unit; verifiers, approvers and operators read
//! every unit's submission, evidence and ranking. Nobody edits a published revision.

use dti_auth::{Principal, Role, Scope};
use dti_domain::UnitId;

use crate::VerificationError;

fn refuse(what: &str, actor: &Principal) -> VerificationError {
    VerificationError::PermissionDenied(format!("only {what}; the caller is a {}", actor.role))
}

/// Refuses unless `actor` is a verifier.
pub fn require_verifier(actor: &Principal) -> Result<(), VerificationError> {
    match actor.role {
        Role::Verifier => Ok(()),
        _ => Err(refuse("a verifier may verify submissions", actor)),
    }
}

/// Refuses unless `actor` is an approver.
pub fn require_approver(actor: &Principal, action: &str) -> Result<(), VerificationError> {
    match actor.role {
        Role::Approver => Ok(()),
        _ => Err(refuse(&format!("an approver may {action}"), actor)),
    }
}

/// Refuses unless `actor` is an operator.
pub fn require_operator(actor: &Principal, action: &str) -> Result<(), VerificationError> {
    match actor.role {
        Role::Operator => Ok(()),
        _ => Err(refuse(&format!("an operator may {action}"), actor)),
    }
}

/// Refuses unless `actor` reads every unit's data: a verifier, approver or operator.
pub fn require_reviewer(actor: &Principal) -> Result<(), VerificationError> {
    match actor.role {
        Role::Verifier | Role::Approver | Role::Operator => Ok(()),
        _ => Err(refuse(
            "verifiers, approvers and operators may read every unit's submissions and ranking",
            actor,
        )),
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
    Err(VerificationError::PermissionDenied(format!(
        "only unit {unit}'s submitter, verifiers, approvers and operators may read its results"
    )))
}

/// Refuses unless `actor` is the unit submitter of `unit` (objections are the unit's).
pub fn require_objector(actor: &Principal, unit: &UnitId) -> Result<(), VerificationError> {
    if is_submitter_of(actor, unit) {
        return Ok(());
    }
    Err(VerificationError::PermissionDenied(format!(
        "only the unit submitter of unit {unit} may object to its result"
    )))
}

/// Refuses unless `actor` may answer objections: a verifier or an approver.
pub fn require_answerer(actor: &Principal) -> Result<(), VerificationError> {
    match actor.role {
        Role::Verifier | Role::Approver => Ok(()),
        _ => Err(refuse(
            "verifiers and approvers may answer objections",
            actor,
        )),
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
        assert!(require_approver(&unit, "approve").is_err());
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
        assert!(require_approver(&verifier, "approve").is_err());
        assert!(require_unit_reader(&verifier, &q1).is_ok());
        assert!(require_objector(&verifier, &q1).is_err());
        let approver = city(Role::Approver);
        assert!(require_verifier(&approver).is_err());
        assert!(require_answerer(&approver).is_ok());
        assert!(require_operator(&approver, "finalize").is_err());
        let owner = city(Role::DataOwner);
        assert!(require_reviewer(&owner).is_err());
        assert!(require_unit_reader(&owner, &q1).is_err());
    }
}
