//! The reference receiver: a small server of the national push contract
//! (`docs/national-sync.md`), run by the tests for real and usable for demos. It records every
//! push it accepts, dedupes by idempotency key (a repeated key gets the first answer again; the
//! same key with another body is refused with 422), and can be told to misbehave:
//! fail the next N requests with a status (not processed), answer the next N requests only
//! after a delay (processed first, so a client that times out has in fact been recorded), and
//! reject chosen items with a reason.
//!
//! Control endpoints (loopback tests and demos): `GET /control/state`, `PUT /control/faults`.
//! HTTPS when given a certificate chain and key (rustls on ring).

use std::collections::{BTreeMap, HashMap};
use std::net::SocketAddr;
use std::path::Path;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use axum::Router;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use tokio::net::{TcpListener, TcpStream};
use tokio_rustls::server::TlsStream;
use tokio_rustls::TlsAcceptor;

use crate::content::canonical_json;
use crate::national_api::{PushBody, PushDecision, IDEMPOTENCY_HEADER, PUSH_PATH, PUSH_SCHEMA};

/// How long a TLS handshake may take.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(5);

/// How the receiver should misbehave.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Faults {
    /// Fail this many next pushes without processing them.
    pub fail_next: u32,
    /// Status of those failures (default 503).
    pub fail_status: Option<u16>,
    /// Answer this many next pushes only after `delay_ms` (they are processed first).
    pub delay_next: u32,
    /// The delay.
    pub delay_ms: u64,
    /// Item codes (indicator code or general-information key) → rejection reason.
    pub reject: BTreeMap<String, String>,
}

/// A push the receiver accepted.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AcceptedPush {
    /// Idempotency key.
    pub idempotency_key: String,
    /// Receipt given.
    pub receipt: String,
    /// Year.
    pub year: u16,
    /// `indicator` or `general_info`.
    pub kind: String,
    /// Code or key.
    pub code: String,
    /// Value version.
    pub value_version: i32,
    /// Value.
    pub value: Value,
}

/// A push the receiver rejected.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RejectedPush {
    /// Idempotency key.
    pub idempotency_key: String,
    /// Code or key.
    pub code: String,
    /// Reason given.
    pub reason: String,
}

/// What the receiver has seen (`GET /control/state`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ReceiverState {
    /// Accepted pushes, in order.
    pub accepted: Vec<AcceptedPush>,
    /// Rejected pushes, in order.
    pub rejected: Vec<RejectedPush>,
    /// Push requests received, of any outcome.
    pub requests: u64,
    /// Requests answered from the idempotency record (a key seen before).
    pub replays: u64,
    /// Requests failed by a fault.
    pub injected_failures: u64,
    /// Requests answered late by a fault.
    pub delayed: u64,
    /// The faults still to apply.
    pub faults: Faults,
}

#[derive(Debug)]
struct Answer {
    body_hash: [u8; 32],
    decision: PushDecision,
}

#[derive(Debug, Default)]
struct Records {
    state: ReceiverState,
    answers: HashMap<String, Answer>,
}

/// Settings of the receiver.
#[derive(Debug, Clone, Default)]
pub struct ReceiverSettings {
    /// Bearer token pushes must carry, if any.
    pub token: Option<String>,
    /// Faults to start with.
    pub faults: Faults,
}

#[derive(Debug)]
struct Shared {
    records: Mutex<Records>,
    token: Option<String>,
}

