//! What a request names: its query parameters (`lang`, `revision`, checked once, with a 400
//! naming the parameter), the round its path names, and the published result it asks for
//! (the revision, its round's revisions and the previous year's result).

use std::sync::Arc;

use axum::extract::rejection::QueryRejection;
use axum::extract::Query;
use axum::http::{header, HeaderMap};
use dti_domain::{FrameworkId, RoundRef, UnitRegistry};
use dti_i18n::Message;

use super::{Site, YEARS};
use crate::error::SiteError;
use crate::i18n::Lang;
use crate::pages::LinkContext;
use crate::results::{CohortResult, PreviousYear, Scorecard};
use crate::source::RevisionSummary;

/// A request's query parameters as axum reads them (a rejection is answered with a 400 naming
/// the problem, by [`page_query`]).
pub(super) type RawQuery = Result<Query<Vec<(String, String)>>, QueryRejection>;

/// The query of a page: its language and the revision asked for.
#[derive(Debug, Clone, Copy)]
pub(super) struct PageQuery {
    pub(super) links: LinkContext,
}

/// Reads `lang` and `revision`; anything else is refused, naming the parameter.
pub(super) fn page_query(
    query: RawQuery,
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
pub(super) fn round_of(site: &Site, year: &str, framework: &str) -> Result<RoundRef, SiteError> {
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

/// What every page and download of a round's published result reads first: the query, the
/// revision it asks for with the round's list of revisions, and the registry in force.
pub(super) struct PublishedRound {
    /// The language and the revision the request asks for.
    pub(super) links: LinkContext,
    /// The revision shown, with the year before.
    pub(super) result: CohortResult,
    /// Every published revision of the round.
    pub(super) listing: Arc<Vec<RevisionSummary>>,
    /// The part of the ETag that names the registry in force.
    pub(super) registry_tag: String,
    /// The registry in force: the units' names.
    pub(super) registry: Arc<UnitRegistry>,
}

impl PublishedRound {
    /// `unit`'s scorecard in the result, or a 404 in the request's language.
    pub(super) fn scorecard(&self, unit: &str) -> Result<Scorecard, (Lang, SiteError)> {
        let result = &self.result;
        result.scorecard(&self.registry, unit).ok_or_else(|| {
            (
                self.links.lang,
                SiteError::NotFound(
                    Message::new("site-unit-not-published")
                        .arg("unit", format!("{unit:?}"))
                        .arg("round", result.round.to_string()),
                ),
            )
        })
    }
}

/// The published result of the round at `year`/`framework` that `query` asks for; a refusal
/// in the request's language.
pub(super) async fn published_round(
    site: &Site,
    year: &str,
    framework: &str,
    query: RawQuery,
    headers: &HeaderMap,
) -> Result<PublishedRound, (Lang, SiteError)> {
    let PageQuery { links } = page_query(query, headers, site.signer.is_some())?;
    let (result, listing) = cohort_result(site, year, framework, links.revision)
        .await
        .map_err(|error| (links.lang, error))?;
    let (registry_tag, registry) = site.registry.in_force();
    Ok(PublishedRound {
        links,
        result,
        listing,
        registry_tag,
        registry,
    })
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

/// The latest published revision of the year before on a comparable framework
/// ([`dti_domain::Framework::comparable_with`]; the same framework first).
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
            .filter(|other| other.id != framework.id && framework.comparable_with(other))
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
