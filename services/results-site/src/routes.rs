//! The HTTP routes: pages, downloads, the stylesheet and a bare health answer; query
//! parameters (`lang`, `revision`) checked once, with a 400 naming the parameter; an ETag per
//! rendered revision (a hash of everything the page shows: the revision's content hash, the
//! round's state, the previous year's revision, the language, the site's version) answered
//! with 304 on `If-None-Match` before anything is rendered. A refusal is a page in the
//! reader's language, its reason from the platform's catalogues.

use std::sync::Arc;
use std::time::Instant;

use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use chrono::Datelike;
use dti_domain::{FrameworkCatalog, FrameworkId, RoundRef, UnitRegistry};
use dti_i18n::Message;
use sha2::{Digest, Sha256};

use crate::downloads;
use crate::error::SiteError;
use crate::i18n::Lang;
use crate::pages::{self, LinkContext, ListedRound};
use crate::publications::Publications;
use crate::results::{CohortResult, PreviousYear};
use crate::signing::SnapshotSigner;
use crate::source::RevisionSummary;

/// Pages and downloads answered, by `page` and HTTP `status`.
pub const REQUESTS: &str = "dti_results_site_requests_total";
/// Seconds from request to answer, by `page`.
pub const REQUEST_DURATION: &str = "dti_results_site_request_duration_seconds";

/// The first year whose rounds the list of published results looks for.
pub const FIRST_YEAR: u16 = 2020;
/// Years outside this range are refused as malformed (400).
const YEARS: std::ops::RangeInclusive<u16> = 2000..=2100;

/// What every handler reads.
#[derive(Debug)]
pub struct Site {
    /// The published revisions.
    pub publications: Publications,
    /// Frameworks (names of groups and indicators).
    pub catalog: FrameworkCatalog,
    /// Units (Vietnamese names, lineage).
    pub registry: UnitRegistry,
    /// The key that signs snapshot downloads, when one is configured.
    pub signer: Option<SnapshotSigner>,
}

type AppState = Arc<Site>;

/// The site's router.
pub fn router(site: Arc<Site>) -> Router {
    Router::new()
        .route("/", get(index))
        .route("/healthz", get(healthz))
        .route("/assets/site.css", get(stylesheet))
        .route("/{year}/{framework}", get(ranking_page))
        .route("/{year}/{framework}/ranking.csv", get(ranking_csv))
        .route("/{year}/{framework}/ranking.xlsx", get(ranking_xlsx))
        .route("/{year}/{framework}/snapshot.json", get(snapshot_json))
        .route(
            "/{year}/{framework}/snapshot.json.sig",
            get(snapshot_signature),
        )
        .route("/signing-key.pem", get(signing_key))
        .route("/{year}/{framework}/units/{unit}", get(unit_page))
        .route(
            "/{year}/{framework}/units/{unit}/scorecard.csv",
            get(scorecard_csv),
        )
        .route(
            "/{year}/{framework}/units/{unit}/scorecard.xlsx",
            get(scorecard_xlsx),
        )
        .fallback(not_found)
        .with_state(site)
}

/// The query of a page: its language and the revision asked for.
#[derive(Debug, Clone, Copy)]
struct PageQuery {
    links: LinkContext,
}

type Answer = Result<Response, (Lang, SiteError)>;

/// `unit`'s scorecard in the published `result`, or a 404 in `lang`.
fn published_scorecard(
    result: &CohortResult,
    registry: &UnitRegistry,
    unit: &str,
    lang: Lang,
) -> Result<crate::results::Scorecard, (Lang, SiteError)> {
    result.scorecard(registry, unit).ok_or_else(|| {
        (
            lang,
            SiteError::NotFound(
                Message::new("site-unit-not-published")
                    .arg("unit", format!("{unit:?}"))
                    .arg("round", result.round.to_string()),
            ),
        )
    })
}

