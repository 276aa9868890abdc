//! Serving gRPC until a shutdown signal, then shutting down gracefully.

use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::time::Duration;

use dti_telemetry::grpc::GrpcServerTelemetryLayer;
use tokio_util::sync::CancellationToken;
use tonic::transport::server::TcpIncoming;
use tonic::transport::Server;
use tonic_health::ServingStatus;

use crate::language::LanguageLayer;
use crate::readiness::{follow_dependencies, Dependencies, LIVENESS};
use crate::text_guard::TextGuardLayer;
use crate::tls::TlsListener;
use crate::{KitError, ServiceKit};

/// Idle time before the kernel probes an accepted connection whose peer went silent.
const TCP_KEEPALIVE: Duration = Duration::from_secs(60);

impl ServiceKit {
    /// Marks every service SERVING and serves gRPC until SIGTERM, SIGINT or
    /// [`ServiceKit::shutdown_token`]; then sets NOT_SERVING, stops accepting, lets in-flight
    /// requests and background tasks finish (at most the grace period), closes the database
    /// pool and flushes spans.
    ///
    /// Every accepted connection gets `TCP_NODELAY` (a response's headers, body and trailers go
    /// out at once instead of waiting out the client's delayed ACK, about 40 ms a call) and TCP
    /// keepalive. With `grpc.tls` set, connections are served over TLS (module [`crate::tls`]).
    ///
    /// While serving, readiness follows PostgreSQL and NATS (module [`crate::readiness`]);
    /// the `liveness` status stays SERVING until shutdown.
    pub async fn serve(mut self) -> Result<(), KitError> {
        self.set_health(ServingStatus::Serving).await;
        self.health
            .set_service_status(LIVENESS, ServingStatus::Serving)
            .await;
        let dependencies = Dependencies {
            postgres: self.pool.clone(),
            nats: self.jetstream.as_ref().map(|jetstream| jetstream.client()),
        };
        self.tasks.spawn(follow_dependencies(
            dependencies,
            self.health.clone(),
            self.serving.clone(),
            self.shutdown.clone(),
        ));
        let routes = std::mem::take(&mut self.routes).routes();
        let local_addr = self
            .grpc_listener
            .local_addr()
            .unwrap_or_else(|_| SocketAddr::from(([0, 0, 0, 0], 0)));
        let incoming = TcpIncoming::from(self.grpc_listener)
            .with_nodelay(Some(true))
            .with_keepalive(Some(TCP_KEEPALIVE));
        let shutdown = self.shutdown.clone();
        let health = self.health.clone();
        let serving = self.serving.clone();
        let signal = async move {
            shutdown_requested(&shutdown).await;
            tracing::info!("shutdown requested: draining");
            // Cancelled first, so the readiness watcher sets nothing after this.
            shutdown.cancel();
            for name in serving.iter().map(String::as_str).chain(["", LIVENESS]) {
                health
                    .set_service_status(name, ServingStatus::NotServing)
                    .await;
            }
        };
        let router = Server::builder()
            .layer(GrpcServerTelemetryLayer)
            .layer(LanguageLayer)
            .layer(TextGuardLayer)
            .add_routes(routes);
        let server: Pin<Box<dyn Future<Output = Result<(), tonic::transport::Error>> + Send>> =
            match self.grpc_tls.take() {
                None => Box::pin(router.serve_with_incoming_shutdown(incoming, signal)),
                Some(config) => {
                    let incoming = TlsListener::new(incoming, local_addr, config).into_incoming();
                    Box::pin(router.serve_with_incoming_shutdown(incoming, signal))
                }
            };
        let served = within_grace(
            server,
            &self.shutdown,
            self.shutdown_grace,
            "in-flight requests",
        )
        .await;
        self.tasks.close();
        let background = async {
            self.tasks.wait().await;
            Ok::<(), KitError>(())
        };
        within_grace(
            background,
            &self.shutdown,
            self.shutdown_grace,
            "background tasks",
        )
        .await?;
        if let Some(pool) = &self.pool {
            pool.close().await;
        }
        if let Some(telemetry) = self.telemetry.take() {
            let _ = tokio::task::spawn_blocking(move || telemetry.shutdown()).await;
        }
        tracing::info!(service = %self.name, "service stopped");
        served.map_err(KitError::from)
    }

