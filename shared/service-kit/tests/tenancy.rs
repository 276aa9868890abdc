//! A service of a tenant (`auth.tenant`) keeps to it, against real PostgreSQL, NATS and Redis:
//! its NATS and Redis prefixes must carry the tenant (refused before anything connects, naming
//! the setting), the first such service claims its database for the tenant, and a service of
//! another tenant, or of none, refuses to start on that database afterwards.

use dti_config::{NoServiceSettings, ServiceConfig};
use dti_service_kit::{KitError, ServiceKit};
use dti_testkit::TestBackends;

/// The test's configuration of a service of `tenant` (none: a deployment of one province),
/// its prefixes carrying the tenant.
fn config_of(backends: &TestBackends, tenant: Option<&str>) -> ServiceConfig {
    let mut config = backends.service_config(NoServiceSettings::default());
    if let Some(tenant) = tenant {
        config.auth.tenant = Some(tenant.to_owned());
        config.nats.prefix = format!("{}_{tenant}", backends.nats_prefix);
        config.redis.key_prefix = format!("{}{tenant}:", backends.redis_prefix);
    }
    config
}

/// Builds a kit with PostgreSQL, NATS and Redis on `config`.
async fn start(config: &ServiceConfig) -> Result<ServiceKit, KitError> {
    ServiceKit::builder("tenancy-test", config)
        .with_postgres()
        .with_nats()
        .with_redis()
        .build()
        .await
}

/// The tenant the test's database belongs to, if any.
async fn owner(backends: &TestBackends) -> anyhow::Result<Option<String>> {
    Ok(sqlx::query_scalar("SELECT tenant FROM platform_tenant")
        .fetch_optional(backends.db.pool())
        .await?)
}

fn refusal(result: Result<ServiceKit, KitError>) -> (&'static str, String) {
    match result {
        Err(KitError::Tenancy { field, problem }) => (field, problem),
        Err(other) => panic!("expected a tenancy refusal, got {other}"),
        Ok(_) => panic!("expected a tenancy refusal, the kit started"),
    }
}

#[tokio::test]
async fn a_prefix_that_does_not_carry_the_tenant_is_refused_naming_the_setting(
) -> anyhow::Result<()> {
    let backends = TestBackends::create().await?;
    let mut config = config_of(&backends, Some("hcm"));
    config.nats.prefix = backends.nats_prefix.clone();
    let (field, problem) = refusal(start(&config).await);
    assert_eq!(field, "nats.prefix");
    assert!(problem.contains("`hcm`"), "{problem}");

    let mut config = config_of(&backends, Some("hcm"));
    config.redis.key_prefix = format!("{}hcmc:", backends.redis_prefix);
    let (field, problem) = refusal(start(&config).await);
    assert_eq!(field, "redis.key_prefix");
    assert!(problem.contains("`hcm`"), "{problem}");
    assert_eq!(owner(&backends).await?, None, "refused before the database");
    Ok(())
}

#[tokio::test]
async fn a_database_belongs_to_the_first_tenant_that_starts_on_it() -> anyhow::Result<()> {
    let backends = TestBackends::create().await?;
    let hcm = config_of(&backends, Some("hcm"));
    start(&hcm).await?;
    assert_eq!(owner(&backends).await?.as_deref(), Some("hcm"));
    // Starting again (a restart, another replica) is fine.
    start(&hcm).await?;

    let (field, problem) = refusal(start(&config_of(&backends, Some("hn"))).await);
    assert_eq!(field, "database.url");
    assert!(
        problem.contains("belongs to tenant `hcm`") && problem.contains("`hn`"),
        "{problem}"
    );
    let (field, problem) = refusal(start(&config_of(&backends, None)).await);
    assert_eq!(field, "database.url");
    assert!(problem.contains("set auth.tenant = \"hcm\""), "{problem}");
    assert_eq!(owner(&backends).await?.as_deref(), Some("hcm"), "unchanged");
    Ok(())
}

#[tokio::test]
async fn a_deployment_of_one_province_needs_no_tenant() -> anyhow::Result<()> {
    let backends = TestBackends::create().await?;
    start(&config_of(&backends, None)).await?;
    assert_eq!(
        owner(&backends).await?,
        None,
        "the database is left unclaimed"
    );
    Ok(())
}
