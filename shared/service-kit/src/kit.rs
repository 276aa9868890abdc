//! Building the kit: telemetry, connections, the gRPC listener, health and reflection; and
//! registering services and background work.

use std::convert::Infallible;
use std::fmt::Display;
use std::future::Future;
use std::net::SocketAddr;
use std::time::Duration;

use async_nats::jetstream;
use dti_bus::consumer::{ConsumerSettings, EventHandler, IdempotentConsumer};
use dti_bus::outbox::{OutboxRelay, RelaySettings};
use dti_config::ServiceConfig;
use dti_db::PgPool;
use dti_telemetry::metrics::MetricsEndpoint;
use dti_telemetry::{TelemetryError, TelemetryGuard};
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tonic::body::Body;
use tonic::server::NamedService;
use tonic::service::RoutesBuilder;
use tonic_health::server::HealthReporter;

use crate::tls::{self, Protocol};
use crate::{connect, kit_metrics, tenancy, FirstRun, KitError, RedisStore};

/// Default time allowed for in-flight requests and background tasks after a shutdown signal.
const DEFAULT_SHUTDOWN_GRACE: Duration = Duration::from_secs(20);

/// Chooses what a service needs before [`ServiceKitBuilder::build`] connects it.
#[derive(Debug)]
pub struct ServiceKitBuilder<'a, S> {
    name: String,
    config: &'a ServiceConfig<S>,
    postgres: bool,
    nats: bool,
    redis: bool,
    shutdown_grace: Duration,
}

impl<'a, S> ServiceKitBuilder<'a, S> {
    /// Connects PostgreSQL and applies the migrations.
    pub fn with_postgres(mut self) -> Self {
        self.postgres = true;
        self
    }

    /// Connects NATS and ensures the JetStream stream of `nats.prefix`.
    pub fn with_nats(mut self) -> Self {
        self.nats = true;
        self
    }

    /// Connects Redis (`redis.url` must be set).
    pub fn with_redis(mut self) -> Self {
        self.redis = true;
        self
    }

    /// How long shutdown waits for in-flight requests and background tasks.
    pub fn shutdown_grace(mut self, grace: Duration) -> Self {
        self.shutdown_grace = grace;
        self
    }

    /// Sets up telemetry and metrics, connects the requested services, binds the gRPC
    /// listener and prepares health and reflection.
    pub async fn build(self) -> Result<ServiceKit, KitError> {
        let telemetry = init_telemetry(&self.name, self.config)?;
        let shutdown = CancellationToken::new();
        let tasks = TaskTracker::new();
        let (health, routes) = standard_routes(self.config.grpc.reflection)?;
        let metrics_addr = start_metrics(self.config, health.clone(), &tasks, &shutdown).await?;
        kit_metrics::export_build_info(&self.name);
        tenancy::check_prefixes(self.config, self.nats, self.redis)?;
        let pool = match self.postgres {
            true => {
                let pool = connect::postgres(&self.config.database).await?;
                tenancy::claim_database(&pool, self.config.auth.tenant.as_deref()).await?;
                Some(pool)
            }
            false => None,
        };
        let jetstream = match self.nats {
            true => Some(connect::jetstream(&self.config.nats).await?),
            false => None,
        };
        let redis = match self.redis {
            true => Some(connect::redis(&self.config.redis).await?),
            false => None,
        };
        let grpc_tls = tls::server_config("grpc.tls", &self.config.grpc.tls, Protocol::Grpc)?;
        let addr = self.config.grpc.listen_addr;
        let grpc_listener = TcpListener::bind(addr)
            .await
            .map_err(|source| KitError::Bind { addr, source })?;
        tracing::info!(service = %self.name, addr = ?grpc_listener.local_addr().ok(), "service kit ready");
        let kit = ServiceKit {
            serving: vec![self.name.clone()],
            name: self.name,
            nats_prefix: self.config.nats.prefix.clone(),
            inbox_retention: Duration::from_secs(self.config.nats.inbox_retention_secs),
            pool,
            jetstream,
            redis,
            grpc_listener,
            grpc_tls,
            metrics_addr,
            routes,
            health,
            shutdown,
            tasks,
            shutdown_grace: self.shutdown_grace,
            telemetry,
        };
        if let Some(pool) = kit.pool.clone() {
            kit.spawn_periodic(
                "db-pool-metrics",
                kit_metrics::POOL_EXPORT_INTERVAL,
                FirstRun::Immediately,
                move || {
                    kit_metrics::export_pool(&pool);
                    std::future::ready(Ok::<(), std::convert::Infallible>(()))
                },
            );
        }
        Ok(kit)
    }
}

