//! The framework catalogue every service checks, scores and names with: the built-in
//! frameworks, those of the `framework_dir` setting, and those operators store on the platform
//! (`stored_frameworks`, written by the submission service's `RegistryService.AddFramework`).
//! A stored framework is added to the catalogue of every process when `framework.added.v1`
//! arrives or, should that event be missed, on a timer ([`ServiceKit::framework_catalog`]).
//!
//! A framework id names one content for good (the catalogue only gains frameworks and refuses
//! changed content under a known id), so a round pins its framework by id and content hash and
//! no later upload changes its scores.

use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use dti_config::FrameworkDir;
use dti_domain::framework::Framework;
use dti_domain::{FrameworkCatalog, FrameworkId};
use dti_i18n::Message;
use sqlx::PgPool;

use crate::service_error::{self, DatabaseFailure, Refusal};
use crate::status::InvalidRequest;
use crate::{ServiceKit, StartError};

/// The subject's event name of a stored framework.
pub const ADDED_EVENT: &str = "framework.added.v1";

/// How often a service looks for a stored framework whose event it missed.
pub const RECHECK_INTERVAL: Duration = Duration::from_secs(30);

/// The gauge of the stored frameworks a process has loaded (their highest storing sequence;
/// 0: none). The alert `DtiFrameworksBehind` compares the pods of a release.
pub const LOADED_GAUGE: &str = "dti_stored_frameworks_loaded";

/// The built-in frameworks, plus the framework files of `dir` when it is set: the catalogue a
/// process starts from, before the stored frameworks.
pub fn framework_catalog(dir: &FrameworkDir) -> Result<FrameworkCatalog, StartError> {
    let catalog = match dir.path() {
        Some(dir) => FrameworkCatalog::builtin_and_dir(dir)?,
        None => FrameworkCatalog::builtin()?,
    };
    Ok(catalog)
}

/// One stored framework.
#[derive(Debug, Clone, Default, sqlx::FromRow)]
pub struct StoredFramework {
    /// Its id.
    pub framework: String,
    /// SHA-256 of its canonical form ([`dti_domain::framework::content_hash`]).
    pub content_hash: String,
    /// The framework file.
    pub document: String,
    /// Who stored it.
    pub added_by: String,
    /// When.
    pub added_at: DateTime<Utc>,
    /// Why, as the operator said.
    pub reason: String,
    /// Order of storing, from 1.
    pub sequence: i64,
}

/// The stored frameworks after `known` (a storing sequence; 0 for all), oldest first.
pub async fn stored_after(pool: &PgPool, known: i64) -> Result<Vec<StoredFramework>, sqlx::Error> {
    sqlx::query_as(
        "SELECT framework, content_hash, document, added_by, added_at, reason, sequence \
         FROM stored_frameworks WHERE sequence > $1 ORDER BY sequence",
    )
    .bind(known)
    .fetch_all(pool)
    .await
}

/// Every stored framework, oldest first; with its file only when `with_documents` (otherwise
/// `document` is empty), for listings that do not show the files.
pub async fn stored_listing(
    pool: &PgPool,
    with_documents: bool,
) -> Result<Vec<StoredFramework>, sqlx::Error> {
    sqlx::query_as(
        "SELECT framework, content_hash, CASE WHEN $1 THEN document ELSE '' END AS document, \
         added_by, added_at, reason, sequence FROM stored_frameworks ORDER BY sequence",
    )
    .bind(with_documents)
    .fetch_all(pool)
    .await
}

/// A stored framework that could not be read or used.
#[derive(Debug, thiserror::Error)]
pub enum FrameworkLoadError {
    /// The database failed.
    #[error("reading the stored frameworks: {0}")]
    Database(#[from] sqlx::Error),
    /// A stored file does not pass this build's checks, or its id names other content here.
    #[error("stored framework {framework}: {source}")]
    Invalid {
        /// Its id.
        framework: String,
        /// What is wrong with it.
        source: dti_domain::FrameworkError,
    },
}

/// A process's catalogue and the stored frameworks it has loaded into it: cheap to clone;
/// [`Self::refresh`] adds the ones stored since.
#[derive(Debug, Clone)]
pub struct FrameworkCache {
    pool: PgPool,
    catalog: Arc<FrameworkCatalog>,
    loaded: Arc<AtomicI64>,
}

impl FrameworkCache {
    /// `catalog` with every framework stored in `pool` added.
    pub async fn load(pool: PgPool, catalog: FrameworkCatalog) -> Result<Self, FrameworkLoadError> {
        let cache = Self {
            pool,
            catalog: Arc::new(catalog),
            loaded: Arc::new(AtomicI64::new(0)),
        };
        cache.refresh().await?;
        Ok(cache)
    }

