//! The unit registry as every service reads it: the newest revision in `registry_revisions`
//! (written by the submission service's `RegistryService`), parsed and cached in memory, and
//! reloaded when `registry.changed.v1` arrives or, should that event be missed, on a timer.
//! Until the first revision is stored (the submission service stores the seed at its first
//! start) the seed compiled into `dti-domain` is in force, as revision 0.

use std::sync::{Arc, RwLock};
use std::time::Duration;

use chrono::{DateTime, Utc};
use dti_domain::UnitRegistry;
use sqlx::PgPool;

use crate::{ServiceKit, StartError};

/// The subject's event name of a new registry revision.
pub const CHANGED_EVENT: &str = "registry.changed.v1";

/// How often a service looks for a revision whose event it missed.
pub const RECHECK_INTERVAL: Duration = Duration::from_secs(30);

/// The gauge of the registry revision a process uses (0: the seed, none stored yet); the alert
/// `DtiUnitRegistryBehind` compares the pods of a release.
pub const REVISION_GAUGE: &str = "dti_unit_registry_revision";

/// Exports `revision` as the registry revision this process uses.
pub fn export_revision(revision: i64) {
    // Revisions are small counts; f64 holds them exactly.
    metrics::gauge!(REVISION_GAUGE).set(revision as f64);
}

/// One stored revision of the registry.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct StoredRevision {
    /// Its number, from 1.
    pub revision: i64,
    /// The registry file.
    pub document: String,
    /// Who stored it (`seed` for the first).
    pub changed_by: String,
    /// When.
    pub changed_at: DateTime<Utc>,
    /// Why, as the operator said.
    pub reason: String,
}

/// The newest stored revision, if any.
pub async fn newest(pool: &PgPool) -> Result<Option<StoredRevision>, sqlx::Error> {
    newest_after(pool, 0).await
}

/// The newest stored revision if it is newer than `known` (revisions are numbered from 1).
async fn newest_after(pool: &PgPool, known: i64) -> Result<Option<StoredRevision>, sqlx::Error> {
    sqlx::query_as(
        "SELECT revision, document, changed_by, changed_at, reason FROM registry_revisions \
         WHERE revision > $1 ORDER BY revision DESC LIMIT 1",
    )
    .bind(known)
    .fetch_optional(pool)
    .await
}

/// A stored revision that could not be read or used.
#[derive(Debug, thiserror::Error)]
pub enum RegistryLoadError {
    /// The database failed.
    #[error("reading the unit registry: {0}")]
    Database(#[from] sqlx::Error),
    /// The stored file does not pass this build's checks.
    #[error("unit registry revision {revision}: {source}")]
    Invalid {
        /// The revision.
        revision: i64,
        /// What is wrong with it.
        source: dti_domain::UnitRegistryError,
    },
}

/// A revision and its parsed registry.
#[derive(Debug)]
struct Loaded {
    revision: i64,
    registry: Arc<UnitRegistry>,
}

/// The registry in force, cached: cheap to clone and to read; [`Self::refresh`] reloads it
/// when a newer revision is stored.
#[derive(Debug, Clone)]
pub struct RegistryCache {
    pool: PgPool,
    current: Arc<RwLock<Arc<Loaded>>>,
}

impl RegistryCache {
    /// The newest stored revision of `pool`'s registry, or the seed when none is stored.
    pub async fn load(pool: PgPool) -> Result<Self, RegistryLoadError> {
        let cache = Self {
            pool,
            current: Arc::new(RwLock::new(Arc::new(Loaded {
                revision: 0,
                registry: Arc::new(UnitRegistry::builtin().map_err(|source| {
                    RegistryLoadError::Invalid {
                        revision: 0,
                        source,
                    }
                })?),
            }))),
        };
        cache.refresh().await?;
        Ok(cache)
    }

    /// The registry in force.
    pub fn current(&self) -> Arc<UnitRegistry> {
        Arc::clone(&self.loaded().registry)
    }

    /// The revision of the registry in force (0: the seed, none stored yet).
    pub fn revision(&self) -> i64 {
        self.loaded().revision
    }

    fn loaded(&self) -> Arc<Loaded> {
        Arc::clone(&self.current.read().unwrap_or_else(|e| e.into_inner()))
    }

    /// Puts `registry` of `revision` in force if it is newer than the cached one (a service
    /// that has just stored it, or read it).
    pub fn install(&self, revision: i64, registry: Arc<UnitRegistry>) {
        let mut current = self.current.write().unwrap_or_else(|e| e.into_inner());
        if revision > current.revision {
            *current = Arc::new(Loaded { revision, registry });
        }
    }

    /// Reloads the registry if a newer revision is stored; returns the revision in force.
    /// A stored revision this build cannot use is an error and leaves the cached one in force.
    pub async fn refresh(&self) -> Result<i64, RegistryLoadError> {
        let known = self.revision();
        let Some(stored) = newest_after(&self.pool, known).await? else {
            return Ok(known);
        };
        let registry =
            UnitRegistry::parse(&format!("revision {}", stored.revision), &stored.document)
                .map_err(|source| RegistryLoadError::Invalid {
                    revision: stored.revision,
                    source,
                })?;
        self.install(stored.revision, Arc::new(registry));
        tracing::info!(revision = stored.revision, "unit registry loaded");
        Ok(self.revision())
    }

    /// The registry in force after a refresh: for the rare requests (opening a round) that
    /// must see an operator's change at once, even one made through another replica whose
    /// event has not arrived yet.
    pub async fn fresh(&self) -> Result<Arc<UnitRegistry>, RegistryLoadError> {
        self.refresh().await?;
        Ok(self.current())
    }
}

impl ServiceKit {
    /// The unit registry of this service's database, kept current: reloaded on each
    /// `registry.changed.v1` (when the kit has NATS) and every [`RECHECK_INTERVAL`], its
    /// revision exported as [`REVISION_GAUGE`].
    pub async fn unit_registry(&self) -> Result<RegistryCache, StartError> {
        let cache = RegistryCache::load(self.pool()?.clone())
            .await
            .map_err(StartError::step("loading the unit registry"))?;
        export_revision(cache.revision());
        let reload = cache.clone();
        self.keep_current(
            "registry-changes",
            "registry-recheck",
            CHANGED_EVENT,
            RECHECK_INTERVAL,
            move || {
                let cache = reload.clone();
                async move { cache.refresh().await.map(export_revision) }
            },
        )
        .await?;
        Ok(cache)
    }
}