/// Installs the global subscriber; a second kit in the same process (tests) reuses the first.
fn init_telemetry<S>(
    name: &str,
    config: &ServiceConfig<S>,
) -> Result<Option<TelemetryGuard>, KitError> {
    match dti_telemetry::init_tracing(name, &config.telemetry) {
        Ok(guard) => Ok(Some(guard)),
        Err(TelemetryError::AlreadyInitialized) => Ok(None),
        Err(error) => Err(error.into()),
    }
}

/// Installs the Prometheus recorder and, when enabled, serves `/metrics` and the HTTP probes
/// of `health` ([`crate::readiness::probe_routes`]) on the tracker.
async fn start_metrics<S>(
    config: &ServiceConfig<S>,
    health: HealthReporter,
    tasks: &TaskTracker,
    shutdown: &CancellationToken,
) -> Result<Option<SocketAddr>, KitError> {
    let handle = dti_telemetry::metrics::install_prometheus_recorder()?;
    if !config.metrics.enabled {
        return Ok(None);
    }
    let tls = tls::server_config("metrics.tls", &config.metrics.tls, Protocol::Http1)?;
    let endpoint = MetricsEndpoint::bind(config.metrics.listen_addr, handle).await?;
    let addr = endpoint.local_addr().ok();
    let stop = shutdown.clone();
    let (listener, router) = endpoint.into_parts();
    let router = router.merge(crate::readiness::probe_routes(health));
    tasks.spawn(async move {
        if let Err(error) = tls::serve_http(listener, router, tls, stop).await {
            tracing::error!(%error, "metrics endpoint failed");
        }
    });
    Ok(addr)
}

/// The health service (statuses set when serving starts) and, when `reflection` is on,
/// reflection of every DTI package.
fn standard_routes(reflection: bool) -> Result<(HealthReporter, RoutesBuilder), KitError> {
    let (health, health_service) = tonic_health::server::health_reporter();
    let mut routes = RoutesBuilder::default();
    routes.add_service(health_service);
    if reflection {
        let reflection = tonic_reflection::server::Builder::configure()
            .register_encoded_file_descriptor_set(dti_proto::FILE_DESCRIPTOR_SET)
            .register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET)
            .build_v1()?;
        routes.add_service(reflection);
    }
    Ok((health, routes))
}

/// A started service: its connections, gRPC services and background work, until
/// [`ServiceKit::serve`] runs it to a graceful end.
pub struct ServiceKit {
    pub(crate) name: String,
    pub(crate) nats_prefix: String,
    inbox_retention: Duration,
    pub(crate) pool: Option<PgPool>,
    pub(crate) jetstream: Option<jetstream::Context>,
    redis: Option<RedisStore>,
    pub(crate) grpc_listener: TcpListener,
    pub(crate) grpc_tls: Option<std::sync::Arc<rustls::ServerConfig>>,
    metrics_addr: Option<SocketAddr>,
    pub(crate) routes: RoutesBuilder,
    pub(crate) serving: Vec<String>,
    pub(crate) health: HealthReporter,
    pub(crate) shutdown: CancellationToken,
    pub(crate) tasks: TaskTracker,
    pub(crate) shutdown_grace: Duration,
    pub(crate) telemetry: Option<TelemetryGuard>,
}

impl std::fmt::Debug for ServiceKit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServiceKit")
            .field("name", &self.name)
            .field("grpc_addr", &self.grpc_listener.local_addr().ok())
            .field("metrics_addr", &self.metrics_addr)
            .finish_non_exhaustive()
    }
}

