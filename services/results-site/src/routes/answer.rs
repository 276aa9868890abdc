//! How an answer goes out: an ETag per rendered revision (a hash of everything the page
//! shows) answered with 304 on `If-None-Match` before anything is rendered, the cache
//! headers, a download's file name, and a refusal turned into a page in the reader's
//! language; every answer counted and timed.

use std::future::Future;
use std::time::Instant;

use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use sha2::{Digest, Sha256};

use super::{Answer, REQUESTS, REQUEST_DURATION};
use crate::error::SiteError;
use crate::i18n::Lang;
use crate::pages;
use crate::results::CohortResult;

/// The ETag of a rendered page of `result`.
pub(super) fn etag(parts: &[&str], result: Option<&CohortResult>) -> String {
    let mut hasher = Sha256::new();
    hasher.update(env!("CARGO_PKG_VERSION"));
    for part in parts {
        hasher.update([0]);
        hasher.update(part);
    }
    if let Some(result) = result {
        let revision = &result.revision;
        hasher.update([1]);
        hasher.update(&revision.content_hash);
        hasher.update(&revision.round_state);
        hasher.update(result.latest_revision.to_be_bytes());
        if let Some(until) = revision.provisional_until {
            hasher.update(until.to_rfc3339());
        }
        if let Some(previous) = &result.previous {
            hasher.update([2]);
            hasher.update(&previous.revision.content_hash);
        }
    }
    format!("\"{}\"", &hex::encode(hasher.finalize())[..32])
}

fn matches_etag(headers: &HeaderMap, etag: &str) -> bool {
    headers
        .get(header::IF_NONE_MATCH)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|value| {
            value
                .split(',')
                .map(|candidate| candidate.trim().trim_start_matches("W/"))
                .any(|candidate| candidate == etag || candidate == "*")
        })
}

/// 304 when the client holds `etag`, else `render()` with the ETag and cache headers.
pub(super) fn cached(
    headers: &HeaderMap,
    etag: String,
    content_type: &'static str,
    lang: Option<Lang>,
    render: impl FnOnce() -> Result<Vec<u8>, SiteError>,
) -> Result<Response, SiteError> {
    let mut response = if matches_etag(headers, &etag) {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        let body = render()?;
        let mut response = body.into_response();
        response
            .headers_mut()
            .insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
        response
    };
    let out = response.headers_mut();
    if let Ok(value) = HeaderValue::from_str(&etag) {
        out.insert(header::ETAG, value);
    }
    out.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, no-cache"),
    );
    out.insert(header::VARY, HeaderValue::from_static("Accept-Language"));
    if let Some(lang) = lang {
        out.insert(
            header::CONTENT_LANGUAGE,
            HeaderValue::from_static(lang.tag()),
        );
    }
    Ok(response)
}

pub(super) fn attachment(mut response: Response, file_name: &str) -> Response {
    if let Ok(value) = HeaderValue::from_str(&format!("attachment; filename=\"{file_name}\"")) {
        response
            .headers_mut()
            .insert(header::CONTENT_DISPOSITION, value);
    }
    response
}

/// Waits for `answer`, counts and times it as `page`, and turns a refusal into its page.
pub(super) async fn answered(page: &'static str, answer: impl Future<Output = Answer>) -> Response {
    let started = Instant::now();
    let response = match answer.await {
        Ok(response) => response,
        Err((lang, error)) => {
            let status = error.status();
            if status == StatusCode::SERVICE_UNAVAILABLE {
                tracing::warn!(%error, page, "page not served");
            }
            let message = error.message().render(lang.catalog_lang());
            let body = pages::error(lang, status, &message).into_string();
            let mut response = (status, body).into_response();
            response.headers_mut().insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/html; charset=utf-8"),
            );
            response
        }
    };
    metrics::counter!(REQUESTS, "page" => page, "status" => response.status().as_u16().to_string())
        .increment(1);
    metrics::histogram!(REQUEST_DURATION, "page" => page).record(started.elapsed().as_secs_f64());
    response
}
