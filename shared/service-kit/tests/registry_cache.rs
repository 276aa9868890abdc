//! The unit registry every service reads (`dti_service_kit::registry`): the seed until a
//! revision is stored, then the newest revision — reloaded when `registry.changed.v1` arrives
//! (long before the 30 s recheck), and by a recheck without it; a stored revision this build
//! cannot read is an error and leaves the registry in force.

use std::time::Duration;

use dti_config::NoServiceSettings;
use dti_domain::units::{Unit, UnitType};
use dti_domain::{UnitId, UnitRegistry};
use dti_service_kit::registry::{RegistryCache, CHANGED_EVENT, REVISION_GAUGE};
use dti_service_kit::ServiceKit;
use dti_testkit::metrics::{sample, scrape};
use dti_testkit::{eventually, Poll, TestBackends};

async fn store(backends: &TestBackends, revision: i64, document: &str) -> anyhow::Result<()> {
    sqlx::query(
        "INSERT INTO registry_revisions (revision, document, changed_by) VALUES ($1, $2, 'test')",
    )
    .bind(revision)
    .bind(document)
    .execute(backends.db.pool())
    .await?;
    Ok(())
}

fn with_district(registry: &UnitRegistry, id: &str) -> anyhow::Result<UnitRegistry> {
    Ok(registry.with_unit(Unit {
        id: UnitId::parse(id)?,
        name: format!("Huyện {id}"),
        kind: UnitType::District,
        active_from: Some(2024),
        active_until: None,
    })?)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_new_revision_is_in_force_on_its_event_and_on_a_recheck() -> anyhow::Result<()> {
    let backends = TestBackends::create().await?;
    let config = backends.service_config(NoServiceSettings::default());
    let kit = ServiceKit::builder("registry-cache-test", &config)
        .with_postgres()
        .with_nats()
        .build()
        .await?;
    let cache = kit.unit_registry().await?;
    let seed = UnitRegistry::builtin()?;
    assert_eq!(cache.revision(), 0, "nothing stored: the seed");
    assert_eq!(cache.current().to_toml(), seed.to_toml());

    // Stored and announced: in force within seconds, not at the 30 s recheck.
    let first = with_district(&seed, "huyen-mot")?;
    store(&backends, 1, &first.to_toml()).await?;
    let nats = async_nats::connect(dti_testkit::nats_url()).await?;
    nats.publish(kit.subject(CHANGED_EVENT), "1".into()).await?;
    nats.flush().await?;
    eventually(
        "the cache to load revision 1 on its event",
        Poll::new(Duration::from_secs(10), Duration::from_millis(50)),
        || {
            let cache = cache.clone();
            async move { Ok((cache.revision() == 1).then_some(())) }
        },
    )
    .await?;
    assert!(cache.current().unit(&UnitId::parse("huyen-mot")?).is_some());
    // The revision in use is exported for the alert that compares a release's pods.
    let addr = kit.metrics_addr().expect("metrics enabled");
    let exported = eventually(
        "the revision gauge to say 1",
        Poll::new(Duration::from_secs(10), Duration::from_millis(50)),
        || async move {
            let metrics = scrape(addr).await?;
            Ok(sample(&metrics, REVISION_GAUGE, &[]).filter(|value| *value == 1.0))
        },
    )
    .await?;
    assert_eq!(exported, 1.0);

    // Stored with no event: a recheck finds it.
    let second = with_district(&first, "huyen-hai")?;
    store(&backends, 2, &second.to_toml()).await?;
    assert_eq!(cache.refresh().await?, 2);
    assert_eq!(cache.current().to_toml(), second.to_toml());
    // A second cache of the same database starts at the newest revision.
    let other = RegistryCache::load(backends.db.pool().clone()).await?;
    assert_eq!(other.revision(), 2);

    // A revision this build cannot read is refused, naming it; revision 2 stays in force.
    store(&backends, 3, "schema = 2\n").await?;
    let error = cache.refresh().await.expect_err("schema 2").to_string();
    assert!(error.contains("revision 3"), "{error}");
    assert!(error.contains("schema 2 is not supported"), "{error}");
    assert_eq!(cache.revision(), 2);
    assert_eq!(cache.current().to_toml(), second.to_toml());

    kit.shutdown_token().cancel();
    kit.serve().await?;
    backends.close().await?;
    Ok(())
}
