//! TLS of every listener a service opens — gRPC, `/metrics` and the HTTP sites — with rustls
//! (on ring): the server configuration from a [`ListenerTlsConfig`], the certificate resolver
//! that re-reads the certificate files when they change, and the accept loop that completes
//! each handshake off the accepting task before handing the connection to tonic or axum.
//!
//! Reload: on every handshake [`ReloadingCertificate`] looks at the certificate and key files'
//! size, modification time and inode (two `stat` calls, no read). When one of them changed —
//! a renewal wrote new files, or Kubernetes swapped a Secret's symlinks — it reads and parses
//! the pair again and serves it from this handshake on; connections already open keep their
//! session. A pair that does not load (a half-written file, a key that does not match its
//! certificate) is logged once and the previous certificate is served until the files change
//! again.

use std::fmt;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, SystemTime};

use axum::serve::ListenerExt;
use dti_config::ListenerTlsConfig;
use futures::{Stream, StreamExt};
use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::server::{ClientHello, ResolvesServerCert};
use rustls::sign::CertifiedKey;
use rustls::ServerConfig;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio_rustls::server::TlsStream;
use tokio_rustls::TlsAcceptor;
use tokio_util::sync::CancellationToken;
use tonic::transport::server::{Connected, TcpConnectInfo, TcpIncoming};

/// Longest a client may take to complete its TLS handshake.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);
/// Connections whose handshake finished but that tonic or axum did not take yet.
const ACCEPTED_BACKLOG: usize = 64;

/// Why a listener's TLS could not be set up.
#[derive(Debug, thiserror::Error)]
#[error("{field}: {message}")]
pub struct TlsError {
    /// The setting at fault, e.g. `grpc.tls.cert_path`.
    pub field: String,
    /// What is wrong with it.
    pub message: String,
}

/// The application protocol a listener speaks, offered by ALPN.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Protocol {
    /// gRPC: HTTP/2 only.
    Grpc,
    /// HTTP/1.1 (`/metrics`, the gateway, the results site).
    Http1,
}

/// The rustls server configuration of a listener whose TLS settings are at `section`
/// (e.g. `grpc.tls`), or `None` when TLS is off. The certificate is read now, so a bad file
/// stops start-up naming its setting; afterwards it is re-read whenever the files change.
pub fn server_config(
    section: &str,
    settings: &ListenerTlsConfig,
    protocol: Protocol,
) -> Result<Option<Arc<ServerConfig>>, TlsError> {
    let Some((cert_path, key_path)) = settings.files() else {
        return Ok(None);
    };
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let resolver = ReloadingCertificate::load(section, cert_path, key_path, provider.clone())?;
    let mut config = ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|error| TlsError {
            field: section.to_owned(),
            message: error.to_string(),
        })?
        .with_no_client_auth()
        .with_cert_resolver(Arc::new(resolver));
    config.alpn_protocols = match protocol {
        Protocol::Grpc => vec![b"h2".to_vec()],
        Protocol::Http1 => vec![b"http/1.1".to_vec()],
    };
    Ok(Some(Arc::new(config)))
}

/// What identifies one version of a file without reading it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct FileStamp {
    len: u64,
    modified: Option<SystemTime>,
    inode: u64,
}

impl FileStamp {
    fn of(path: &Path) -> std::io::Result<Self> {
        let metadata = std::fs::metadata(path)?;
        #[cfg(unix)]
        let inode = std::os::unix::fs::MetadataExt::ino(&metadata);
        #[cfg(not(unix))]
        let inode = 0;
        Ok(Self {
            len: metadata.len(),
            modified: metadata.modified().ok(),
            inode,
        })
    }
}

/// The certificate being served and the versions of the files it came from.
#[derive(Debug)]
struct Served {
    key: Arc<CertifiedKey>,
    stamps: (FileStamp, FileStamp),
    /// Versions of the files that failed to load, so the failure is logged once.
    refused: Option<(FileStamp, FileStamp)>,
}

/// A certificate resolver serving the pair of PEM files it was given, re-read when they change
/// (see the module documentation).
pub struct ReloadingCertificate {
    section: String,
    cert_path: PathBuf,
    key_path: PathBuf,
    provider: Arc<CryptoProvider>,
    served: Mutex<Served>,
}

impl fmt::Debug for ReloadingCertificate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ReloadingCertificate")
            .field("cert_path", &self.cert_path)
            .field("key_path", &self.key_path)
            .finish_non_exhaustive()
    }
}

