//! The downloads: a round's ranking and a unit's scorecard as CSV or .xlsx, the published
//! snapshot byte for byte, its signature and the key that checks it.

use std::future::Future;

use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, HeaderValue};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, MethodRouter};
use dti_i18n::Message;
use serde::de::DeserializeOwned;

use super::answer::{answered, attachment, cached, etag};
use super::html::not_found;
use super::query::{page_query, published_round, round_of, PageQuery, PublishedRound, RawQuery};
use super::{Answer, AppState};
use crate::downloads;
use crate::error::SiteError;

/// The form of a table download.
#[derive(Debug, Clone, Copy)]
pub(super) enum FileKind {
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

/// The route of a `kind` table download that `file` answers; `page` names it in the request
/// metrics.
pub(super) fn download<P, F, Fut>(
    kind: FileKind,
    page: &'static str,
    file: F,
) -> MethodRouter<AppState>
where
    P: DeserializeOwned + Send + 'static,
    F: Fn(AppState, P, RawQuery, HeaderMap, FileKind) -> Fut + Clone + Send + Sync + 'static,
    Fut: Future<Output = Answer> + Send + 'static,
{
    get(
        move |State(site): State<AppState>,
              Path(path): Path<P>,
              query: RawQuery,
              headers: HeaderMap| async move {
            answered(page, file(site, path, query, headers, kind)).await
        },
    )
}

/// A round's ranking.
pub(super) async fn ranking_file(
    site: AppState,
    (year, framework): (String, String),
    query: RawQuery,
    headers: HeaderMap,
    kind: FileKind,
) -> Answer {
    let published = published_round(&site, &year, &framework, query, &headers).await?;
    let table = || downloads::ranking_table(&published.result.ranking(&published.registry));
    table_file(
        kind,
        &published,
        &headers,
        ["ranking-file", "xep-hang"],
        table,
    )
}

/// A unit's scorecard.
pub(super) async fn scorecard_file(
    site: AppState,
    (year, framework, unit): (String, String, String),
    query: RawQuery,
    headers: HeaderMap,
    kind: FileKind,
) -> Answer {
    let published = published_round(&site, &year, &framework, query, &headers).await?;
    let scorecard = published.scorecard(&unit)?;
    let table = || downloads::scorecard_table(&scorecard);
    table_file(kind, &published, &headers, ["scorecard-file", &unit], table)
}

/// The `kind` file of a `table` of the `published` result: `[download, name]` name the download
/// in its ETag, and the file after the round and the revision.
fn table_file(
    kind: FileKind,
    published: &PublishedRound,
    headers: &HeaderMap,
    [download, name]: [&str; 2],
    table: impl FnOnce() -> downloads::Table,
) -> Answer {
    let PublishedRound {
        links,
        result,
        registry_tag,
        ..
    } = published;
    let parts = [download, kind.extension(), name, registry_tag];
    let response = cached(
        headers,
        etag(&parts, Some(result)),
        kind.content_type(),
        None,
        || kind.write(&table()),
    )
    .map_err(|error| (links.lang, error))?;
    let name = format!(
        "dti-{}-{}-r{}-{name}.{}",
        result.round.year,
        result.round.framework,
        result.revision.revision,
        kind.extension()
    );
    Ok(attachment(response, &name))
}

/// The published snapshot, byte for byte the canonical JSON its content hash covers; the
/// hash is its ETag and `X-Content-SHA256`.
pub(super) async fn snapshot_json(
    state: State<AppState>,
    path: Path<(String, String)>,
    query: RawQuery,
    headers: HeaderMap,
) -> Response {
    snapshot_file(state, path, query, headers, SnapshotFile::Json).await
}

/// The site's Ed25519 signature of the snapshot's bytes (64 raw bytes, as `openssl pkeyutl`
/// reads it); 404 when the site has no signing key.
pub(super) async fn snapshot_signature(
    state: State<AppState>,
    path: Path<(String, String)>,
    query: RawQuery,
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
    query: RawQuery,
    headers: HeaderMap,
    kind: SnapshotFile,
) -> Response {
    answered("snapshot", async {
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
    })
    .await
}
