//! The error type of service start-up and serving.

/// Why a service could not start or stopped with an error.
#[derive(Debug, thiserror::Error)]
pub enum KitError {
    /// Telemetry or the metrics endpoint could not be set up.
    #[error("setting up telemetry: {0}")]
    Telemetry(#[from] dti_telemetry::TelemetryError),
    /// PostgreSQL could not be reached or migrated.
    #[error("setting up PostgreSQL: {0}")]
    Database(#[from] dti_db::DbError),
    /// NATS JetStream could not be reached or its stream created.
    #[error("setting up NATS JetStream: {0}")]
    Bus(#[from] dti_bus::BusError),
    /// Redis could not be reached.
    #[error("setting up Redis: {0}")]
    Redis(#[source] redis::RedisError),
    /// A file a setting names could not be read.
    #[error("{field}: reading {}: {source}", path.display())]
    ReadFile {
        /// The setting, e.g. `redis.tls_ca_file`.
        field: &'static str,
        /// The file.
        path: std::path::PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// A service of a tenant would leave its tenant: a prefix that does not carry the tenant,
    /// or a database of another tenant.
    #[error("{field}: {problem}")]
    Tenancy {
        /// The setting, e.g. `nats.prefix`.
        field: &'static str,
        /// What is wrong.
        problem: String,
    },
    /// The service asked for Redis but `redis.url` is not set.
    #[error("this service needs Redis: set redis.url")]
    RedisNotConfigured,
    /// The service used a connection it did not ask the builder for.
    #[error("{0} was not requested from the service kit builder")]
    NotConnected(&'static str),
    /// The gRPC listener could not bind its address.
    #[error("binding the gRPC listener on {addr}: {source}")]
    Bind {
        /// The address asked for.
        addr: std::net::SocketAddr,
        /// The I/O error.
        source: std::io::Error,
    },
    /// A listener's TLS certificate or key could not be loaded.
    #[error("TLS: {0}")]
    Tls(#[from] crate::tls::TlsError),
    /// The reflection service could not read the descriptor sets.
    #[error("building gRPC reflection: {0}")]
    Reflection(#[from] tonic_reflection::server::Error),
    /// The gRPC server failed.
    #[error("serving gRPC: {0}")]
    Serve(#[from] tonic::transport::Error),
}
