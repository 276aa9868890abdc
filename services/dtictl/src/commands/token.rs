//! `dtictl token`: a signed development token for a role, with the HS256 secret the services
//! are configured with. Operators use real identity providers in production (RS256); this is
//! for local stacks, demos and tests.

use std::time::Duration;

use dti_auth::{Principal, Role, Scope};

use crate::remote::minter;
use crate::{tr, Failure};

/// Who the token is for.
#[derive(Debug, clap::Args)]
pub struct TokenArgs {
    /// Role: unit_submitter, verifier, approver, operator, data_owner, national_sync, public_reader.
    #[arg(long)]
    pub role: String,
    /// Unit the submitter acts for (unit_submitter only).
    #[arg(long)]
    pub unit: Option<String>,
    /// Department whose data the owner supplies (data_owner only).
    #[arg(long)]
    pub department: Option<String>,
    /// Subject (user id); defaults to `dev-<role>`.
    #[arg(long)]
    pub subject: Option<String>,
    /// Lifetime in seconds.
    #[arg(long, default_value_t = 3600)]
    pub ttl_secs: u64,
    /// The services' HS256 secret (at least 32 bytes).
    #[arg(long, env = "DTI_AUTH_HS256_SECRET", hide_env_values = true)]
    pub hs256_secret: String,
    /// Issuer the services expect.
    #[arg(long, default_value = "dti-platform")]
    pub issuer: String,
    /// Audience the services expect.
    #[arg(long, default_value = "dti")]
    pub audience: String,
    /// Tenant the services serve (`auth.tenant`), in a deployment of several provinces.
    #[arg(long, env = "DTI_TENANT")]
    pub tenant: Option<String>,
}

/// Parses a role name as written in tokens.
pub fn parse_role(name: &str) -> Result<Role, Failure> {
    serde_json::from_value(serde_json::Value::from(name))
        .map_err(|_| Failure::InvalidInput(vec![tr!("dtictl-token-role", role = name)]))
}

/// The principal the arguments describe, checking the scope fits the role.
pub fn principal(args: &TokenArgs) -> Result<Principal, Failure> {
    let role = parse_role(&args.role)?;
    let scope = match (role, &args.unit, &args.department) {
        (Role::UnitSubmitter, Some(unit), None) => Scope::Unit {
            unit_id: unit.clone(),
        },
        (Role::DataOwner, None, Some(department)) => Scope::Department {
            department_id: department.clone(),
        },
        (Role::UnitSubmitter, _, _) => {
            return Err(Failure::InvalidInput(vec![tr!("dtictl-token-unit")]))
        }
        (Role::DataOwner, _, _) => {
            return Err(Failure::InvalidInput(vec![tr!("dtictl-token-department")]))
        }
        (_, None, None) => Scope::City,
        (role, _, _) => {
            return Err(Failure::InvalidInput(vec![tr!(
                "dtictl-token-city",
                role = role.to_string()
            )]))
        }
    };
    Ok(Principal {
        subject: args
            .subject
            .clone()
            .unwrap_or_else(|| format!("dev-{role}")),
        role,
        scope,
    })
}

/// Prints a signed token.
pub fn run(args: &TokenArgs) -> Result<(), Failure> {
    let principal = principal(args)?;
    let token = minter(
        &args.hs256_secret,
        &args.issuer,
        &args.audience,
        args.tenant.as_deref(),
    )?
    .mint(&principal, Duration::from_secs(args.ttl_secs))
    .map_err(|error| Failure::Unexpected(error.into()))?;
    println!("{token}");
    Ok(())
}