    /// The catalogue, which gains every framework loaded later.
    pub fn catalog(&self) -> Arc<FrameworkCatalog> {
        Arc::clone(&self.catalog)
    }

    /// The highest storing sequence loaded (0: none).
    pub fn loaded(&self) -> i64 {
        self.loaded.load(Ordering::Acquire)
    }

    /// Adds the frameworks stored since the last load; returns the sequence loaded up to. One
    /// this build cannot use is an error, and it and those after it are tried again next time.
    pub async fn refresh(&self) -> Result<i64, FrameworkLoadError> {
        for stored in stored_after(&self.pool, self.loaded()).await? {
            self.add(&stored)?;
            self.loaded.fetch_max(stored.sequence, Ordering::AcqRel);
            tracing::info!(framework = %stored.framework, "stored framework loaded");
        }
        Ok(self.loaded())
    }

    /// Adds one stored framework (a service that has just stored it, or read it).
    pub fn add(&self, stored: &StoredFramework) -> Result<(), FrameworkLoadError> {
        let invalid = |source| FrameworkLoadError::Invalid {
            framework: stored.framework.clone(),
            source,
        };
        let framework = self
            .catalog
            .parse(&stored.framework, &stored.document)
            .map_err(invalid)?;
        self.catalog
            .add(&stored.framework, framework)
            .map_err(invalid)?;
        Ok(())
    }

    /// Framework `id`, loading the stored frameworks first when the catalogue does not have
    /// it: for requests that must see one an operator has just stored through another replica
    /// whose event has not arrived yet.
    pub async fn get_fresh(
        &self,
        id: &FrameworkId,
    ) -> Result<Option<Arc<Framework>>, FrameworkLoadError> {
        if let Some(framework) = self.catalog.get(id) {
            return Ok(Some(Arc::clone(framework)));
        }
        self.refresh().await?;
        Ok(self.catalog.get(id).cloned())
    }

    /// The scored framework `id` that request field `field` names, for a request about a round
    /// (loaded first, as by [`Self::get_fresh`], when an operator has just stored it and its
    /// event has not arrived here yet). An unknown or unscored framework is an invalid `field`
    /// naming the frameworks known; a stored one this build cannot use is refused as not now.
    pub async fn scored<E>(&self, field: &str, id: &FrameworkId) -> Result<Arc<Framework>, E>
    where
        E: From<Refusal> + From<DatabaseFailure>,
    {
        let found = match self.get_fresh(id).await {
            Ok(found) => found,
            Err(FrameworkLoadError::Database(error)) => {
                return Err(service_error::database("reading the stored frameworks")(
                    error,
                ))
            }
            Err(invalid) => return Err(Refusal::NotNow(invalid.to_string()).into()),
        };
        let problem = match found {
            Some(framework) if framework.scored => return Ok(framework),
            Some(_) => Message::new("issue-framework-unscored").arg("id", id.to_string()),
            None => Message::new("issue-framework-unknown")
                .arg("id", id.to_string())
                .arg("known", self.catalog.ids().join(", ")),
        };
        Err(Refusal::from(InvalidRequest::field(field, problem)).into())
    }
}

/// Exports `sequence` as the stored frameworks this process has loaded.
fn export_loaded(sequence: i64) {
    // Sequences are small counts; f64 holds them exactly.
    metrics::gauge!(LOADED_GAUGE).set(sequence as f64);
}

impl ServiceKit {
    /// The framework catalogue of this service (the built-in frameworks, those of `dir`, and
    /// the stored ones of its database), kept current: stored frameworks are added on each
    /// `framework.added.v1` (when the kit has NATS) and every [`RECHECK_INTERVAL`], the
    /// sequence loaded exported as [`LOADED_GAUGE`].
    pub async fn framework_catalog(
        &self,
        dir: &FrameworkDir,
    ) -> Result<FrameworkCache, StartError> {
        let cache = FrameworkCache::load(self.pool()?.clone(), framework_catalog(dir)?)
            .await
            .map_err(StartError::step("loading the stored frameworks"))?;
        export_loaded(cache.loaded());
        let reload = cache.clone();
        self.keep_current(
            "framework-changes",
            "framework-recheck",
            ADDED_EVENT,
            RECHECK_INTERVAL,
            move || {
                let cache = reload.clone();
                async move { cache.refresh().await.map(export_loaded) }
            },
        )
        .await?;
        Ok(cache)
    }
}
