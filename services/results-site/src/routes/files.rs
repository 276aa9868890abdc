//! The downloads: a round's ranking and a unit's scorecard as CSV or .xlsx, the published
//! snapshot byte for byte, its signature and the key that checks it.

use std::time::Instant;

use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, HeaderValue};
use axum::response::{IntoResponse, Response};
use dti_i18n::Message;

use super::answer::{attachment, cached, etag, finish};
use super::html::not_found;
use super::query::{cohort_result, page_query, published_scorecard, round_of, PageQuery};
use super::{Answer, AppState};
use crate::downloads;
use crate::error::SiteError;

#[derive(Debug, Clone, Copy)]
enum FileKind {
    Csv,
    Xlsx,
}

impl FileKind {
    fn content_type(self) -> &'static str {
        match self {
            Self::Csv => "text/csv; charset=utf-8",
            Self::Xlsx => "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        }
    }

    fn extension(self) -> &'static str {
        match self {
            Self::Csv => "csv",
            Self::Xlsx => "xlsx",
        }
    }

    fn write(self, table: &downloads::Table) -> Result<Vec<u8>, SiteError> {
        match self {
            Self::Csv => downloads::csv(table)
                .map_err(|error| SiteError::Unavailable(format!("writing the CSV: {error}"))),
            Self::Xlsx => downloads::xlsx(table)
                .map_err(|error| SiteError::Unavailable(format!("writing the workbook: {error}"))),
        }
    }
}

async fn ranking_file(
    site: AppState,
    (year, framework): (String, String),
    query: Result<Query<Vec<(String, String)>>, QueryRejection>,
    headers: HeaderMap,
    kind: FileKind,
) -> Answer {
    let PageQuery { links } = page_query(query, &headers, site.signer.is_some())?;
    let lang = links.lang;
    let (result, _) = cohort_result(&site, &year, &framework, links.revision)
        .await
        .map_err(|error| (lang, error))?;
    let name = format!(
        "dti-{}-{}-r{}-xep-hang.{}",
        result.round.year,
        result.round.framework,
        result.revision.revision,
        kind.extension()
    );
    let (registry_tag, registry) = site.registry.in_force();
    let response = cached(
        &headers,
        etag(
            &["ranking-file", kind.extension(), &registry_tag],
            Some(&result),
        ),
        kind.content_type(),
        None,
        || kind.write(&downloads::ranking_table(&result.ranking(&registry))),
    )
    .map_err(|error| (lang, error))?;
    Ok(attachment(response, &name))
}

pub(super) async fn ranking_csv(
    State(site): State<AppState>,
    Path(path): Path<(String, String)>,
    query: Result<Query<Vec<(String, String)>>, QueryRejection>,
    headers: HeaderMap,
) -> Response {
    let started = Instant::now();
    let answer = ranking_file(site, path, query, headers, FileKind::Csv).await;
    finish("ranking_csv", started, answer)
}

pub(super) async fn ranking_xlsx(
    State(site): State<AppState>,
    Path(path): Path<(String, String)>,
    query: Result<Query<Vec<(String, String)>>, QueryRejection>,
    headers: HeaderMap,
) -> Response {
    let started = Instant::now();
    let answer = ranking_file(site, path, query, headers, FileKind::Xlsx).await;
    finish("ranking_xlsx", started, answer)
}

async fn scorecard_file(
    site: AppState,
    (year, framework, unit): (String, String, String),
    query: Result<Query<Vec<(String, String)>>, QueryRejection>,
    headers: HeaderMap,
    kind: FileKind,
) -> Answer {
    let PageQuery { links } = page_query(query, &headers, site.signer.is_some())?;
    let lang = links.lang;
    let (result, _) = cohort_result(&site, &year, &framework, links.revision)
        .await
        .map_err(|error| (lang, error))?;
    let (registry_tag, registry) = site.registry.in_force();
    let scorecard = published_scorecard(&result, &registry, &unit, lang)?;
    let name = format!(
        "dti-{}-{}-r{}-{unit}.{}",
        result.round.year,
        result.round.framework,
        result.revision.revision,
        kind.extension()
    );
    let response = cached(
        &headers,
        etag(
            &["scorecard-file", kind.extension(), &unit, &registry_tag],
            Some(&result),
        ),
        kind.content_type(),
        None,
        || kind.write(&downloads::scorecard_table(&scorecard)),
    )
    .map_err(|error| (lang, error))?;
    Ok(attachment(response, &name))
}

