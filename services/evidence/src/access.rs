//! Who may touch a unit's evidence: the unit's own submitter uploads, reads and removes it;
//! verifiers and approvers read every unit's; nobody else touches it.

use dti_auth::{Principal, Role, Scope};
use dti_domain::UnitId;

use crate::EvidenceError;

/// Refuses unless `actor` is the unit submitter of `unit`.
pub fn require_owner(actor: &Principal, unit: &UnitId) -> Result<(), EvidenceError> {
    match &actor.scope {
        Scope::Unit { unit_id }
            if actor.role == Role::UnitSubmitter && unit_id == unit.as_str() =>
        {
            Ok(())
        }
        _ => Err(EvidenceError::permission_denied(
            dti_i18n::Message::new("evidence-owner-only")
                .arg("unit", unit.to_string())
                .into(),
        )),
    }
}

/// Refuses unless `actor` may read `unit`'s evidence.
pub fn require_reader(actor: &Principal, unit: &UnitId) -> Result<(), EvidenceError> {
    if matches!(actor.role, Role::Verifier | Role::Approver) {
        return Ok(());
    }
    require_owner(actor, unit).map_err(|_| {
        EvidenceError::permission_denied(
            dti_i18n::Message::new("evidence-readers-only")
                .arg("unit", unit.to_string())
                .into(),
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use dti_service_kit::service_error::Refusal;

    #[test]
    fn a_unit_changes_and_reads_only_its_own_evidence() {
        let q1 = UnitId::parse("quan-1").expect("id");
        let q3 = UnitId::parse("quan-3").expect("id");
        assert!(require_owner(&Principal::unit_submitter("p", "quan-1"), &q1).is_ok());
        assert!(require_reader(&Principal::unit_submitter("p", "quan-1"), &q1).is_ok());
        assert!(require_owner(&Principal::unit_submitter("p", "quan-1"), &q3).is_err());
        assert!(require_reader(&Principal::unit_submitter("p", "quan-1"), &q3).is_err());
    }

    #[test]
    fn verifiers_and_approvers_read_but_never_change() {
        let q3 = UnitId::parse("quan-3").expect("id");
        for role in [Role::Verifier, Role::Approver] {
            let reader = Principal::city("p", role);
            assert!(require_reader(&reader, &q3).is_ok());
            assert!(matches!(
                require_owner(&reader, &q3),
                Err(EvidenceError::Refused(Refusal::PermissionDenied(_)))
            ));
        }
    }

    #[test]
    fn everyone_else_is_refused() {
        let q3 = UnitId::parse("quan-3").expect("id");
        let others = [
            Principal::city("p", Role::Operator),
            Principal::city("p", Role::NationalSync),
            Principal::data_owner("p", "quan-3"),
        ];
        for other in others {
            assert!(matches!(
                require_reader(&other, &q3),
                Err(EvidenceError::Refused(Refusal::PermissionDenied(_)))
            ));
        }
    }
}
