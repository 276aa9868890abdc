//! The JWT claims DTI tokens carry, and their conversion to a [`Principal`].

use serde::{Deserialize, Serialize};

use crate::{AuthError, Principal, Role, Scope};

/// Claims of a DTI access token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claims {
    /// Subject: stable user or system id.
    pub sub: String,
    /// Role of the subject.
    pub role: Role,
    /// Unit the subject acts for; required for, and only for, `unit_submitter`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unit_id: Option<String>,
    /// Department the subject owns data of; required for, and only for, `data_owner`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub department_id: Option<String>,
    /// Issuer.
    pub iss: String,
    /// Audience.
    pub aud: String,
    /// Expiry, seconds since the Unix epoch.
    pub exp: u64,
    /// Issue time, seconds since the Unix epoch.
    pub iat: u64,
}

/// The DTI claims of a received token, read leniently so that a missing claim is reported by
/// name; `exp`, `iss` and `aud` are checked by `jsonwebtoken` itself.
#[derive(Debug, Deserialize)]
pub(crate) struct ReceivedClaims {
    sub: Option<String>,
    role: Option<Role>,
    unit_id: Option<String>,
    department_id: Option<String>,
}

impl ReceivedClaims {
    /// The principal these claims describe, checking that the scope claims fit the role.
    pub(crate) fn into_principal(self) -> Result<Principal, AuthError> {
        let missing = |claim: &str| AuthError::MissingClaim(claim.to_owned());
        let subject = self
            .sub
            .filter(|sub| !sub.trim().is_empty())
            .ok_or_else(|| missing("sub"))?;
        let role = self.role.ok_or_else(|| missing("role"))?;
        let scope = scope_of(role, self.unit_id, self.department_id)?;
        Ok(Principal {
            subject,
            role,
            scope,
        })
    }
}

/// The scope of `role` given its scope claims, which must fit the role.
fn scope_of(
    role: Role,
    unit_id: Option<String>,
    department_id: Option<String>,
) -> Result<Scope, AuthError> {
    let scope = match (role, unit_id, department_id) {
        (Role::UnitSubmitter, Some(unit_id), None) if !unit_id.is_empty() => {
            Scope::Unit { unit_id }
        }
        (Role::UnitSubmitter, None, _) => return Err(AuthError::MissingClaim("unit_id".into())),
        (Role::DataOwner, None, Some(department_id)) if !department_id.is_empty() => {
            Scope::Department { department_id }
        }
        (Role::DataOwner, _, None) => return Err(AuthError::MissingClaim("department_id".into())),
        (role, None, None) if !matches!(role, Role::UnitSubmitter | Role::DataOwner) => Scope::City,
        (role, _, _) => {
            return Err(AuthError::InvalidClaims(format!(
                "role {role} does not take this combination of unit_id and department_id"
            )))
        }
    };
    Ok(scope)
}

impl Claims {
    /// The scope claims `(unit_id, department_id)` of `principal`.
    pub(crate) fn scope_claims(principal: &Principal) -> (Option<String>, Option<String>) {
        match &principal.scope {
            Scope::Unit { unit_id } => (Some(unit_id.clone()), None),
            Scope::Department { department_id } => (None, Some(department_id.clone())),
            Scope::City => (None, None),
        }
    }
}
