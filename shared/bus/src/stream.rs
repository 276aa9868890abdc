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

/// Creates, or returns the existing, file-backed stream of `prefix` capturing `<prefix>.>`
/// with a `duplicate_window` for `Nats-Msg-Id` deduplication.
pub async fn ensure_stream(
    js: &jetstream::Context,
    prefix: &str,
    duplicate_window: Duration,
) -> Result<jetstream::stream::Stream, BusError> {
    let name = stream_name(prefix);
    let config = jetstream::stream::Config {
        name: name.clone(),
        subjects: vec![format!("{prefix}.>")],
        storage: StorageType::File,
        duplicate_window,
        ..Default::default()
    };
    js.get_or_create_stream(config)
        .await
        .map_err(|source| BusError::Stream {
            stream: name,
            source,
        })
}
