//! Redis lost under a running ranking service: a redis-server of the test's own (its own port,
//! no persistence) is killed; every ranking read keeps succeeding with the ranks `dtictl score`
//! gives, answered from PostgreSQL, including a change scored while Redis is gone; when a new,
//! empty Redis comes back on the same port, the service rebuilds the sorted sets within 2 s.

mod support;

use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use dti_proto::dti::scoring::v1::Basis;
use dti_ranking::Settings;
use secrecy::SecretString;
use serde_json::json;
use support::*;

/// A redis-server of the test's own, killed on drop.
struct OwnRedis {
    port: u16,
    child: Child,
}

impl OwnRedis {
    fn start(port: u16) -> anyhow::Result<Self> {
        let child = Command::new("redis-server")
            .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
            .args(["--save", "", "--appendonly", "no"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()?;
        let started = Instant::now();
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            anyhow::ensure!(
                started.elapsed() < Duration::from_secs(10),
                "redis-server did not open port {port}"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        Ok(Self { port, child })
    }

    fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    fn kill(mut self) -> anyhow::Result<u16> {
        self.child.kill()?;
        self.child.wait()?;
        Ok(self.port)
    }

    async fn keys(&self, pattern: &str) -> anyhow::Result<Vec<String>> {
        let client = redis::Client::open(self.url())?;
        let mut conn = client.get_multiplexed_async_connection().await?;
        Ok(redis::cmd("KEYS")
            .arg(pattern)
            .query_async(&mut conn)
            .await?)
    }
}

impl Drop for OwnRedis {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A free loopback port below the kernel's ephemeral range (nothing else takes it meanwhile).
fn free_port() -> anyhow::Result<u16> {
    let offset = (std::process::id() % 4000) as u16;
    (0..4000)
        .map(|step| 24_000 + (offset + step) % 4000)
        .find(|port| TcpListener::bind(("127.0.0.1", *port)).is_ok())
        .ok_or_else(|| anyhow::anyhow!("no free port"))
}

async fn assert_total_ranking(
    pipeline: &Pipeline,
    round: &dti_domain::RoundRef,
    units: &[UnitSubmission],
) -> anyhow::Result<()> {
    let expected = dtictl_scores(round.framework.as_str(), units);
    let (_, ranked) = pipeline.ranking(round, Basis::SelfAssessed, "", 3).await?;
    assert_ranking_matches(&ranked, &expected, "");
    let (_, ranked) = pipeline
        .ranking(round, Basis::SelfAssessed, "5", 1000)
        .await?;
    assert_ranking_matches(&ranked, &expected, "5");
    let bearer = pipeline.verifier();
    for unit in units {
        let position = pipeline
            .position(round, Basis::SelfAssessed, &unit.unit, "", &bearer)
            .await?;
        let ranked = position.position.expect("a position");
        assert_eq!(
            u64::from(ranked.rank),
            expected[&unit.unit].rank,
            "{}",
            unit.unit
        );
    }
    Ok(())
}

#[tokio::test]
async fn rankings_are_answered_from_postgresql_while_redis_is_gone() -> anyhow::Result<()> {
    let settings = Settings {
        reconcile_interval_secs: 3600,
        ..Settings::default()
    };
    let mut pipeline = Pipeline::start(
        dti_scoring::Settings {
            reconcile_interval_secs: 3600,
            ..dti_scoring::Settings::default()
        },
        settings.clone(),
    )
    .await?;
    // The ranking service on a Redis of the test's own.
    let redis = OwnRedis::start(free_port()?)?;
    pipeline.ranking.take().expect("running").stop().await?;
    let mut config = pipeline.scoring.backends.service_config(settings);
    config.redis.url = Some(SecretString::from(redis.url()));
    let ranking = dti_ranking::build(&config).await?.spawn()?;
    let metrics_addr = ranking.metrics_addr.expect("metrics are enabled in tests");
    pipeline.ranking = Some(ranking);

    let framework = "hcm-2023-district";
    let round = round(2023, framework);
    let units = sample_units(framework, 8, 61, "R-");
    let ids: Vec<String> = units.iter().map(|u| u.unit.clone()).collect();
    create_round(pipeline.pool(), &round, &ids, "open").await?;
    submit_all_scored(&pipeline.scoring, &round, &units).await?;
    pipeline.wait_ranked(&round, Basis::SelfAssessed).await?;
    assert_total_ranking(&pipeline, &round, &units).await?;
    let pattern = format!("{}ranking:*", pipeline.scoring.backends.redis_prefix);
    assert!(
        !redis.keys(&pattern).await?.is_empty(),
        "the sets are in the test's Redis"
    );

    // Redis dies: reads keep succeeding, from PostgreSQL, with the same ranks.
    let port = redis.kill()?;
    assert_total_ranking(&pipeline, &round, &units).await?;
    // A change scored while Redis is gone is seen at once.
    let mut changed = units.clone();
    changed[2].values.insert("5.1".into(), json!({"a": 4000}));
    changed[2].not_applicable.retain(|code| code != "5.1");
    resubmit_scored(&pipeline.scoring, &round, &changed[2]).await?;
    assert_total_ranking(&pipeline, &round, &changed).await?;
    let metrics = dti_testkit::metrics::scrape(metrics_addr).await?;
    assert_eq!(
        dti_testkit::metrics::sample(&metrics, "dti_ranking_redis_up", &[]),
        Some(0.0),
        "{metrics}"
    );
    let fallbacks =
        dti_testkit::metrics::sample(&metrics, "dti_ranking_reads_from_postgres_total", &[])
            .unwrap_or(0.0);
    assert!(
        fallbacks > 0.0,
        "reads were answered from PostgreSQL: {metrics}"
    );

    // A new, empty Redis on the same port: the sets are back within 2 s.
    let redis = OwnRedis::start(port)?;
    let returned = Instant::now();
    let marker = format!(
        "{}ranking:2023:{framework}:self:version",
        pipeline.scoring.backends.redis_prefix
    );
    loop {
        if !redis.keys(&marker).await?.is_empty() {
            break;
        }
        assert!(
            returned.elapsed() < Duration::from_secs(2),
            "the rankings were not rebuilt in Redis within 2 s of its return"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    println!(
        "rankings rebuilt in Redis {:?} after it returned",
        returned.elapsed()
    );
    wait_until("the service reads Redis again", || async {
        let metrics = dti_testkit::metrics::scrape(metrics_addr).await?;
        Ok(dti_testkit::metrics::sample(&metrics, "dti_ranking_redis_up", &[]) == Some(1.0))
    })
    .await?;
    assert_total_ranking(&pipeline, &round, &changed).await?;
    pipeline.close().await
}