pub(super) async fn scorecard_csv(
    State(site): State<AppState>,
    Path(path): Path<(String, String, String)>,
    query: Result<Query<Vec<(String, String)>>, QueryRejection>,
    headers: HeaderMap,
) -> Response {
    let started = Instant::now();
    let answer = scorecard_file(site, path, query, headers, FileKind::Csv).await;
    finish("scorecard_csv", started, answer)
}

pub(super) async fn scorecard_xlsx(
    State(site): State<AppState>,
    Path(path): Path<(String, String, String)>,
    query: Result<Query<Vec<(String, String)>>, QueryRejection>,
    headers: HeaderMap,
) -> Response {
    let started = Instant::now();
    let answer = scorecard_file(site, path, query, headers, FileKind::Xlsx).await;
    finish("scorecard_xlsx", started, answer)
}

/// The published snapshot, byte for byte the canonical JSON its content hash covers; the
/// hash is its ETag and `X-Content-SHA256`.
pub(super) async fn snapshot_json(
    state: State<AppState>,
    path: Path<(String, String)>,
    query: Result<Query<Vec<(String, String)>>, QueryRejection>,
    headers: HeaderMap,
) -> Response {
    snapshot_file(state, path, query, headers, SnapshotFile::Json).await
}

/// The site's Ed25519 signature of the snapshot's bytes (64 raw bytes, as `openssl pkeyutl`
/// reads it); 404 when the site has no signing key.
pub(super) async fn snapshot_signature(
    state: State<AppState>,
    path: Path<(String, String)>,
    query: Result<Query<Vec<(String, String)>>, QueryRejection>,
    headers: HeaderMap,
) -> Response {
    snapshot_file(state, path, query, headers, SnapshotFile::Signature).await
}

/// The public key that checks the signatures (SubjectPublicKeyInfo PEM).
pub(super) async fn signing_key(State(site): State<AppState>, headers: HeaderMap) -> Response {
    match &site.signer {
        Some(signer) => (
            [(header::CONTENT_TYPE, "application/x-pem-file")],
            signer.public_pem().to_owned(),
        )
            .into_response(),
        None => not_found(headers).await,
    }
}

/// A snapshot download: the JSON itself or its signature.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum SnapshotFile {
    Json,
    Signature,
}

async fn snapshot_file(
    State(site): State<AppState>,
    Path((year, framework)): Path<(String, String)>,
    query: Result<Query<Vec<(String, String)>>, QueryRejection>,
    headers: HeaderMap,
    kind: SnapshotFile,
) -> Response {
    let started = Instant::now();
    let answer = async {
        let PageQuery { links } = page_query(query, &headers, site.signer.is_some())?;
        let lang = links.lang;
        let round = round_of(&site, &year, &framework).map_err(|error| (lang, error))?;
        let revision = site
            .publications
            .revision(&round, links.revision)
            .await
            .map_err(|error| (lang, error))?;
        let hash = revision.content_hash.clone();
        let mut response = match (kind, &site.signer) {
            (SnapshotFile::Json, _) => cached(
                &headers,
                format!("\"{hash}\""),
                "application/json",
                None,
                || Ok(revision.canonical_json.clone()),
            ),
            (SnapshotFile::Signature, Some(signer)) => cached(
                &headers,
                format!("\"sig-{hash}\""),
                "application/octet-stream",
                None,
                || Ok(signer.sign(&revision.canonical_json).to_vec()),
            ),
            (SnapshotFile::Signature, None) => {
                Err(SiteError::NotFound(Message::new("site-not-signing")))
            }
        }
        .map_err(|error| (lang, error))?;
        let out = response.headers_mut();
        if let Ok(value) = HeaderValue::from_str(&hash) {
            out.insert("x-content-sha256", value);
        }
        if links.revision.is_some() {
            out.insert(
                header::CACHE_CONTROL,
                HeaderValue::from_static("public, max-age=31536000, immutable"),
            );
        }
        Ok(attachment(
            response,
            &format!(
                "dti-{}-{}-r{}.json{}",
                round.year,
                round.framework,
                revision.revision,
                if kind == SnapshotFile::Signature {
                    ".sig"
                } else {
                    ""
                }
            ),
        ))
    }
    .await;
    finish("snapshot", started, answer)
}
