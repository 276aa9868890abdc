//! The error type of the event bus.

/// Why an event bus operation failed.
#[derive(Debug, thiserror::Error)]
pub enum BusError {
    /// The NATS server could not be reached.
    #[error("connecting to NATS at {url}: {source}")]
    Connect {
        /// The server URL.
        url: String,
        /// The connection error.
        source: async_nats::ConnectError,
    },
    /// The stream could not be created or looked up.
    #[error("ensuring JetStream stream {stream}: {source}")]
    Stream {
        /// The stream name.
        stream: String,
        /// The JetStream error.
        source: async_nats::jetstream::context::CreateStreamError,
    },
    /// The stream's settings could not be read or applied.
    #[error("configuring JetStream stream {stream}: {message}")]
    StreamSettings {
        /// The stream name.
        stream: String,
        /// What went wrong.
        message: String,
    },
    /// The durable consumer could not be created or started.
    #[error("starting consumer {consumer}: {message}")]
    Consumer {
        /// The durable consumer name.
        consumer: String,
        /// What went wrong.
        message: String,
    },
    /// The consumer's message stream ended or failed for good.
    #[error("consumer {consumer} stopped receiving messages")]
    ConsumerStreamEnded {
        /// The durable consumer name.
        consumer: String,
    },
    /// Publishing, or waiting for the JetStream acknowledgement, failed.
    #[error("publishing {msg_id} on {subject}: {message}")]
    Publish {
        /// Subject published on.
        subject: String,
        /// The `Nats-Msg-Id`.
        msg_id: String,
        /// What went wrong.
        message: String,
    },
    /// An outbox message is not publishable (empty subject or id, bad header).
    #[error("invalid outbox message: {0}")]
    InvalidMessage(String),
    /// The database answered a count no count can be (negative).
    #[error("{what} is {value}, which is not a count")]
    NotACount {
        /// What was counted.
        what: &'static str,
        /// The value read.
        value: i64,
    },
    /// A database statement of the outbox, relay or consumer failed.
    #[error("{action}: {source}")]
    Database {
        /// What was being done.
        action: &'static str,
        /// The database error.
        source: sqlx::Error,
    },
}

impl BusError {
    /// Maps a database error of `action`.
    pub(crate) fn database(action: &'static str) -> impl FnOnce(sqlx::Error) -> Self {
        move |source| Self::Database { action, source }
    }
}