impl ServiceKit {
    /// Starts configuring the kit of service `name` (e.g. `"submission"`) from its `config`.
    pub fn builder<S>(
        name: impl Into<String>,
        config: &ServiceConfig<S>,
    ) -> ServiceKitBuilder<'_, S> {
        ServiceKitBuilder {
            name: name.into(),
            config,
            postgres: false,
            nats: false,
            redis: false,
            shutdown_grace: DEFAULT_SHUTDOWN_GRACE,
        }
    }

    /// The service name given to the builder.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The PostgreSQL pool (migrated).
    pub fn pool(&self) -> Result<&PgPool, KitError> {
        self.pool
            .as_ref()
            .ok_or(KitError::NotConnected("PostgreSQL"))
    }

    /// The JetStream context.
    pub fn jetstream(&self) -> Result<&jetstream::Context, KitError> {
        self.jetstream
            .as_ref()
            .ok_or(KitError::NotConnected("NATS"))
    }

    /// The Redis store.
    pub fn redis(&self) -> Result<&RedisStore, KitError> {
        self.redis.as_ref().ok_or(KitError::NotConnected("Redis"))
    }

    /// Full subject of `event` under the configured prefix, e.g. `dti.submission.submitted.v1`.
    pub fn subject(&self, event: &str) -> String {
        dti_bus::stream::subject(&self.nats_prefix, event)
    }

    /// Address the gRPC server listens on (useful with port 0).
    pub fn grpc_addr(&self) -> std::io::Result<SocketAddr> {
        self.grpc_listener.local_addr()
    }

    /// Address of the `/metrics` endpoint, when enabled.
    pub fn metrics_addr(&self) -> Option<SocketAddr> {
        self.metrics_addr
    }

    /// Token cancelled when shutdown starts; cancel it to shut the service down.
    pub fn shutdown_token(&self) -> CancellationToken {
        self.shutdown.clone()
    }

    /// Serves `service`; its health status becomes SERVING when serving starts.
    pub fn add_service<Svc>(&mut self, service: Svc) -> &mut Self
    where
        Svc: tower::Service<http_request::Request<Body>, Error = Infallible>
            + NamedService
            + Clone
            + Send
            + Sync
            + 'static,
        Svc::Response: axum::response::IntoResponse,
        Svc::Future: Send + 'static,
    {
        self.serving.push(Svc::NAME.to_owned());
        self.routes.add_service(service);
        self
    }

    /// Runs `task` on the kit's tracker with the shutdown token. The task must return once the
    /// token is cancelled; if it fails, the error is logged and the service shuts down (so the
    /// orchestrator restarts it) rather than running on without it.
    pub fn spawn_task<F, Fut, E>(&self, name: &'static str, task: F)
    where
        F: FnOnce(CancellationToken) -> Fut,
        Fut: Future<Output = Result<(), E>> + Send + 'static,
        E: Display + Send + 'static,
    {
        let shutdown = self.shutdown.clone();
        let running = task(shutdown.clone());
        self.tasks.spawn(async move {
            match running.await {
                Ok(()) => tracing::info!(task = name, "background task finished"),
                Err(error) => {
                    tracing::error!(task = name, %error, "background task failed; shutting down");
                    shutdown.cancel();
                }
            }
        });
    }

    /// Runs the outbox relay of this service's database in the background.
    pub fn spawn_outbox_relay(&self, settings: RelaySettings) -> Result<(), KitError> {
        let relay = OutboxRelay::new(self.pool()?.clone(), self.jetstream()?.clone(), settings);
        self.spawn_task("outbox-relay", move |shutdown| relay.run(shutdown));
        Ok(())
    }

    /// Creates the durable consumer of `settings` on this prefix's stream and runs `handler`
    /// on its messages in the background; its pending and ack-pending messages are exported
    /// on a timer ([`dti_bus::consumer_state`]). Its inbox is kept `nats.inbox_retention_secs`,
    /// a message it gives up on is also published on its dead-letter subject
    /// ([`dti_bus::dead_letters::subject`]), and it applies the dead-letter replays an operator
    /// asks for.
    pub async fn spawn_consumer<H: EventHandler>(
        &self,
        settings: ConsumerSettings,
        handler: H,
    ) -> Result<(), KitError> {
        let settings = ConsumerSettings {
            inbox_retention: self.inbox_retention,
            dead_letter_subject: Some(dti_bus::dead_letters::subject(
                &self.nats_prefix,
                &settings.durable_name,
            )),
            ..settings
        };
        let stream = dti_bus::stream::stream_name(&self.nats_prefix);
        let consumer = IdempotentConsumer::create(
            self.jetstream()?,
            &stream,
            settings,
            self.pool()?.clone(),
            handler,
        )
        .await?;
        let state = consumer.state();
        self.spawn_task("consumer", move |shutdown| consumer.run(shutdown));
        self.spawn_periodic(
            "consumer-state",
            dti_bus::consumer_state::EXPORT_INTERVAL,
            FirstRun::Immediately,
            move || {
                let state = state.clone();
                async move { state.export().await }
            },
        );
        Ok(())
    }
}

/// Re-exported `http` request type used in [`ServiceKit::add_service`]'s bounds.
mod http_request {
    pub(crate) use tonic::codegen::http::Request;
}
