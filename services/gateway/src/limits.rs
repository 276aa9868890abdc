//! Per-caller rate limiting (governor's keyed GCRA limiter): each bearer token, or a caller
//! without one by its address, gets `rate_limit_per_second` requests a second with bursts of
//! `rate_limit_burst`; past that the answer is 429 with `Retry-After`. Tokens are keyed by their
//! SHA-256 so the limiter never holds a token.

use std::net::SocketAddr;
use std::num::NonZeroU32;
use std::sync::Arc;

use axum::extract::{ConnectInfo, Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use http::header;
use sha2::{Digest, Sha256};

use crate::config::Settings;
use crate::errors::ApiError;

/// The gateway's limiter, keyed by caller.
pub type Limiter = DefaultKeyedRateLimiter<String>;

/// A limiter with the quota of `settings`.
pub fn limiter(settings: &Settings) -> Arc<Limiter> {
    let per_second = NonZeroU32::new(settings.rate_limit_per_second).unwrap_or(NonZeroU32::MIN);
    let burst = NonZeroU32::new(settings.rate_limit_burst).unwrap_or(NonZeroU32::MIN);
    Arc::new(RateLimiter::keyed(
        Quota::per_second(per_second).allow_burst(burst),
    ))
}

/// Who a request counts against: its token's hash, else its client address.
pub fn caller_key(request: &Request) -> String {
    if let Some(token) = request.headers().get(header::AUTHORIZATION) {
        return format!(
            "token:{}",
            hex::encode(&Sha256::digest(token.as_bytes())[..16])
        );
    }
    match request.extensions().get::<ConnectInfo<SocketAddr>>() {
        Some(ConnectInfo(addr)) => format!("addr:{}", addr.ip()),
        None => "anonymous".to_owned(),
    }
}

/// Middleware: passes the request on, or answers 429 with `Retry-After` (whole seconds, at
/// least 1) when its caller is over the quota.
pub async fn rate_limit(
    State(limiter): State<Arc<Limiter>>,
    request: Request,
    next: Next,
) -> Response {
    match limiter.check_key(&caller_key(&request)) {
        Ok(()) => next.run(request).await,
        Err(not_until) => {
            let wait = not_until.wait_time_from(DefaultClock::default().now());
            let secs = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
            metrics::counter!(crate::RATE_LIMITED).increment(1);
            ApiError::rate_limited(secs.max(1)).into_response()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(token: &str) -> Request {
        Request::builder()
            .header(header::AUTHORIZATION, token)
            .body(axum::body::Body::empty())
            .unwrap()
    }

    #[test]
    fn a_burst_per_token_then_refusal_and_other_tokens_are_unaffected() {
        let settings = Settings {
            rate_limit_per_second: 1,
            rate_limit_burst: 3,
            ..Settings::default()
        };
        let limiter = limiter(&settings);
        let first = caller_key(&request("Bearer one"));
        let second = caller_key(&request("Bearer two"));
        assert_ne!(first, second);
        assert!(!first.contains("one"), "the key does not hold the token");
        for _ in 0..3 {
            assert!(limiter.check_key(&first).is_ok());
        }
        assert!(limiter.check_key(&first).is_err());
        assert!(limiter.check_key(&second).is_ok());
    }
}
