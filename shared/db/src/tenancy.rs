//! Which tenant (province of a deployment that holds several) a database belongs to: the one
//! row of `platform_tenant`, written by the first service of a tenant that starts on it. A
//! database no tenant has claimed, or one not migrated that far yet, belongs to none.

use sqlx::PgPool;

/// The tenant `pool`'s database belongs to, if any.
pub async fn owner(pool: &PgPool) -> Result<Option<String>, sqlx::Error> {
    let migrated: bool = sqlx::query_scalar("SELECT to_regclass('platform_tenant') IS NOT NULL")
        .fetch_one(pool)
        .await?;
    if !migrated {
        return Ok(None);
    }
    sqlx::query_scalar("SELECT tenant FROM platform_tenant")
        .fetch_optional(pool)
        .await
}

/// Claims the database for `tenant` when no tenant has yet (the table must exist); a claim of
/// another tenant is left as it is, for the caller to find with [`owner`].
pub async fn claim(pool: &PgPool, tenant: &str) -> Result<(), sqlx::Error> {
    sqlx::query("INSERT INTO platform_tenant (tenant) VALUES ($1) ON CONFLICT DO NOTHING")
        .bind(tenant)
        .execute(pool)
        .await
        .map(drop)
}

/// Why `owner`'s database is not for a caller of `tenant` (none: one province), if it is not.
pub fn mismatch(owner: Option<&str>, tenant: Option<&str>) -> Option<Mismatch> {
    match (owner, tenant) {
        (Some(owner), Some(tenant)) if owner != tenant => Some(Mismatch::OtherTenant {
            owner: owner.to_owned(),
            tenant: tenant.to_owned(),
        }),
        (Some(owner), None) => Some(Mismatch::TenantNeeded {
            owner: owner.to_owned(),
        }),
        _ => None,
    }
}

/// A database that is not the caller's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Mismatch {
    /// It belongs to `owner`; the caller serves `tenant`.
    OtherTenant {
        /// The tenant the database belongs to.
        owner: String,
        /// The caller's tenant.
        tenant: String,
    },
    /// It belongs to `owner`; the caller serves no tenant.
    TenantNeeded {
        /// The tenant the database belongs to.
        owner: String,
    },
}
