//! The JWT claims DTI tokens carry, the mapping of a provider's claims (role, unit, department;
//! names differ between identity providers) onto them, and their conversion to a [`Principal`].

use std::collections::BTreeMap;

use dti_config::AuthConfig;
use serde::{Deserialize, Serialize};
use serde_json::Value;

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
    /// Tenant (province) the token was issued for; absent in a deployment of one province.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tenant: Option<String>,
    /// Issuer.
    pub iss: String,
    /// Audience.
    pub aud: String,
    /// Expiry, seconds since the Unix epoch.
    pub exp: u64,
    /// Issue time, seconds since the Unix epoch.
    pub iat: u64,
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

/// Where a received token carries the role, unit and department, and how provider role names
/// map to DTI roles (`auth.role_claim`, `auth.unit_claim`, `auth.department_claim`,
/// `auth.role_map`). The default reads DTI's own claims `role`, `unit_id`, `department_id`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ClaimMapping {
    role_claim: String,
    unit_claim: String,
    department_claim: String,
    role_map: BTreeMap<String, String>,
    /// The claim that must hold the tenant, and the tenant, when the service serves one.
    tenant: Option<(String, String)>,
}

impl Default for ClaimMapping {
    fn default() -> Self {
        Self::from_config(&AuthConfig::default())
    }
}

impl ClaimMapping {
    /// The mapping configured in `config`.
    pub(crate) fn from_config(config: &AuthConfig) -> Self {
        Self {
            role_claim: config.role_claim.clone(),
            unit_claim: config.unit_claim.clone(),
            department_claim: config.department_claim.clone(),
            role_map: config.role_map.clone(),
            tenant: config
                .tenant
                .clone()
                .map(|tenant| (config.tenant_claim.clone(), tenant)),
        }
    }

    /// The principal the (already verified) `claims` describe, checking that the scope claims
    /// fit the role; a missing or unusable claim is named as configured.
    pub(crate) fn principal(&self, claims: &Value) -> Result<Principal, AuthError> {
        self.check_tenant(claims)?;
        let subject = claims
            .get("sub")
            .and_then(Value::as_str)
            .filter(|sub| !sub.trim().is_empty())
            .ok_or_else(|| AuthError::MissingClaim("sub".into()))?
            .to_owned();
        let role = self.role(claims)?;
        let unit_id = scope_claim(claims, &self.unit_claim)?;
        let department_id = scope_claim(claims, &self.department_claim)?;
        let scope = self.scope_of(role, unit_id, department_id)?;
        Ok(Principal {
            subject,
            role,
            scope,
        })
    }

    /// When the service serves a tenant, the token must name exactly it: a token of another
    /// tenant, or of none, is refused.
    fn check_tenant(&self, claims: &Value) -> Result<(), AuthError> {
        let Some((claim, expected)) = &self.tenant else {
            return Ok(());
        };
        match claim_at(claims, claim) {
            Some(Value::String(tenant)) if tenant == expected => Ok(()),
            Some(Value::String(tenant)) => Err(AuthError::WrongTenant {
                token: tenant.clone(),
                served: expected.clone(),
            }),
            None | Some(Value::Null) => Err(AuthError::MissingClaim(claim.clone())),
            Some(_) => Err(AuthError::InvalidClaims(format!(
                "`{claim}` must be a string"
            ))),
        }
    }

    /// The DTI role in the role claim: its one string, or the first value of its list that is
    /// (or the role map turns into) a DTI role.
    fn role(&self, claims: &Value) -> Result<Role, AuthError> {
        let claim = &self.role_claim;
        let value =
            claim_at(claims, claim).ok_or_else(|| AuthError::MissingClaim(claim.clone()))?;
        let to_role = |name: &str| {
            let name = self.role_map.get(name).map_or(name, String::as_str);
            Role::from_name(name)
        };
        match value {
            Value::String(name) => to_role(name).ok_or_else(|| {
                AuthError::InvalidClaims(format!("`{claim}` holds {name:?}, which is no DTI role"))
            }),
            Value::Array(names) => names
                .iter()
                .filter_map(Value::as_str)
                .find_map(to_role)
                .ok_or_else(|| AuthError::InvalidClaims(format!("`{claim}` names no DTI role"))),
            _ => Err(AuthError::InvalidClaims(format!(
                "`{claim}` must be a string or a list of strings"
            ))),
        }
    }

