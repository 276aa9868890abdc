//! The metrics every service exports through the kit, on its real `/metrics`: the build info
//! gauge names the service, the workspace version and the revision; the pool gauges follow
//! connections the service checks out and gives back.

use dti_testkit::metrics::{sample, scrape};
use std::net::SocketAddr;
use std::time::Duration;

use dti_config::NoServiceSettings;
use dti_service_kit::kit_metrics::{
    BUILD_INFO, DB_POOL_CONNECTIONS_IDLE, DB_POOL_CONNECTIONS_IN_USE, DB_POOL_MAX_CONNECTIONS,
    VERSION,
};
use dti_service_kit::ServiceKit;
use dti_testkit::{Poll, TestBackends};

const SERVICE: &str = "kit-metrics-test";

/// Scrapes `addr` until `gauge` satisfies `wanted` (at most 15 s), returning its value.
async fn until_gauge(
    addr: SocketAddr,
    gauge: &str,
    what: &str,
    wanted: impl Fn(f64) -> bool,
) -> anyhow::Result<f64> {
    let poll = Poll::new(Duration::from_secs(15), Duration::from_millis(100));
    dti_testkit::eventually(what, poll, || async {
        let metrics = scrape(addr).await?;
        Ok(sample(&metrics, gauge, &[]).filter(|value| wanted(*value)))
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn build_info_and_pool_connections_are_exported() -> anyhow::Result<()> {
    let backends = TestBackends::create().await?;
    let mut config = backends.service_config(NoServiceSettings::default());
    config.database.max_connections = 6;
    let kit = ServiceKit::builder(SERVICE, &config)
        .with_postgres()
        .build()
        .await?;
    let pool = kit.pool()?.clone();
    let running = kit.spawn()?;
    let addr = running.metrics_addr.expect("metrics enabled");

    let metrics = scrape(addr).await?;
    let service = format!("service=\"{SERVICE}\"");
    let version = format!("version=\"{VERSION}\"");
    assert_eq!(
        sample(&metrics, BUILD_INFO, &[&service, &version, "revision=\""]),
        Some(1.0),
        "{metrics}"
    );
    let max = until_gauge(addr, DB_POOL_MAX_CONNECTIONS, "the pool's size", |_| true).await?;
    assert_eq!(max, 6.0);

    let mut held = Vec::new();
    for _ in 0..3 {
        held.push(pool.acquire().await?);
    }
    until_gauge(
        addr,
        DB_POOL_CONNECTIONS_IN_USE,
        "3 connections in use",
        |n| n >= 3.0,
    )
    .await?;
    drop(held);
    until_gauge(
        addr,
        DB_POOL_CONNECTIONS_IN_USE,
        "the connections given back",
        |n| n < 3.0,
    )
    .await?;
    let idle = until_gauge(addr, DB_POOL_CONNECTIONS_IDLE, "idle connections", |n| {
        n >= 1.0
    })
    .await?;
    assert!(idle <= 6.0, "{idle} idle of at most 6");

    running.stop().await?;
    backends.close().await?;
    Ok(())
}