/// Reads `lang` and `revision`; anything else is refused, naming the parameter.
fn page_query(
    query: Result<Query<Vec<(String, String)>>, QueryRejection>,
    headers: &HeaderMap,
    signed: bool,
) -> Result<PageQuery, (Lang, SiteError)> {
    let accepted = Lang::from_accept_language(
        headers
            .get(header::ACCEPT_LANGUAGE)
            .and_then(|value| value.to_str().ok()),
    );
    let bad = |message: Message| (accepted, SiteError::BadRequest(message));
    let Query(pairs) = query.map_err(|rejection| {
        bad(Message::new("site-query-unreadable").arg("error", rejection.to_string()))
    })?;
    let mut lang = None;
    let mut revision = None;
    for (name, value) in pairs {
        match name.as_str() {
            "lang" if lang.is_none() => {
                lang = Some(Lang::from_query(&value).ok_or_else(|| {
                    bad(Message::new("site-bad-lang").arg("value", format!("{value:?}")))
                })?);
            }
            "revision" if revision.is_none() => {
                let number = value
                    .parse::<u32>()
                    .ok()
                    .filter(|number| *number >= 1)
                    .ok_or_else(|| {
                        bad(Message::new("site-bad-revision").arg("value", format!("{value:?}")))
                    })?;
                revision = Some(number);
            }
            "lang" | "revision" => {
                return Err(bad(
                    Message::new("site-parameter-twice").arg("name", name.as_str())
                ))
            }
            _ => {
                return Err(bad(
                    Message::new("site-unknown-parameter").arg("name", name.as_str())
                ))
            }
        }
    }
    Ok(PageQuery {
        links: LinkContext {
            lang: lang.unwrap_or(accepted),
            explicit_lang: lang.is_some(),
            revision,
            signed,
        },
    })
}

/// The round a path names: a malformed year is a 400, an unknown framework (or one collected by
/// national sync, never published in rounds) a 404.
fn round_of(site: &Site, year: &str, framework: &str) -> Result<RoundRef, SiteError> {
    let number = year
        .parse::<u16>()
        .ok()
        .filter(|number| YEARS.contains(number))
        .ok_or_else(|| {
            SiteError::BadRequest(Message::new("site-bad-year").arg("year", format!("{year:?}")))
        })?;
    let known = site
        .catalog
        .get_str(framework)
        .filter(|known| known.scored)
        .ok_or_else(|| SiteError::NotFound(no_cohort(framework)))?;
    Ok(RoundRef {
        year: number,
        framework: known.id.clone(),
    })
}

/// The refusal of a cohort (framework) that is not published in rounds.
fn no_cohort(framework: &str) -> Message {
    Message::new("site-no-cohort").arg("framework", format!("{framework:?}"))
}

/// The revision asked for, its round's revisions, and the previous year's result.
async fn cohort_result(
    site: &Site,
    year: &str,
    framework: &str,
    revision: Option<u32>,
) -> Result<(CohortResult, Arc<Vec<RevisionSummary>>), SiteError> {
    let round = round_of(site, year, framework)?;
    let framework = site
        .catalog
        .get(&round.framework)
        .cloned()
        .ok_or_else(|| SiteError::NotFound(no_cohort(framework)))?;
    let shown = site.publications.revision(&round, revision).await?;
    let listing = site.publications.listing(&round).await?;
    let latest_revision = listing.last().map_or(shown.revision, |last| last.revision);
    let previous = previous_year(site, &round, &framework).await?;
    Ok((
        CohortResult {
            round,
            framework,
            revision: shown,
            latest_revision,
            previous,
        },
        listing,
    ))
}

/// The latest published revision of the year before, for a cohort of the same kind of unit
/// (the same framework first).
async fn previous_year(
    site: &Site,
    round: &RoundRef,
    framework: &dti_domain::Framework,
) -> Result<Option<PreviousYear>, SiteError> {
    let Some(year) = round.year.checked_sub(1) else {
        return Ok(None);
    };
    let mut candidates: Vec<FrameworkId> = vec![framework.id.clone()];
    candidates.extend(
        site.catalog
            .iter()
            .filter(|other| {
                other.scored && other.unit_kind == framework.unit_kind && other.id != framework.id
            })
            .map(|other| other.id.clone()),
    );
    for id in candidates {
        let previous = RoundRef {
            year,
            framework: id,
        };
        if site.publications.listing(&previous).await?.is_empty() {
            continue;
        }
        let revision = site.publications.revision(&previous, None).await?;
        return Ok(Some(PreviousYear {
            round: previous,
            revision,
        }));
    }
    Ok(None)
}

