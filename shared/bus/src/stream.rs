//! The JetStream stream of a prefix, and subject naming.

use std::time::Duration;

use async_nats::jetstream::{self, stream::StorageType};

use crate::BusError;

/// Name of the stream holding every subject of `prefix`: the prefix upper-cased.
pub fn stream_name(prefix: &str) -> String {
    prefix.to_ascii_uppercase()
}

/// Full subject of an event under `prefix`, e.g. `subject("dti", "submission.submitted.v1")`.
pub fn subject(prefix: &str, event: &str) -> String {
    format!("{prefix}.{event}")
}

/// How long and how much the stream keeps, and in how many copies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StreamSettings {
    /// Window within which JetStream drops a re-published `Nats-Msg-Id`.
    pub duplicate_window: Duration,
    /// Oldest message kept; zero keeps every message.
    pub max_age: Duration,
    /// Most bytes kept (the oldest messages go first); none sets no limit.
    pub max_bytes: Option<i64>,
    /// Copies in a JetStream cluster.
    pub replicas: usize,
}

impl StreamSettings {
    /// Keeps everything, one copy, with this duplicate window.
    pub fn unlimited(duplicate_window: Duration) -> Self {
        Self {
            duplicate_window,
            max_age: Duration::ZERO,
            max_bytes: None,
            replicas: 1,
        }
    }
}

/// Creates, or returns the existing, file-backed stream of `prefix` capturing `<prefix>.>`
/// with a `duplicate_window` for `Nats-Msg-Id` deduplication, keeping every message.
pub async fn ensure_stream(
    js: &jetstream::Context,
    prefix: &str,
    duplicate_window: Duration,
) -> Result<jetstream::stream::Stream, BusError> {
    ensure_stream_with(js, prefix, &StreamSettings::unlimited(duplicate_window)).await
}

/// Creates the stream of `prefix` with `settings`, or brings an existing one to them (its
/// subjects and storage never change): retention and replicas are operator settings, applied
/// on the next start of any service.
pub async fn ensure_stream_with(
    js: &jetstream::Context,
    prefix: &str,
    settings: &StreamSettings,
) -> Result<jetstream::stream::Stream, BusError> {
    let name = stream_name(prefix);
    let config = jetstream::stream::Config {
        name: name.clone(),
        subjects: vec![format!("{prefix}.>")],
        storage: StorageType::File,
        duplicate_window: settings.duplicate_window,
        max_age: settings.max_age,
        max_bytes: settings.max_bytes.unwrap_or(-1),
        num_replicas: settings.replicas,
        ..Default::default()
    };
    let fail = |source: async_nats::jetstream::context::CreateStreamError| BusError::Stream {
        stream: name.clone(),
        source,
    };
    let mut stream = js
        .get_or_create_stream(config.clone())
        .await
        .map_err(fail)?;
    let settings_failed = |message: String| BusError::StreamSettings {
        stream: name.clone(),
        message,
    };
    let current = &stream
        .info()
        .await
        .map_err(|error| settings_failed(format!("reading its settings: {error}")))?
        .config;
    let differs = current.duplicate_window != config.duplicate_window
        || current.max_age != config.max_age
        || current.max_bytes != config.max_bytes
        || current.num_replicas != config.num_replicas;
    if differs {
        tracing::info!(stream = %name, ?settings, "bringing the stream to its configured limits");
        js.create_or_update_stream(config).await.map_err(fail)?;
        stream = js
            .get_stream(&name)
            .await
            .map_err(|error| settings_failed(format!("reading it after the update: {error}")))?;
    }
    Ok(stream)
}
