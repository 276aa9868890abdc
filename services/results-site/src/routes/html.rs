//! The pages: the list of published results, a round's ranking, a unit's scorecard; the
//! stylesheet, the bare health answer and the page of a path that names nothing.

use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, HeaderValue};
use axum::response::{IntoResponse, Response};
use chrono::Datelike;
use dti_domain::RoundRef;
use dti_i18n::Message;

use super::answer::{answered, cached, etag};
use super::query::{page_query, published_round, PageQuery, RawQuery};
use super::{AppState, FIRST_YEAR, HTML};
use crate::error::SiteError;
use crate::i18n::Lang;
use crate::pages::{self, ListedRound};

pub(super) async fn healthz() -> &'static str {
    "ok"
}

pub(super) async fn stylesheet() -> Response {
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

pub(super) async fn not_found(headers: HeaderMap) -> Response {
    let lang = Lang::from_accept_language(
        headers
            .get(header::ACCEPT_LANGUAGE)
            .and_then(|value| value.to_str().ok()),
    );
    let refusal = SiteError::NotFound(Message::new("site-no-such-page"));
    answered("not_found", async { Err((lang, refusal)) }).await
}

pub(super) async fn index(
    State(site): State<AppState>,
    query: RawQuery,
    headers: HeaderMap,
) -> Response {
    answered("index", async {
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
    })
    .await
}

pub(super) async fn ranking_page(
    State(site): State<AppState>,
    Path((year, framework)): Path<(String, String)>,
    query: RawQuery,
    headers: HeaderMap,
) -> Response {
    answered("ranking", async {
        let published = published_round(&site, &year, &framework, query, &headers).await?;
        let (links, result) = (&published.links, &published.result);
        let lang = links.lang;
        cached(
            &headers,
            etag(
                &["ranking", lang.tag(), &published.registry_tag],
                Some(result),
            ),
            HTML,
            Some(lang),
            || {
                let ranking = result.ranking(&published.registry);
                Ok(pages::ranking(links, result, &ranking, &published.listing)
                    .into_string()
                    .into_bytes())
            },
        )
        .map_err(|error| (lang, error))
    })
    .await
}

pub(super) async fn unit_page(
    State(site): State<AppState>,
    Path((year, framework, unit)): Path<(String, String, String)>,
    query: RawQuery,
    headers: HeaderMap,
) -> Response {
    answered("unit", async {
        let published = published_round(&site, &year, &framework, query, &headers).await?;
        let (links, result, listing) = (&published.links, &published.result, &published.listing);
        let lang = links.lang;
        let scorecard = published.scorecard(&unit)?;
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
        let registry_tag = published.registry_tag.as_str();
        let mut parts = vec!["unit", lang.tag(), unit.as_str(), registry_tag];
        parts.extend(hashes.iter().map(String::as_str));
        cached(
            &headers,
            etag(&parts, Some(result)),
            HTML,
            Some(lang),
            || {
                Ok(
                    pages::unit(links, result, &scorecard, listing, &by_revision)
                        .into_string()
                        .into_bytes(),
                )
            },
        )
        .map_err(|error| (lang, error))
    })
    .await
}
