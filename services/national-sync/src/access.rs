//! Who may do what in national sync: a data owner writes and reads its own department's parts
//! only; operators, verifiers and the national-sync role read every department's; operators and
//! verifiers dispute values; operators and the national-sync role plan and start syncs.

use dti_auth::{Principal, Role, Scope};
use dti_domain::UnitId;

use crate::national_set::NationalSet;
use crate::NationalSyncError;

/// Who may read owners' parts, completeness and the push log.
pub const READERS: &[Role] = &[
    Role::Operator,
    Role::Verifier,
    Role::NationalSync,
    Role::DataOwner,
];

/// Who may dispute an owner's value.
pub const DISPUTERS: &[Role] = &[Role::Operator, Role::Verifier];

/// Who may plan and start a sync.
pub const SYNC_RUNNERS: &[Role] = &[Role::Operator, Role::NationalSync];

/// Who may read a sync run.
pub const RUN_READERS: &[Role] = &[Role::Operator, Role::Verifier, Role::NationalSync];

/// Refuses unless `caller` has one of `roles`.
pub fn require_role(caller: &Principal, roles: &[Role]) -> Result<(), NationalSyncError> {
    caller
        .require_role(roles)
        .map_err(|status| NationalSyncError::permission_denied(status.message().to_owned()))
}

/// The department of a data owner's token.
pub fn own_department(caller: &Principal) -> Result<UnitId, NationalSyncError> {
    match &caller.scope {
        Scope::Department { department_id } => UnitId::parse(department_id.as_str())
            .map_err(|_| denied(dti_i18n::Message::new("sync-token-department"))),
        _ => Err(denied(dti_i18n::Message::new("sync-data-owner-only"))),
    }
}

/// The department a data owner writes for: the caller must be a data owner whose department
/// owns an item of `set`.
pub fn require_owner_of(
    caller: &Principal,
    set: &NationalSet,
) -> Result<UnitId, NationalSyncError> {
    require_role(caller, &[Role::DataOwner])?;
    let department = own_department(caller)?;
    if !set.is_owner(&department) {
        return Err(denied(
            dti_i18n::Message::new("sync-owns-nothing")
                .arg("department", department.to_string())
                .arg("framework", set.framework_id().to_string()),
        ));
    }
    Ok(department)
}

/// The department a read is about. A data owner reads its own (naming another is
/// PermissionDenied); a city-wide reader names one, or none when `optional`.
pub fn department_to_read(
    caller: &Principal,
    set: &NationalSet,
    requested: &str,
    optional: bool,
) -> Result<Option<UnitId>, NationalSyncError> {
    let requested = requested.trim();
    if let Scope::Department { department_id } = &caller.scope {
        if !requested.is_empty() && requested != department_id {
            return Err(denied(
                dti_i18n::Message::new("sync-own-department-only")
                    .arg("department", department_id.as_str())
                    .arg("requested", requested),
            ));
        }
        return own_department(caller).map(Some);
    }
    if requested.is_empty() {
        return match optional {
            true => Ok(None),
            false => Err(NationalSyncError::invalid_field(
                "department_id",
                dti_i18n::Message::new("sync-department-needed"),
            )),
        };
    }
    let department = UnitId::parse(requested)
        .map_err(|e| NationalSyncError::invalid_field("department_id", e.message()))?;
    if !set.is_owner(&department) {
        return Err(NationalSyncError::invalid_field(
            "department_id",
            dti_i18n::Message::new("sync-department-owns-nothing")
                .arg("department", department.to_string())
                .arg("framework", set.framework_id().to_string()),
        ));
    }
    Ok(Some(department))
}

fn denied(message: impl Into<String>) -> NationalSyncError {
    NationalSyncError::permission_denied(message.into())
}

#[cfg(test)]
mod tests {
    use super::*;
    use dti_service_kit::service_error::Refusal;

    fn caller(role: Role, scope: Scope) -> Principal {
        Principal {
            subject: "test".into(),
            role,
            scope,
        }
    }

    fn owner(department: &str) -> Principal {
        caller(
            Role::DataOwner,
            Scope::Department {
                department_id: department.into(),
            },
        )
    }

    #[test]
    fn roles_outside_the_list_are_denied() {
        let verifier = caller(Role::Verifier, Scope::City);
        assert!(require_role(&verifier, READERS).is_ok());
        assert!(matches!(
            require_role(&verifier, SYNC_RUNNERS),
            Err(NationalSyncError::Refused(Refusal::PermissionDenied(_)))
        ));
    }

    #[test]
    fn only_a_data_owner_has_an_own_department() {
        assert_eq!(
            own_department(&owner("so-tai-chinh"))
                .expect("owner")
                .as_str(),
            "so-tai-chinh"
        );
        let operator = caller(Role::Operator, Scope::City);
        assert!(matches!(
            own_department(&operator),
            Err(NationalSyncError::Refused(Refusal::PermissionDenied(_)))
        ));
    }
}
