//! What the receiver records and how it decides a push: the faults it is told to apply, the
//! pushes it accepted and rejected, and the idempotency record that replays the first answer
//! for a repeated key (and refuses the same key with another body).

use std::collections::{BTreeMap, HashMap};

use axum::http::{HeaderMap, StatusCode};
use dti_national_sync::content::canonical_json;
use dti_national_sync::national_api::{PushBody, PushDecision, IDEMPOTENCY_HEADER, PUSH_SCHEMA};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest, Sha256};

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

/// The first answer given to an idempotency key, and a hash of the body it came with.
#[derive(Debug)]
struct Answer {
    body_hash: [u8; 32],
    decision: PushDecision,
}

/// Everything the receiver remembers: what it has seen and the answer to each key.
#[derive(Debug, Default)]
pub(crate) struct Records {
    pub(crate) state: ReceiverState,
    answers: HashMap<String, Answer>,
}

impl Records {
    /// Nothing seen yet; `faults` to apply.
    pub(crate) fn with_faults(faults: Faults) -> Self {
        Self {
            state: ReceiverState {
                faults,
                ..ReceiverState::default()
            },
            answers: HashMap::new(),
        }
    }
}

/// Checks the push and decides, or replays the first decision for a known key.
pub(crate) fn decide(
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

#[cfg(test)]
mod tests {
    use serde_json::json;

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
