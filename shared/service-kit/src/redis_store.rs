//! The service's Redis connection together with its key prefix.

use redis::aio::ConnectionManager;

/// A shared, self-reconnecting Redis connection and the prefix every key must start with.
#[derive(Clone)]
pub struct RedisStore {
    connection: ConnectionManager,
    key_prefix: String,
}

impl std::fmt::Debug for RedisStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisStore")
            .field("key_prefix", &self.key_prefix)
            .finish_non_exhaustive()
    }
}

impl RedisStore {
    /// Wraps `connection`, namespacing keys under `key_prefix`.
    pub fn new(connection: ConnectionManager, key_prefix: String) -> Self {
        Self {
            connection,
            key_prefix,
        }
    }

    /// The full key for `name`, e.g. `dti:submission:` + `draft-lock:42`.
    pub fn key(&self, name: &str) -> String {
        format!("{}{name}", self.key_prefix)
    }

    /// A handle on the connection (cheap to clone; commands need `&mut`).
    pub fn connection(&self) -> ConnectionManager {
        self.connection.clone()
    }
}