impl ReloadingCertificate {
    /// Reads the pair of `section`'s files once; an error names the file's setting.
    pub fn load(
        section: &str,
        cert_path: &Path,
        key_path: &Path,
        provider: Arc<CryptoProvider>,
    ) -> Result<Self, TlsError> {
        let field = |name: &str| format!("{section}.{name}");
        let stamps = stamps(cert_path, key_path).map_err(|(name, error)| TlsError {
            field: field(name),
            message: error.to_string(),
        })?;
        let key =
            read_pair(cert_path, key_path, &provider).map_err(|(name, message)| TlsError {
                field: field(name),
                message,
            })?;
        Ok(Self {
            section: section.to_owned(),
            cert_path: cert_path.to_owned(),
            key_path: key_path.to_owned(),
            provider,
            served: Mutex::new(Served {
                key: Arc::new(key),
                stamps,
                refused: None,
            }),
        })
    }

    /// The certificate to serve now, re-read first if its files changed.
    pub fn current(&self) -> Arc<CertifiedKey> {
        let mut served = self.served.lock().unwrap_or_else(PoisonError::into_inner);
        let Ok(now) = stamps(&self.cert_path, &self.key_path) else {
            // A file is missing for a moment (being replaced): keep serving.
            return served.key.clone();
        };
        if now == served.stamps || Some(now) == served.refused {
            return served.key.clone();
        }
        match read_pair(&self.cert_path, &self.key_path, &self.provider) {
            Ok(key) => {
                tracing::info!(section = %self.section, "TLS certificate reloaded");
                served.key = Arc::new(key);
                served.stamps = now;
                served.refused = None;
            }
            Err((name, message)) => {
                tracing::warn!(
                    setting = %format!("{}.{name}", self.section),
                    %message,
                    "changed TLS certificate files do not load; serving the previous certificate"
                );
                served.refused = Some(now);
            }
        }
        served.key.clone()
    }
}

impl ResolvesServerCert for ReloadingCertificate {
    fn resolve(&self, _client_hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        Some(self.current())
    }
}

/// The stamps of both files, or which one could not be looked at.
fn stamps(
    cert_path: &Path,
    key_path: &Path,
) -> Result<(FileStamp, FileStamp), (&'static str, std::io::Error)> {
    let cert = FileStamp::of(cert_path).map_err(|error| ("cert_path", error))?;
    let key = FileStamp::of(key_path).map_err(|error| ("key_path", error))?;
    Ok((cert, key))
}

/// Parses the certificate chain and its private key, checking that they belong together; an
/// error names the setting (`cert_path` or `key_path`) at fault.
fn read_pair(
    cert_path: &Path,
    key_path: &Path,
    provider: &CryptoProvider,
) -> Result<CertifiedKey, (&'static str, String)> {
    let in_file = |path: &Path, error: &dyn fmt::Display| format!("{}: {error}", path.display());
    let chain = CertificateDer::pem_file_iter(cert_path)
        .and_then(|certificates| certificates.collect::<Result<Vec<_>, _>>())
        .map_err(|error| ("cert_path", in_file(cert_path, &error)))?;
    if chain.is_empty() {
        return Err(("cert_path", in_file(cert_path, &"holds no PEM certificate")));
    }
    let key = PrivateKeyDer::from_pem_file(key_path)
        .map_err(|error| ("key_path", in_file(key_path, &error)))?;
    CertifiedKey::from_der(chain, key, provider)
        .map_err(|error| ("key_path", in_file(key_path, &error)))
}

/// Serves `router` over HTTP/1.1 on `listener` until `shutdown` is cancelled: over TLS with
/// `tls`, plain without. Every connection gets `TCP_NODELAY`, and handlers may extract the
/// client's address (`ConnectInfo<SocketAddr>`).
pub async fn serve_http(
    listener: TcpListener,
    router: axum::Router,
    tls: Option<Arc<ServerConfig>>,
    shutdown: CancellationToken,
) -> std::io::Result<()> {
    match tls {
        None => {
            let listener = listener.tap_io(|connection| {
                if let Err(error) = connection.set_nodelay(true) {
                    tracing::debug!(%error, "cannot set TCP_NODELAY on an HTTP connection");
                }
            });
            let app = router.into_make_service_with_connect_info::<SocketAddr>();
            axum::serve(listener, app)
                .with_graceful_shutdown(shutdown.cancelled_owned())
                .await
        }
        Some(config) => {
            let local_addr = listener.local_addr()?;
            let tcp = TcpIncoming::from(listener).with_nodelay(Some(true));
            let app = router.into_make_service_with_connect_info::<SocketAddr>();
            // The no-op tap gives handlers the peer's `SocketAddr` (axum provides it for any
            // tapped listener).
            let listener = TlsListener::new(tcp, local_addr, config).tap_io(|_| {});
            axum::serve(listener, app)
                .with_graceful_shutdown(shutdown.cancelled_owned())
                .await
        }
    }
}