/// The ETag of a rendered page of `result`.
fn etag(parts: &[&str], result: Option<&CohortResult>) -> String {
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
fn cached(
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

fn attachment(mut response: Response, file_name: &str) -> Response {
    if let Ok(value) = HeaderValue::from_str(&format!("attachment; filename=\"{file_name}\"")) {
        response
            .headers_mut()
            .insert(header::CONTENT_DISPOSITION, value);
    }
    response
}

/// Counts and times the answer, and turns a refusal into its page.
fn finish(page: &'static str, started: Instant, answer: Answer) -> Response {
    let response = match answer {
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

const HTML: &str = "text/html; charset=utf-8";

async fn healthz() -> &'static str {
    "ok"
}

async fn stylesheet() -> Response {
    let mut response = pages::STYLESHEET.into_response();
    let out = response.headers_mut();
    out.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/css; charset=utf-8"),
    );
    out.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=3600"),
    );
    response
}

async fn not_found(headers: HeaderMap) -> Response {
    let lang = Lang::from_accept_language(
        headers
            .get(header::ACCEPT_LANGUAGE)
            .and_then(|value| value.to_str().ok()),
    );
    finish(
        "not_found",
        Instant::now(),
        Err((lang, SiteError::NotFound(Message::new("site-no-such-page")))),
    )
}

async fn index(
    State(site): State<AppState>,
    query: Result<Query<Vec<(String, String)>>, QueryRejection>,
    headers: HeaderMap,
) -> Response {
    let started = Instant::now();
    let answer = async {
        let PageQuery { links } = page_query(query, &headers, site.signer.is_some())?;
        let lang = links.lang;
        let mut rounds = Vec::new();
        let mut hashes = vec![lang.tag().to_owned()];
        let this_year = u16::try_from(chrono::Utc::now().year()).unwrap_or(u16::MAX);
        for year in (FIRST_YEAR..=this_year).rev() {
            for framework in site.catalog.iter().filter(|framework| framework.scored) {
                let round = RoundRef {
                    year,
                    framework: framework.id.clone(),
                };
                let listing = site
                    .publications
                    .listing(&round)
                    .await
                    .map_err(|e| (lang, e))?;
                let Some(latest) = listing.last() else {
                    continue;
                };
                hashes.push(format!("{round}/{}", latest.content_hash));
                rounds.push(ListedRound {
                    year,
                    framework: framework.id.as_str().to_owned(),
                    cohort_name: lang.text(crate::i18n::cohort_key(framework.unit_kind)),
                    title: framework.title.clone(),
                    revisions: latest.revision,
                });
            }
        }
        let parts: Vec<&str> = hashes.iter().map(String::as_str).collect();
        cached(&headers, etag(&parts, None), HTML, Some(lang), || {
            Ok(pages::index(&links, &rounds).into_string().into_bytes())
        })
        .map_err(|error| (lang, error))
    }
    .await;
    finish("index", started, answer)
}

async fn ranking_page(
    State(site): State<AppState>,
    Path((year, framework)): Path<(String, String)>,
    query: Result<Query<Vec<(String, String)>>, QueryRejection>,
    headers: HeaderMap,
) -> Response {
    let started = Instant::now();
    let answer = async {
        let PageQuery { links } = page_query(query, &headers, site.signer.is_some())?;
        let lang = links.lang;
        let (result, listing) = cohort_result(&site, &year, &framework, links.revision)
            .await
            .map_err(|error| (lang, error))?;
        cached(
            &headers,
            etag(&["ranking", lang.tag()], Some(&result)),
            HTML,
            Some(lang),
            || {
                let ranking = result.ranking(&site.registry);
                Ok(pages::ranking(&links, &result, &ranking, &listing)
                    .into_string()
                    .into_bytes())
            },
        )
        .map_err(|error| (lang, error))
    }
    .await;
    finish("ranking", started, answer)
}

async fn unit_page(
    State(site): State<AppState>,
    Path((year, framework, unit)): Path<(String, String, String)>,
    query: Result<Query<Vec<(String, String)>>, QueryRejection>,
    headers: HeaderMap,
) -> Response {
    let started = Instant::now();
    let answer = async {
        let PageQuery { links } = page_query(query, &headers, site.signer.is_some())?;
        let lang = links.lang;
        let (result, listing) = cohort_result(&site, &year, &framework, links.revision)
            .await
            .map_err(|error| (lang, error))?;
        let scorecard = published_scorecard(&result, &site.registry, &unit, lang)?;
        let mut by_revision = Vec::with_capacity(listing.len());
        let mut hashes = Vec::with_capacity(listing.len());
        for summary in listing.iter() {
            let revision = site
                .publications
                .revision(&result.round, Some(summary.revision))
                .await
                .map_err(|error| (lang, error))?;
            hashes.push(revision.content_hash.clone());
            by_revision.push(
                revision
                    .snapshot
                    .unit(&unit)
                    .map(|entry| (entry.rank, entry.total.clone())),
            );
        }
        let mut parts = vec!["unit", lang.tag(), unit.as_str()];
        parts.extend(hashes.iter().map(String::as_str));
        cached(
            &headers,
            etag(&parts, Some(&result)),
            HTML,
            Some(lang),
            || {
                Ok(
                    pages::unit(&links, &result, &scorecard, &listing, &by_revision)
                        .into_string()
                        .into_bytes(),
                )
            },
        )
        .map_err(|error| (lang, error))
    }
    .await;
    finish("unit", started, answer)
}

/// Which file of a table.
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
    let response = cached(
        &headers,
        etag(&["ranking-file", kind.extension()], Some(&result)),
        kind.content_type(),
        None,
        || kind.write(&downloads::ranking_table(&result.ranking(&site.registry))),
    )
    .map_err(|error| (lang, error))?;
    Ok(attachment(response, &name))
}

