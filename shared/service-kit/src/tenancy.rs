//! Keeping a service to its tenant (`auth.tenant`, a province of a deployment that holds
//! several): its event subjects and Redis keys must carry the tenant (checked in the NATS
//! prefix and the Redis key prefix before anything connects), and its database belongs to one
//! tenant (the `platform_tenant` row, written by the first service of a tenant that starts on
//! it). Tokens are kept to the tenant by `dti-auth`.

use dti_config::ServiceConfig;
use dti_db::tenancy::Mismatch;
use dti_db::PgPool;

use crate::KitError;

/// Whether `tenant` is one of the words of `prefix`: the parts between `_`, `:` and `.`, or
/// (for a tenant without `-`) between `-` within such a part.
fn carries(prefix: &str, tenant: &str) -> bool {
    prefix
        .split(['_', ':', '.'])
        .any(|word| word == tenant || word.split('-').any(|part| part == tenant))
}

/// Refuses to start a service of a tenant whose NATS prefix (with `nats`) or Redis key prefix
/// (with `redis`) does not carry the tenant, naming the setting.
pub(crate) fn check_prefixes<S>(
    config: &ServiceConfig<S>,
    nats: bool,
    redis: bool,
) -> Result<(), KitError> {
    let Some(tenant) = config.auth.tenant.as_deref() else {
        return Ok(());
    };
    let settings = [
        (nats, "nats.prefix", config.nats.prefix.as_str(), "dti_"),
        (
            redis,
            "redis.key_prefix",
            config.redis.key_prefix.as_str(),
            "dti:",
        ),
    ];
    for (used, field, prefix, example) in settings {
        if used && !carries(prefix, tenant) {
            return Err(KitError::Tenancy {
                field,
                problem: format!(
                    "{prefix:?} does not carry the tenant `{tenant}` of auth.tenant \
                     (e.g. {example}{tenant}): every tenant's subjects and keys are its own"
                ),
            });
        }
    }
    Ok(())
}

/// Makes sure the database belongs to `tenant`: claims it when no tenant has yet, refuses to
/// start when it belongs to another tenant, or (a service of no tenant) to any tenant.
pub(crate) async fn claim_database(pool: &PgPool, tenant: Option<&str>) -> Result<(), KitError> {
    if let Some(tenant) = tenant {
        dti_db::tenancy::claim(pool, tenant)
            .await
            .map_err(|error| tenancy_database(error.to_string()))?;
    }
    let owner = dti_db::tenancy::owner(pool)
        .await
        .map_err(|error| tenancy_database(error.to_string()))?;
    match dti_db::tenancy::mismatch(owner.as_deref(), tenant) {
        Some(Mismatch::OtherTenant { owner, tenant }) => Err(tenancy_database(format!(
            "this database belongs to tenant `{owner}`, not to `{tenant}` of auth.tenant"
        ))),
        Some(Mismatch::TenantNeeded { owner }) => Err(tenancy_database(format!(
            "this database belongs to tenant `{owner}`: set auth.tenant = \"{owner}\""
        ))),
        None => Ok(()),
    }
}

fn tenancy_database(problem: String) -> KitError {
    KitError::Tenancy {
        field: "database.url",
        problem,
    }
}

#[cfg(test)]
mod tests {
    use super::carries;

    #[test]
    fn a_prefix_carries_the_tenant_as_one_of_its_words() {
        assert!(carries("dti_hcm", "hcm"));
        assert!(carries("dti:hcm:", "hcm"));
        assert!(carries("dti_local_ha-noi", "ha-noi"));
        assert!(carries("hcm", "hcm"));
        assert!(carries("dti-hcm", "hcm"));
        assert!(!carries("dti_hcmc", "hcm"));
        assert!(!carries("dti", "hcm"));
        assert!(!carries("dti_local", "hcm"));
    }
}
