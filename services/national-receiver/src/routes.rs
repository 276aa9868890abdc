//! The receiver's HTTP routes: the push endpoint of the national contract (with the injected
//! failures and delays), `GET /control/state`, `PUT /control/faults` and `/healthz`.
//!
//! The control endpoints read everything pushed and can make the receiver fail: they answer
//! only a caller bearing the control token (`--control-token`), which is not the push token,
//! and are off (403) when the receiver was started without one.

use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use axum::Router;
use dti_national_sync::national_api::PUSH_PATH;
use serde_json::{json, Value};

use crate::records::{decide, Records};
use crate::Faults;

/// Settings of the receiver.
#[derive(Debug, Clone, Default)]
pub struct ReceiverSettings {
    /// Bearer token pushes must carry, if any.
    pub token: Option<String>,
    /// Bearer token of the control endpoints; without one they are off.
    pub control_token: Option<String>,
    /// Faults to start with.
    pub faults: Faults,
}

#[derive(Debug)]
struct Shared {
    records: Mutex<Records>,
    token: Option<String>,
    control_token: Option<String>,
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
        records: Mutex::new(Records::with_faults(settings.faults)),
        token: settings.token,
        control_token: settings.control_token,
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

/// Whether `headers` carry `Authorization: Bearer <token>`, compared in constant time.
fn bears(headers: &HeaderMap, token: &str) -> bool {
    let expected = format!("Bearer {token}");
    let given = headers
        .get(http::header::AUTHORIZATION)
        .map(|v| v.as_bytes())
        .unwrap_or_default();
    given.len() == expected.len()
        && given
            .iter()
            .zip(expected.as_bytes())
            .fold(0_u8, |differs, (a, b)| differs | (a ^ b))
            == 0
}

/// Refuses a control request without the control token (or every one when there is none).
fn control_refusal(shared: &Shared, headers: &HeaderMap) -> Option<Response> {
    match &shared.control_token {
        None => Some(error(
            StatusCode::FORBIDDEN,
            "control endpoints are off: start the receiver with --control-token",
        )),
        Some(token) if !bears(headers, token) => Some(error(
            StatusCode::UNAUTHORIZED,
            "missing or wrong control token",
        )),
        Some(_) => None,
    }
}

fn handle_push(shared: &Shared, headers: &HeaderMap, body: &[u8]) -> Reply {
    let mut records = shared.records();
    records.state.requests += 1;
    if let Some(token) = &shared.token {
        if !bears(headers, token) {
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

async fn control_state(State(shared): State<Arc<Shared>>, headers: HeaderMap) -> Response {
    if let Some(refused) = control_refusal(&shared, &headers) {
        return refused;
    }
    let state = shared.records().state.clone();
    answer(
        StatusCode::OK,
        serde_json::to_value(state).unwrap_or(Value::Null),
    )
}

async fn control_faults(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if let Some(refused) = control_refusal(&shared, &headers) {
        return refused;
    }
    match serde_json::from_slice::<Faults>(&body) {
        Ok(faults) => {
            shared.records().state.faults = faults;
            answer(StatusCode::OK, json!({"ok": true}))
        }
        Err(e) => error(StatusCode::BAD_REQUEST, &format!("faults: {e}")),
    }
}
