//! A request about a round finds a framework an operator stored after the process loaded its
//! catalogue, before `framework.added.v1` or the recheck has brought it
//! (`FrameworkCache::scored`): another replica stored it, and the round is opened with it at
//! once. A framework that is not stored is an invalid field naming the frameworks known.

use dti_domain::{FrameworkCatalog, FrameworkId};
use dti_service_kit::frameworks::FrameworkCache;
use dti_service_kit::service_error::{Refusal, StoreFailure};
use dti_testkit::TestDatabase;

const STORED: &str = "hcm-2031-district";

#[derive(Debug, thiserror::Error)]
enum RequestError {
    #[error(transparent)]
    Refused(#[from] Refusal),
    #[error(transparent)]
    Store(#[from] StoreFailure),
}
dti_service_kit::service_error!(RequestError);

/// Stores the district set under `id`, as `RegistryService.AddFramework` does.
async fn store(db: &TestDatabase, id: &str) -> anyhow::Result<()> {
    let document = include_str!("../../domain/frameworks/hcm-2023-district.toml").replacen(
        "id = \"hcm-2023-district\"",
        &format!("id = \"{id}\""),
        1,
    );
    let catalog = FrameworkCatalog::builtin()?;
    let framework = catalog.parse(id, &document)?;
    sqlx::query(
        "INSERT INTO stored_frameworks (framework, content_hash, document, added_by) \
         VALUES ($1, $2, $3, 'operator')",
    )
    .bind(id)
    .bind(dti_domain::framework::content_hash(&framework))
    .bind(&document)
    .execute(db.pool())
    .await?;
    Ok(())
}

#[tokio::test]
async fn a_framework_stored_since_the_load_is_found_by_a_request() -> anyhow::Result<()> {
    let db = TestDatabase::create().await?;
    let cache = FrameworkCache::load(db.pool().clone(), FrameworkCatalog::builtin()?).await?;
    let id = FrameworkId::parse(STORED)?;
    assert!(cache.catalog().get(&id).is_none(), "not stored yet");

    match cache.scored::<RequestError>("round.framework", &id).await {
        Err(RequestError::Refused(Refusal::Invalid(invalid))) => {
            let [violation] = invalid.violations.as_slice() else {
                panic!("one violation: {invalid:?}");
            };
            assert_eq!(violation.field, "round.framework");
            assert!(
                violation.description.contains(STORED)
                    && violation.description.contains("hcm-2023-district"),
                "names the framework and those known: {}",
                violation.description
            );
        }
        other => panic!("an unknown framework is an invalid field, got {other:?}"),
    }

    store(&db, STORED).await?;
    let framework = cache
        .scored::<RequestError>("round.framework", &id)
        .await
        .map_err(|error| anyhow::anyhow!("{error:?}"))?;
    assert_eq!(framework.id, id);
    assert!(cache.loaded() > 0, "the stored framework was loaded");
    assert!(
        cache.catalog().get(&id).is_some(),
        "and is in the catalogue"
    );
    Ok(())
}
