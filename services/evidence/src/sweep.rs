//! Clearing what interrupted work leaves in the object store, at start and on a timer:
//!
//! - this instance's own staged uploads that no upload in progress owns and nothing wrote to
//!   for longer than the upload idle timeout (an upload whose clean-up failed);
//! - staged uploads of dead instances (a process killed mid-upload): their whole staging
//!   directory, partial files included, once the instance's lease shows it is gone
//!   ([`crate::lease::if_dead`]);
//! - content objects nobody references (a process that moved an upload to its content address
//!   and died before its transaction committed), once older than a grace period, checked and
//!   deleted under the content's lock so a concurrent upload of the same bytes cannot lose
//!   its object. Objects referenced by any attachment — removed ones included — are kept.
//!   Each deletion counts in [`DELETED_OBJECTS`].

use std::time::Duration;

use chrono::Utc;
use dti_db::{DbError, PgPool};
use futures::TryStreamExt;

use crate::records;
use crate::storage::{ContentHash, ObjectStorage};
use crate::{lease, EvidenceError};

/// Counter of unreferenced content objects the sweep deleted.
pub const DELETED_OBJECTS: &str = "dti_evidence_sweep_deleted_objects_total";

/// What a sweep cleared.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct SweepReport {
    /// Dead instances whose staging area was removed.
    pub dead_instances: usize,
    /// Stale files or objects removed from this instance's own staging area.
    pub own_stale_staged: usize,
    /// Unreferenced content objects deleted.
    pub orphans_deleted: usize,
}

/// Sweeps the staging area and unreferenced content of `storage`.
#[derive(Debug, Clone)]
pub struct Sweeper {
    pool: PgPool,
    storage: ObjectStorage,
    own_instance: String,
    orphan_min_age: Duration,
    own_staging_max_age: Option<Duration>,
}

impl Sweeper {
    /// A sweeper that never touches `own_instance`'s staging and keeps unreferenced objects
    /// younger than `orphan_min_age`.
    pub fn new(
        pool: PgPool,
        storage: ObjectStorage,
        own_instance: String,
        orphan_min_age: Duration,
    ) -> Self {
        Self {
            pool,
            storage,
            own_instance,
            orphan_min_age,
            own_staging_max_age: None,
        }
    }

    /// Also removes what `own_instance` staged that no upload in progress owns and that was
    /// last written more than `max_age` ago (the upload idle timeout).
    pub fn with_own_staging_max_age(mut self, max_age: Duration) -> Self {
        self.own_staging_max_age = Some(max_age);
        self
    }

    /// One full sweep.
    #[tracing::instrument(skip_all)]
    pub async fn sweep(&self) -> Result<SweepReport, EvidenceError> {
        let own_stale_staged = self.sweep_own_stale_staging().await?;
        let dead_instances = self.sweep_dead_staging().await?;
        let orphans_deleted = self.sweep_orphans().await?;
        if own_stale_staged + dead_instances + orphans_deleted > 0 {
            tracing::info!(
                own_stale_staged,
                dead_instances,
                orphans_deleted,
                "swept evidence storage"
            );
        }
        Ok(SweepReport {
            dead_instances,
            own_stale_staged,
            orphans_deleted,
        })
    }

    /// Removes this instance's stale staged uploads; returns how many files or objects.
    async fn sweep_own_stale_staging(&self) -> Result<usize, EvidenceError> {
        let Some(max_age) = self.own_staging_max_age else {
            return Ok(0);
        };
        self.storage
            .delete_stale_staging_of(&self.own_instance, max_age)
            .await
            .map_err(EvidenceError::storage("deleting stale staged uploads"))
    }

    /// Removes the staging areas of dead instances; returns how many.
    async fn sweep_dead_staging(&self) -> Result<usize, EvidenceError> {
        let instances = self
            .storage
            .staging_instances()
            .await
            .map_err(EvidenceError::storage("listing staged uploads"))?;
        let mut swept = 0;
        for instance in instances.iter().filter(|name| **name != self.own_instance) {
            let storage = &self.storage;
            let dead = lease::if_dead(&self.pool, instance, || async move {
                storage
                    .delete_staging_of(instance)
                    .await
                    .map_err(EvidenceError::storage("deleting a dead instance's uploads"))
            })
            .await?;
            if dead {
                tracing::info!(instance, "removed the staged uploads of a dead instance");
                swept += 1;
            }
        }
        Ok(swept)
    }

    /// Deletes old content objects that no attachment references; returns how many.
    async fn sweep_orphans(&self) -> Result<usize, EvidenceError> {
        let oldest_kept = Utc::now()
            - chrono::Duration::from_std(self.orphan_min_age).unwrap_or(chrono::Duration::MAX);
        let candidates: Vec<ContentHash> = self
            .storage
            .content_objects()
            .try_filter_map(|meta| async move {
                let old = meta.last_modified <= oldest_kept;
                Ok(old
                    .then(|| ContentHash::from_storage_key(meta.location.as_ref()))
                    .flatten())
            })
            .try_collect()
            .await
            .map_err(EvidenceError::storage("listing content objects"))?;
        let mut deleted = 0;
        for content in candidates {
            if self.delete_if_unreferenced(&content).await? {
                deleted += 1;
            }
        }
        Ok(deleted)
    }

    /// Deletes `content` if no row records it, under its lock.
    async fn delete_if_unreferenced(&self, content: &ContentHash) -> Result<bool, EvidenceError> {
        let mut tx = self.pool.begin().await.map_err(DbError::Begin)?;
        records::lock_content(&mut tx, content).await?;
        if records::content_recorded(&mut tx, content).await? {
            return Ok(false);
        }
        self.storage
            .delete_content(&content.storage_key())
            .await
            .map_err(EvidenceError::storage(
                "deleting an unreferenced content object",
            ))?;
        tx.commit().await.map_err(DbError::Commit)?;
        metrics::counter!(DELETED_OBJECTS).increment(1);
        tracing::info!(sha256 = %content.hex(), "deleted an unreferenced content object");
        Ok(true)
    }
}
