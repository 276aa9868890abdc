//! Reads of what the platform ended with: the ranking the ranking service serves, the
//! messages per subject in the JetStream stream, a key in Redis.

use std::collections::BTreeMap;

use anyhow::{ensure, Context};

use super::{Chaos, FRAMEWORK, YEAR};

/// The self-assessed ranking the ranking service serves: unit → (rank, score).
pub fn served_ranking(chaos: &Chaos) -> anyhow::Result<BTreeMap<String, (u64, String)>> {
    let served = chaos.stack().dtictl_json(&[
        "ranking",
        "show",
        "--year",
        YEAR,
        "--framework",
        FRAMEWORK,
        "--basis",
        "self",
        "--limit",
        "1000",
    ])?;
    Ok(served["units"]
        .as_array()
        .context("units")?
        .iter()
        .map(|u| {
            (
                u["unit"]["unitId"].as_str().unwrap_or_default().to_owned(),
                (
                    u["rank"].as_u64().unwrap_or_default(),
                    u["score"].as_str().unwrap_or_default().to_owned(),
                ),
            )
        })
        .collect())
}

pub fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    Ok(tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?)
}

/// Messages per subject in the stream of `prefix` on the test's nats-server.
pub fn stream_subjects(port: u16, prefix: &str) -> anyhow::Result<BTreeMap<String, u64>> {
    runtime()?.block_on(async {
        let client = async_nats::connect(format!("nats://127.0.0.1:{port}")).await?;
        let js = async_nats::jetstream::new(client);
        let mut stream = js
            .get_stream(dti_bus::stream::stream_name(prefix))
            .await
            .map_err(|error| anyhow::anyhow!("the stream: {error}"))?;
        let mut info = stream
            .info_with_subjects(">")
            .await
            .map_err(|error| anyhow::anyhow!("the stream's subjects: {error}"))?;
        use futures::TryStreamExt;
        let mut per_subject = BTreeMap::new();
        while let Some((subject, n)) = info
            .try_next()
            .await
            .map_err(|error| anyhow::anyhow!("the stream's subjects: {error}"))?
        {
            per_subject.insert(subject, n as u64);
        }
        let total = stream
            .info()
            .await
            .map_err(|error| anyhow::anyhow!("the stream: {error}"))?
            .state
            .messages;
        ensure!(
            per_subject.values().sum::<u64>() == total,
            "stream total {total} against its subjects {per_subject:?}"
        );
        Ok(per_subject)
    })
}

pub fn redis_exists(port: u16, key: &str) -> anyhow::Result<bool> {
    let client = redis::Client::open(format!("redis://127.0.0.1:{port}"))?;
    let mut conn = client.get_connection()?;
    let exists: bool = redis::cmd("EXISTS").arg(key).query(&mut conn)?;
    Ok(exists)
}