impl Shared {
    fn records(&self) -> MutexGuard<'_, Records> {
        // A panic while holding the lock leaves plain data; keep serving it.
        self.records
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// The receiver's HTTP routes.
pub fn router(settings: ReceiverSettings) -> Router {
    let shared = Arc::new(Shared {
        records: Mutex::new(Records {
            state: ReceiverState {
                faults: settings.faults,
                ..ReceiverState::default()
            },
            answers: HashMap::new(),
        }),
        token: settings.token,
    });
    Router::new()
        .route(PUSH_PATH, post(receive_push))
        .route("/control/state", get(control_state))
        .route("/control/faults", put(control_faults))
        .route("/healthz", get(|| async { "ok" }))
        .with_state(shared)
}

fn answer(status: StatusCode, body: Value) -> Response {
    (
        status,
        [(http::header::CONTENT_TYPE, "application/json")],
        body.to_string(),
    )
        .into_response()
}

fn error(status: StatusCode, message: &str) -> Response {
    answer(status, json!({"error": message}))
}

/// What to do after recording a push.
enum Reply {
    Now(Response),
    Late(Response, Duration),
}

async fn receive_push(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    match handle_push(&shared, &headers, &body) {
        Reply::Now(response) => response,
        Reply::Late(response, delay) => {
            tokio::time::sleep(delay).await;
            response
        }
    }
}

fn handle_push(shared: &Shared, headers: &HeaderMap, body: &[u8]) -> Reply {
    let mut records = shared.records();
    records.state.requests += 1;
    if let Some(token) = &shared.token {
        let expected = format!("Bearer {token}");
        let given = headers
            .get(http::header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok());
        if given != Some(expected.as_str()) {
            return Reply::Now(error(
                StatusCode::UNAUTHORIZED,
                "missing or wrong bearer token",
            ));
        }
    }
    let faults = &mut records.state.faults;
    if faults.fail_next > 0 {
        faults.fail_next -= 1;
        let status = faults
            .fail_status
            .and_then(|s| StatusCode::from_u16(s).ok())
            .unwrap_or(StatusCode::SERVICE_UNAVAILABLE);
        records.state.injected_failures += 1;
        return Reply::Now(error(status, "temporarily unavailable (injected fault)"));
    }
    let response = match decide(&mut records, headers, body) {
        Ok(decision) => answer(
            StatusCode::OK,
            serde_json::to_value(&decision).unwrap_or(Value::Null),
        ),
        Err((status, message)) => error(status, &message),
    };
    let faults = &mut records.state.faults;
    if faults.delay_next > 0 {
        faults.delay_next -= 1;
        let delay = Duration::from_millis(faults.delay_ms);
        records.state.delayed += 1;
        return Reply::Late(response, delay);
    }
    Reply::Now(response)
}

/// Checks the push and decides, or replays the first decision for a known key.
fn decide(
    records: &mut Records,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<PushDecision, (StatusCode, String)> {
    let bad = |message: String| (StatusCode::BAD_REQUEST, message);
    let key = headers
        .get(IDEMPOTENCY_HEADER)
        .and_then(|v| v.to_str().ok())
        .filter(|k| !k.trim().is_empty())
        .ok_or_else(|| bad(format!("header {IDEMPOTENCY_HEADER} is required")))?
        .to_owned();
    let raw: Value =
        serde_json::from_slice(body).map_err(|e| bad(format!("body is not JSON: {e}")))?;
    let body_hash: [u8; 32] = Sha256::digest(canonical_json(&raw).as_bytes()).into();
    if let Some(previous) = records.answers.get(&key) {
        if previous.body_hash != body_hash {
            return Err((
                StatusCode::UNPROCESSABLE_ENTITY,
                format!("idempotency key {key} was used with a different body"),
            ));
        }
        records.state.replays += 1;
        return Ok(previous.decision.clone());
    }
    let push: PushBody = serde_json::from_value(raw)
        .map_err(|e| bad(format!("body does not fit {PUSH_SCHEMA}: {e}")))?;
    if push.schema != PUSH_SCHEMA {
        return Err(bad(format!("schema must be {PUSH_SCHEMA}")));
    }
    if push.idempotency_key != key {
        return Err(bad("idempotency_key differs from the header".into()));
    }
    let decision = match records.state.faults.reject.get(&push.item.code) {
        Some(reason) => {
            records.state.rejected.push(RejectedPush {
                idempotency_key: key.clone(),
                code: push.item.code.clone(),
                reason: reason.clone(),
            });
            PushDecision::Rejected {
                reason: reason.clone(),
            }
        }
        None => {
            let receipt = format!("NAT-{}-{:06}", push.year, records.state.accepted.len() + 1);
            records.state.accepted.push(AcceptedPush {
                idempotency_key: key.clone(),
                receipt: receipt.clone(),
                year: push.year,
                kind: push.item.kind.clone(),
                code: push.item.code.clone(),
                value_version: push.value_version,
                value: push.value.clone(),
            });
            PushDecision::Accepted { receipt }
        }
    };
    records.answers.insert(
        key,
        Answer {
            body_hash,
            decision: decision.clone(),
        },
    );
    Ok(decision)
}

async fn control_state(State(shared): State<Arc<Shared>>) -> Response {
    let state = shared.records().state.clone();
    answer(
        StatusCode::OK,
        serde_json::to_value(state).unwrap_or(Value::Null),
    )
}

async fn control_faults(State(shared): State<Arc<Shared>>, body: Bytes) -> Response {
    match serde_json::from_slice::<Faults>(&body) {
        Ok(faults) => {
            shared.records().state.faults = faults;
            answer(StatusCode::OK, json!({"ok": true}))
        }
        Err(e) => error(StatusCode::BAD_REQUEST, &format!("faults: {e}")),
    }
}

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
}

/// A TLS acceptor from PEM files of the certificate chain and private key.
pub fn tls_acceptor(cert_chain: &Path, private_key: &Path) -> Result<TlsAcceptor, ReceiverError> {
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::PrivateKeyDer;
    let chain = crate::national_api::read_certificates(cert_chain)
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

#[cfg(test)]
mod tests {
    use super::*;

    fn body(key: &str, code: &str) -> Vec<u8> {
        serde_json::to_vec(&json!({
            "schema": PUSH_SCHEMA,
            "province": "79",
            "framework": "mic-2022-province",
            "year": 2024,
            "item": {"kind": "indicator", "code": code, "name": "x"},
            "value_version": 1,
            "value": {"yes": true},
            "combine": "single",
            "owners": [],
            "idempotency_key": key,
        }))
        .unwrap()
    }

    fn headers(key: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(IDEMPOTENCY_HEADER, key.parse().unwrap());
        headers
    }

    #[test]
    fn a_repeated_key_gets_the_first_answer_and_a_changed_body_is_refused() {
        let mut records = Records::default();
        let first = decide(&mut records, &headers("k1"), &body("k1", "1.1")).unwrap();
        let again = decide(&mut records, &headers("k1"), &body("k1", "1.1")).unwrap();
        assert_eq!(first, again);
        assert_eq!(records.state.accepted.len(), 1);
        assert_eq!(records.state.replays, 1);
        let conflict = decide(&mut records, &headers("k1"), &body("k1", "1.2")).unwrap_err();
        assert_eq!(conflict.0, StatusCode::UNPROCESSABLE_ENTITY);
    }

    #[test]
    fn chosen_items_are_rejected_with_their_reason() {
        let mut records = Records::default();
        records.state.faults.reject.insert(
            "6.22".into(),
            "exceeds the province's reported budget".into(),
        );
        let decision = decide(&mut records, &headers("k2"), &body("k2", "6.22")).unwrap();
        assert_eq!(
            decision,
            PushDecision::Rejected {
                reason: "exceeds the province's reported budget".into()
            }
        );
        assert!(decide(&mut records, &HeaderMap::new(), &body("k3", "1.1")).is_err());
    }
}
