//! Binding and serving the receiver, over plain HTTP or HTTPS (rustls on ring).

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use tokio::net::{TcpListener, TcpStream};
use tokio_rustls::server::TlsStream;
use tokio_rustls::TlsAcceptor;

use crate::routes::{router, ReceiverSettings};

/// How long a TLS handshake may take.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(5);
/// Why the receiver could not start.
#[derive(Debug, thiserror::Error)]
pub enum ReceiverError {
    /// The listener could not bind.
    #[error("binding {addr}: {source}")]
    Bind {
        /// Address.
        addr: SocketAddr,
        /// Error.
        source: std::io::Error,
    },
    /// The certificate or key could not be read.
    #[error("TLS: {0}")]
    Tls(String),
    /// Serving failed.
    #[error("serving: {0}")]
    Serve(#[source] std::io::Error),
    /// A setting is unusable.
    #[error("settings: {0}")]
    Settings(String),
}

/// A TLS acceptor from PEM files of the certificate chain and private key.
pub fn tls_acceptor(cert_chain: &Path, private_key: &Path) -> Result<TlsAcceptor, ReceiverError> {
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::PrivateKeyDer;
    let chain = dti_national_sync::national_api::read_certificates(cert_chain)
        .map_err(|e| ReceiverError::Tls(format!("{}: {e}", cert_chain.display())))?;
    let key = PrivateKeyDer::from_pem_file(private_key)
        .map_err(|e| ReceiverError::Tls(format!("{}: {e}", private_key.display())))?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| ReceiverError::Tls(e.to_string()))?
        .with_no_client_auth()
        .with_single_cert(chain, key)
        .map_err(|e| ReceiverError::Tls(e.to_string()))?;
    Ok(TlsAcceptor::from(Arc::new(config)))
}

/// A listener that completes the TLS handshake before handing a connection to axum.
struct TlsListener {
    tcp: TcpListener,
    acceptor: TlsAcceptor,
}

impl axum::serve::Listener for TlsListener {
    type Io = TlsStream<TcpStream>;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        loop {
            let (stream, peer) = match self.tcp.accept().await {
                Ok(accepted) => accepted,
                Err(error) => {
                    tracing::warn!(%error, "accepting a connection failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            };
            match tokio::time::timeout(HANDSHAKE_TIMEOUT, self.acceptor.accept(stream)).await {
                Ok(Ok(tls)) => return (tls, peer),
                Ok(Err(error)) => tracing::debug!(%error, %peer, "TLS handshake failed"),
                Err(_) => tracing::debug!(%peer, "TLS handshake timed out"),
            }
        }
    }

    fn local_addr(&self) -> std::io::Result<Self::Addr> {
        self.tcp.local_addr()
    }
}

/// A bound receiver, ready to serve.
pub struct Receiver {
    listener: TcpListener,
    tls: Option<TlsAcceptor>,
    router: Router,
}

impl std::fmt::Debug for Receiver {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Receiver")
            .field("addr", &self.listener.local_addr().ok())
            .field("tls", &self.tls.is_some())
            .finish()
    }
}

impl Receiver {
    /// Binds `addr` (port 0 picks one).
    pub async fn bind(
        addr: SocketAddr,
        tls: Option<TlsAcceptor>,
        settings: ReceiverSettings,
    ) -> Result<Self, ReceiverError> {
        let listener = TcpListener::bind(addr)
            .await
            .map_err(|source| ReceiverError::Bind { addr, source })?;
        Ok(Self {
            listener,
            tls,
            router: router(settings),
        })
    }

    /// The bound address.
    pub fn local_addr(&self) -> std::io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    /// `http://addr` or `https://addr`.
    pub fn base_url(&self) -> std::io::Result<String> {
        let scheme = if self.tls.is_some() { "https" } else { "http" };
        Ok(format!("{scheme}://{}", self.local_addr()?))
    }

    /// Serves until `shutdown` resolves.
    pub async fn serve<F>(self, shutdown: F) -> Result<(), ReceiverError>
    where
        F: std::future::Future<Output = ()> + Send + 'static,
    {
        let stop = shutdown;
        match self.tls {
            Some(acceptor) => {
                let listener = TlsListener {
                    tcp: self.listener,
                    acceptor,
                };
                axum::serve(listener, self.router)
                    .with_graceful_shutdown(stop)
                    .await
            }
            None => {
                axum::serve(self.listener, self.router)
                    .with_graceful_shutdown(stop)
                    .await
            }
        }
        .map_err(ReceiverError::Serve)
    }
}
