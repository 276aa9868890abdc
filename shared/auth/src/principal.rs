//! Authenticated callers, their roles and scopes, and authorization checks.

use std::fmt;

use dti_i18n::Message;
use serde::{Deserialize, Serialize};
use tonic::Status;

/// The caller may not read or touch what it asked for; the message says why, in the request's
/// language ([`dti_i18n::current_lang`]).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct AccessDenied(pub String);

/// What a caller is allowed to do in the assessment workflow.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Fills in and submits the self-assessment of one unit.
    UnitSubmitter,
    /// Checks submitted values and evidence.
    Verifier,
    /// Approves verified results.
    Approver,
    /// Runs rounds: opens, closes, reopens.
    Operator,
    /// Supplies provincial-index data owned by one department.
    DataOwner,
    /// The national synchronisation job.
    NationalSync,
    /// Reads published results and nothing else (the public results site's server-side
    /// reader): every check that names roles refuses it; only reads open to every
    /// authenticated caller (published revisions, a round's cohort) answer it.
    PublicReader,
}

impl Role {
    /// Every role.
    pub const ALL: [Role; 7] = [
        Self::UnitSubmitter,
        Self::Verifier,
        Self::Approver,
        Self::Operator,
        Self::DataOwner,
        Self::NationalSync,
        Self::PublicReader,
    ];

    /// The role named `name` as written in tokens, e.g. `unit_submitter`.
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|role| role.as_str() == name)
    }

    /// The role's name as written in tokens, e.g. `unit_submitter`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::UnitSubmitter => "unit_submitter",
            Self::Verifier => "verifier",
            Self::Approver => "approver",
            Self::Operator => "operator",
            Self::DataOwner => "data_owner",
            Self::NationalSync => "national_sync",
            Self::PublicReader => "public_reader",
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The part of the city a principal acts for.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Scope {
    /// One unit (unit submitters).
    Unit {
        /// Unit id from the unit registry.
        unit_id: String,
    },
    /// One department (data owners).
    Department {
        /// Department id from the unit registry.
        department_id: String,
    },
    /// The whole city (every other role).
    City,
}

/// An authenticated caller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    /// Stable user or system id (`sub`).
    pub subject: String,
    /// The caller's role.
    pub role: Role,
    /// What the role applies to.
    pub scope: Scope,
}

impl Principal {
    /// A caller with a city-wide `role` (operator, verifier, approver, national sync, public
    /// reader, or a system task acting as one).
    pub fn city(subject: impl Into<String>, role: Role) -> Self {
        Self {
            subject: subject.into(),
            role,
            scope: Scope::City,
        }
    }

    /// The unit submitter of `unit_id`.
    pub fn unit_submitter(subject: impl Into<String>, unit_id: impl Into<String>) -> Self {
        Self {
            subject: subject.into(),
            role: Role::UnitSubmitter,
            scope: Scope::Unit {
                unit_id: unit_id.into(),
            },
        }
    }

    /// The data owner of `department_id`.
    pub fn data_owner(subject: impl Into<String>, department_id: impl Into<String>) -> Self {
        Self {
            subject: subject.into(),
            role: Role::DataOwner,
            scope: Scope::Department {
                department_id: department_id.into(),
            },
        }
    }

    /// Succeeds when the caller has one of `roles`.
    pub fn require_role(&self, roles: &[Role]) -> Result<(), Status> {
        if roles.contains(&self.role) {
            return Ok(());
        }
        let allowed: Vec<_> = roles.iter().map(|role| role.as_str()).collect();
        let refusal = Message::new("auth-role-refused")
            .arg("role", self.role.to_string())
            .arg("allowed", allowed.join(", "));
        Err(Status::permission_denied(refusal.localized()))
    }

    /// Succeeds when the caller is the unit submitter of `unit_id`.
    pub fn require_unit(&self, unit_id: &str) -> Result<(), Status> {
        match &self.scope {
            Scope::Unit { unit_id: own } if self.role == Role::UnitSubmitter && own == unit_id => {
                Ok(())
            }
            _ => Err(Status::permission_denied(
                Message::new("auth-not-unit-submitter")
                    .arg("unit", unit_id)
                    .localized(),
            )),
        }
    }

    /// Succeeds when the caller is the data owner of `department_id`.
    pub fn require_department(&self, department_id: &str) -> Result<(), Status> {
        match &self.scope {
            Scope::Department { department_id: own }
                if self.role == Role::DataOwner && own == department_id =>
            {
                Ok(())
            }
            _ => Err(Status::permission_denied(
                Message::new("auth-not-data-owner")
                    .arg("department", department_id)
                    .localized(),
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn submitter(unit: &str) -> Principal {
        Principal::unit_submitter("u1", unit)
    }

    #[test]
    fn role_names_agree_with_the_configurations_list() {
        let names: Vec<_> = Role::ALL.iter().map(|role| role.as_str()).collect();
        assert_eq!(names, dti_config::DTI_ROLE_NAMES);
        for role in Role::ALL {
            assert_eq!(Role::from_name(role.as_str()), Some(role));
        }
        assert_eq!(Role::from_name("admin"), None);
    }

    #[test]
    fn unit_submitter_may_act_only_for_its_unit() {
        assert!(submitter("quan-1").require_unit("quan-1").is_ok());
        let denied = submitter("quan-1").require_unit("quan-3").unwrap_err();
        assert_eq!(denied.code(), tonic::Code::PermissionDenied);
    }

    #[test]
    fn city_wide_roles_have_no_unit_or_department() {
        let operator = Principal::city("o", Role::Operator);
        assert!(operator.require_role(&[Role::Operator]).is_ok());
        assert!(operator.require_unit("quan-1").is_err());
        assert!(operator.require_department("so-tttt").is_err());
        let denied = operator
            .require_role(&[Role::Verifier, Role::Approver])
            .unwrap_err();
        assert_eq!(denied.code(), tonic::Code::PermissionDenied);
        assert!(
            denied.message().contains("verifier, approver"),
            "{}",
            denied.message()
        );
    }

    #[test]
    fn data_owner_is_scoped_to_its_department() {
        let owner = Principal::data_owner("d", "so-tttt");
        assert!(owner.require_department("so-tttt").is_ok());
        assert!(owner.require_department("so-tc").is_err());
    }
}