    /// Sets every registered service and the overall status (`""`) to `status`.
    async fn set_health(&self, status: ServingStatus) {
        for name in self.serving.iter().map(String::as_str).chain([""]) {
            self.health.set_service_status(name, status).await;
        }
    }
}

/// Runs `work` to completion, or gives up on it `grace` after shutdown started.
async fn within_grace<F, E>(
    work: F,
    shutdown: &CancellationToken,
    grace: Duration,
    what: &'static str,
) -> Result<(), E>
where
    F: std::future::Future<Output = Result<(), E>>,
{
    tokio::select! {
        finished = work => finished,
        () = async { shutdown.cancelled().await; tokio::time::sleep(grace).await } => {
            tracing::warn!(?grace, "{what} did not finish within the shutdown grace period");
            Ok(())
        }
    }
}

/// Resolves on SIGTERM, SIGINT (Ctrl-C) or when `token` is cancelled.
async fn shutdown_requested(token: &CancellationToken) {
    let interrupt = async {
        if let Err(error) = tokio::signal::ctrl_c().await {
            tracing::warn!(%error, "cannot listen for SIGINT");
            std::future::pending::<()>().await;
        }
    };
    tokio::select! {
        () = interrupt => {}
        () = terminate_signal() => {}
        () = token.cancelled() => {}
    }
}

/// Resolves on SIGTERM (never on platforms without it).
async fn terminate_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        match signal(SignalKind::terminate()) {
            Ok(mut terminate) => {
                terminate.recv().await;
                return;
            }
            Err(error) => tracing::warn!(%error, "cannot listen for SIGTERM"),
        }
    }
    std::future::pending::<()>().await;
}

/// A service serving in a background task (tests, benches, `dtictl` demos).
#[derive(Debug)]
pub struct RunningService {
    /// Address of the gRPC server.
    pub grpc_addr: std::net::SocketAddr,
    /// Address of `/metrics`, when enabled.
    pub metrics_addr: Option<std::net::SocketAddr>,
    shutdown: CancellationToken,
    handle: tokio::task::JoinHandle<Result<(), KitError>>,
}

impl RunningService {
    /// `http://<grpc addr>`, for a tonic channel.
    pub fn endpoint(&self) -> String {
        format!("http://{}", self.grpc_addr)
    }

    /// A lazily connecting channel to the service.
    pub fn channel(&self) -> tonic::transport::Channel {
        tonic::transport::Endpoint::from_shared(self.endpoint())
            .expect("a socket address is a valid endpoint")
            .connect_lazy()
    }

    /// Starts a graceful shutdown and waits until the service stopped.
    pub async fn stop(self) -> Result<(), KitError> {
        self.shutdown.cancel();
        self.handle.await.unwrap_or(Ok(()))
    }

    /// Stops serving at once: the server and its in-flight requests are dropped mid-way and
    /// background tasks are told to stop. To test a real crash, run the service's binary and
    /// kill it instead.
    pub fn abort(self) {
        self.handle.abort();
        self.shutdown.cancel();
    }
}

impl ServiceKit {
    /// Serves in a background task and returns at once with the addresses and a handle.
    pub fn spawn(self) -> Result<RunningService, KitError> {
        let grpc_addr = self.grpc_addr().map_err(|source| KitError::Bind {
            addr: std::net::SocketAddr::from(([0, 0, 0, 0], 0)),
            source,
        })?;
        let metrics_addr = self.metrics_addr();
        let shutdown = self.shutdown_token();
        let handle = tokio::spawn(self.serve());
        Ok(RunningService {
            grpc_addr,
            metrics_addr,
            shutdown,
            handle,
        })
    }
}