async fn ranking_csv(
    State(site): State<AppState>,
    Path(path): Path<(String, String)>,
    query: Result<Query<Vec<(String, String)>>, QueryRejection>,
    headers: HeaderMap,
) -> Response {
    let started = Instant::now();
    let answer = ranking_file(site, path, query, headers, FileKind::Csv).await;
    finish("ranking_csv", started, answer)
}

async fn ranking_xlsx(
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
    let scorecard = published_scorecard(&result, &site.registry, &unit, lang)?;
    let name = format!(
        "dti-{}-{}-r{}-{unit}.{}",
        result.round.year,
        result.round.framework,
        result.revision.revision,
        kind.extension()
    );
    let response = cached(
        &headers,
        etag(&["scorecard-file", kind.extension(), &unit], Some(&result)),
        kind.content_type(),
        None,
        || kind.write(&downloads::scorecard_table(&scorecard)),
    )
    .map_err(|error| (lang, error))?;
    Ok(attachment(response, &name))
}

async fn scorecard_csv(
    State(site): State<AppState>,
    Path(path): Path<(String, String, String)>,
    query: Result<Query<Vec<(String, String)>>, QueryRejection>,
    headers: HeaderMap,
) -> Response {
    let started = Instant::now();
    let answer = scorecard_file(site, path, query, headers, FileKind::Csv).await;
    finish("scorecard_csv", started, answer)
}

async fn scorecard_xlsx(
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
async fn snapshot_json(
    state: State<AppState>,
    path: Path<(String, String)>,
    query: Result<Query<Vec<(String, String)>>, QueryRejection>,
    headers: HeaderMap,
) -> Response {
    snapshot_file(state, path, query, headers, SnapshotFile::Json).await
}

/// The site's Ed25519 signature of the snapshot's bytes (64 raw bytes, as `openssl pkeyutl`
/// reads it); 404 when the site has no signing key.
async fn snapshot_signature(
    state: State<AppState>,
    path: Path<(String, String)>,
    query: Result<Query<Vec<(String, String)>>, QueryRejection>,
    headers: HeaderMap,
) -> Response {
    snapshot_file(state, path, query, headers, SnapshotFile::Signature).await
}

/// The public key that checks the signatures (SubjectPublicKeyInfo PEM).
async fn signing_key(State(site): State<AppState>, headers: HeaderMap) -> Response {
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