    /// The scope of `role` given its scope claims, which must fit the role.
    fn scope_of(
        &self,
        role: Role,
        unit_id: Option<String>,
        department_id: Option<String>,
    ) -> Result<Scope, AuthError> {
        let scope = match (role, unit_id, department_id) {
            (Role::UnitSubmitter, Some(unit_id), None) if !unit_id.is_empty() => {
                Scope::Unit { unit_id }
            }
            (Role::UnitSubmitter, None, _) => {
                return Err(AuthError::MissingClaim(self.unit_claim.clone()))
            }
            (Role::DataOwner, None, Some(department_id)) if !department_id.is_empty() => {
                Scope::Department { department_id }
            }
            (Role::DataOwner, _, None) => {
                return Err(AuthError::MissingClaim(self.department_claim.clone()))
            }
            (role, None, None) if !matches!(role, Role::UnitSubmitter | Role::DataOwner) => {
                Scope::City
            }
            (role, _, _) => {
                return Err(AuthError::InvalidClaims(format!(
                    "role {role} does not take this combination of `{}` and `{}`",
                    self.unit_claim, self.department_claim
                )))
            }
        };
        Ok(scope)
    }
}

/// The claim named `path`: a top-level claim of that exact name (names may hold dots, e.g.
/// `https://example.org/unit`), else the dotted path into nested objects.
fn claim_at<'a>(claims: &'a Value, path: &str) -> Option<&'a Value> {
    if let Some(value) = claims.get(path) {
        return Some(value);
    }
    path.split('.')
        .try_fold(claims, |value, segment| value.get(segment))
}

/// A unit or department claim: absent or null, one string, or a list of exactly one string
/// (providers' multi-valued attribute mappers).
fn scope_claim(claims: &Value, path: &str) -> Result<Option<String>, AuthError> {
    match claim_at(claims, path) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(id)) => Ok(Some(id.clone())),
        Some(Value::Array(ids)) => match ids.as_slice() {
            [] => Ok(None),
            [Value::String(id)] => Ok(Some(id.clone())),
            _ => Err(AuthError::InvalidClaims(format!(
                "`{path}` must hold one id, got {} values",
                ids.len()
            ))),
        },
        Some(_) => Err(AuthError::InvalidClaims(format!(
            "`{path}` must be a string"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn keycloak_mapping() -> ClaimMapping {
        let config = AuthConfig {
            role_claim: "realm_access.roles".into(),
            unit_claim: "dti_unit".into(),
            role_map: BTreeMap::from([("dti-submitter".to_owned(), "unit_submitter".to_owned())]),
            ..AuthConfig::default()
        };
        ClaimMapping::from_config(&config)
    }

    #[test]
    fn the_first_list_value_that_is_a_dti_role_wins() {
        let claims = json!({
            "sub": "kc-user-1",
            "realm_access": {"roles": ["offline_access", "default-roles-hcmc", "dti-submitter", "verifier"]},
            "dti_unit": ["quan-1"],
        });
        let principal = keycloak_mapping().principal(&claims).expect("principal");
        assert_eq!(principal.role, Role::UnitSubmitter);
        assert_eq!(
            principal.scope,
            Scope::Unit {
                unit_id: "quan-1".into()
            }
        );
    }

    #[test]
    fn missing_or_unusable_claims_are_named_as_configured() {
        let mapping = keycloak_mapping();
        let no_role = json!({"sub": "u", "realm_access": {"roles": ["offline_access"]}});
        assert_eq!(
            mapping.principal(&no_role),
            Err(AuthError::InvalidClaims(
                "`realm_access.roles` names no DTI role".into()
            ))
        );
        let no_unit = json!({"sub": "u", "realm_access": {"roles": ["dti-submitter"]}});
        assert_eq!(
            mapping.principal(&no_unit),
            Err(AuthError::MissingClaim("dti_unit".into()))
        );
        let no_realm = json!({"sub": "u"});
        assert_eq!(
            mapping.principal(&no_realm),
            Err(AuthError::MissingClaim("realm_access.roles".into()))
        );
        let two_units = json!({"sub": "u", "realm_access": {"roles": ["dti-submitter"]}, "dti_unit": ["a", "b"]});
        assert!(matches!(
            mapping.principal(&two_units),
            Err(AuthError::InvalidClaims(_))
        ));
    }

    #[test]
    fn a_claim_name_with_dots_is_read_whole_first() {
        let config = AuthConfig {
            role_claim: "https://dti.example/role".into(),
            ..AuthConfig::default()
        };
        let claims = json!({"sub": "u", "https://dti.example/role": "operator"});
        let principal = ClaimMapping::from_config(&config)
            .principal(&claims)
            .expect("principal");
        assert_eq!(principal.role, Role::Operator);
        assert_eq!(principal.scope, Scope::City);
    }
}
