//! The HTTP routes: pages, downloads, the stylesheet and a bare health answer; query
//! parameters (`lang`, `revision`) checked once, with a 400 naming the parameter; an ETag per
//! rendered revision (a hash of everything the page shows: the revision's content hash, the
//! round's state, the previous year's revision, the language, the site's version) answered
//! with 304 on `If-None-Match` before anything is rendered. A refusal is a page in the
//! reader's language, its reason from the platform's catalogues.
//!
//! Submodules: `query` reads what a request names (query parameters, the round, the
//! published result); `answer` shapes what goes out (ETags and 304, cache headers,
//! attachments, refusal pages, request metrics); `html` answers the pages; `files` the
//! downloads (CSV, .xlsx, snapshots and their signatures).

mod answer;
mod files;
mod html;
mod query;

use std::sync::Arc;

use axum::response::Response;
use axum::routing::get;
use axum::Router;
use dti_domain::FrameworkCatalog;

use crate::error::SiteError;
use crate::i18n::Lang;
use crate::publications::Publications;
use crate::signing::SnapshotSigner;

use files::FileKind::{Csv, Xlsx};
use files::{
    download, ranking_file, scorecard_file, signing_key, snapshot_json, snapshot_signature,
};
use html::{healthz, index, not_found, ranking_page, stylesheet, unit_page};

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
    /// Frameworks (names of groups and indicators), with those stored on the platform added.
    pub catalog: FrameworkCatalog,
    /// Units (Vietnamese names, lineage): the registry in force.
    pub registry: crate::units::SiteRegistry,
    /// The key that signs snapshot downloads, when one is configured.
    pub signer: Option<SnapshotSigner>,
}

impl Site {
    /// Adds the frameworks operators stored on the platform to the catalogue, so the results
    /// of a round of one are shown without a restart. One that does not load is an error, the
    /// others are added.
    pub async fn add_stored_frameworks(
        &self,
        source: &crate::source::RegistrySource,
    ) -> Result<(), crate::source::SourceError> {
        let stored = source.stored_frameworks(&self.catalog).await?;
        let problems: Vec<String> = self
            .catalog
            .add_all(stored)
            .iter()
            .map(ToString::to_string)
            .collect();
        match problems.is_empty() {
            true => Ok(()),
            false => Err(crate::source::SourceError::Unavailable(problems.join("; "))),
        }
    }
}

type AppState = Arc<Site>;

/// The site's router.
pub fn router(site: Arc<Site>) -> Router {
    Router::new()
        .route("/", get(index))
        .route("/healthz", get(healthz))
        .route("/assets/site.css", get(stylesheet))
        .route("/{year}/{framework}", get(ranking_page))
        .route(
            "/{year}/{framework}/ranking.csv",
            download(Csv, "ranking_csv", ranking_file),
        )
        .route(
            "/{year}/{framework}/ranking.xlsx",
            download(Xlsx, "ranking_xlsx", ranking_file),
        )
        .route("/{year}/{framework}/snapshot.json", get(snapshot_json))
        .route(
            "/{year}/{framework}/snapshot.json.sig",
            get(snapshot_signature),
        )
        .route("/signing-key.pem", get(signing_key))
        .route("/{year}/{framework}/units/{unit}", get(unit_page))
        .route(
            "/{year}/{framework}/units/{unit}/scorecard.csv",
            download(Csv, "scorecard_csv", scorecard_file),
        )
        .route(
            "/{year}/{framework}/units/{unit}/scorecard.xlsx",
            download(Xlsx, "scorecard_xlsx", scorecard_file),
        )
        .fallback(not_found)
        .with_state(site)
}

type Answer = Result<Response, (Lang, SiteError)>;

const HTML: &str = "text/html; charset=utf-8";