/// TLS connections accepted on a listener: the handshakes run in tasks of their own, so a
/// slow or silent client holds up no one else; a failed handshake is logged and dropped.
#[derive(Debug)]
pub struct TlsListener {
    accepted: mpsc::Receiver<(TlsStream<TcpStream>, SocketAddr)>,
    local_addr: SocketAddr,
}

impl TlsListener {
    /// Accepts the TCP connections of `tcp` (already configured: `TCP_NODELAY`, keepalive)
    /// and completes their handshakes with `config`, until the listener is dropped.
    pub fn new<S>(tcp: S, local_addr: SocketAddr, config: Arc<ServerConfig>) -> Self
    where
        S: Stream<Item = std::io::Result<TcpStream>> + Send + 'static,
    {
        let (sender, accepted) = mpsc::channel(ACCEPTED_BACKLOG);
        let acceptor = TlsAcceptor::from(config);
        tokio::spawn(accept_loop(Box::pin(tcp), acceptor, sender));
        Self {
            accepted,
            local_addr,
        }
    }

    /// The connections as tonic's incoming stream.
    pub fn into_incoming(self) -> impl Stream<Item = std::io::Result<TlsConnection>> + Send {
        tokio_stream::wrappers::ReceiverStream::new(self.accepted)
            .map(|(stream, _)| Ok(TlsConnection(stream)))
    }
}

async fn accept_loop(
    mut tcp: std::pin::Pin<Box<dyn Stream<Item = std::io::Result<TcpStream>> + Send>>,
    acceptor: TlsAcceptor,
    sender: mpsc::Sender<(TlsStream<TcpStream>, SocketAddr)>,
) {
    loop {
        let connection = tokio::select! {
            () = sender.closed() => return,
            next = tcp.next() => match next {
                Some(Ok(connection)) => connection,
                Some(Err(error)) => {
                    tracing::debug!(%error, "accepting a TLS listener's connection failed");
                    continue;
                }
                None => return,
            },
        };
        let Ok(peer) = connection.peer_addr() else {
            continue;
        };
        let acceptor = acceptor.clone();
        let sender = sender.clone();
        tokio::spawn(async move {
            match tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(connection)).await {
                Ok(Ok(stream)) => {
                    let _ = sender.send((stream, peer)).await;
                }
                Ok(Err(error)) => tracing::debug!(%peer, %error, "TLS handshake failed"),
                Err(_) => tracing::debug!(%peer, "TLS handshake timed out"),
            }
        });
    }
}

impl axum::serve::Listener for TlsListener {
    type Io = TlsStream<TcpStream>;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        match self.accepted.recv().await {
            Some(accepted) => accepted,
            // The accept loop ends only once this listener is gone.
            None => std::future::pending().await,
        }
    }

    fn local_addr(&self) -> std::io::Result<Self::Addr> {
        Ok(self.local_addr)
    }
}

/// One TLS connection handed to tonic; its connection info is the TCP one, as without TLS.
#[derive(Debug)]
pub struct TlsConnection(TlsStream<TcpStream>);

impl Connected for TlsConnection {
    type ConnectInfo = TcpConnectInfo;

    fn connect_info(&self) -> Self::ConnectInfo {
        self.0.get_ref().0.connect_info()
    }
}

impl AsyncRead for TlsConnection {
    fn poll_read(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::pin::Pin::new(&mut self.0).poll_read(cx, buf)
    }
}

impl AsyncWrite for TlsConnection {
    fn poll_write(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        buf: &[u8],
    ) -> std::task::Poll<std::io::Result<usize>> {
        std::pin::Pin::new(&mut self.0).poll_write(cx, buf)
    }

    fn poll_flush(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::pin::Pin::new(&mut self.0).poll_flush(cx)
    }

    fn poll_shutdown(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::pin::Pin::new(&mut self.0).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> std::task::Poll<std::io::Result<usize>> {
        std::pin::Pin::new(&mut self.0).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.0.is_write_vectored()
    }
}
