//! The published revisions the site shows, held in memory: each fetched revision by
//! (round, revision) — revisions never change, so an entry is only dropped when the cache is
//! full — and each round's list of revisions, asked for again (`ListPublications`, no
//! snapshots: cheap) once it is older than the configured interval, so a correction appears
//! within that interval. A cached revision of a provisional round whose provisional period
//! has ended is fetched again (at most once per interval) until the round is final, so the
//! provisional note disappears once the round is finalized.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chrono::Utc;
use dti_domain::RoundRef;
use dti_i18n::Message;

use crate::error::SiteError;
use crate::snapshot::PublishedRevision;
use crate::source::{PublicationSource, RevisionSummary};

/// Revisions served from memory, by outcome (`hit` or `miss`).
pub const CACHE_LOOKUPS: &str = "dti_results_site_revision_cache_total";

/// A round's published revisions, oldest first, as last listed.
#[derive(Debug, Clone)]
pub struct Listing {
    /// The revisions; empty when the round is not published.
    pub revisions: Arc<Vec<RevisionSummary>>,
    checked_at: Instant,
}

#[derive(Debug)]
struct CachedRevision {
    revision: Arc<PublishedRevision>,
    fetched_at: Instant,
}

#[derive(Debug, Default)]
struct RevisionCache {
    entries: HashMap<(RoundRef, u32), CachedRevision>,
    order: VecDeque<(RoundRef, u32)>,
}

/// The published revisions, cached.
#[derive(Debug)]
pub struct Publications {
    source: PublicationSource,
    check_interval: Duration,
    capacity: usize,
    listings: Mutex<HashMap<RoundRef, Listing>>,
    revisions: Mutex<RevisionCache>,
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl Publications {
    /// A cache over `source` keeping at most `capacity` revisions and re-listing a round's
    /// revisions once its list is older than `check_interval`.
    pub fn new(source: PublicationSource, check_interval: Duration, capacity: usize) -> Self {
        Self {
            source,
            check_interval,
            capacity: capacity.max(1),
            listings: Mutex::new(HashMap::new()),
            revisions: Mutex::new(RevisionCache::default()),
        }
    }

    /// `round`'s published revisions, oldest first (listed again when the list is stale).
    pub async fn listing(&self, round: &RoundRef) -> Result<Arc<Vec<RevisionSummary>>, SiteError> {
        if let Some(listing) = lock(&self.listings).get(round) {
            if listing.checked_at.elapsed() < self.check_interval {
                return Ok(listing.revisions.clone());
            }
        }
        let revisions = Arc::new(self.source.list(round).await?);
        lock(&self.listings).insert(
            round.clone(),
            Listing {
                revisions: revisions.clone(),
                checked_at: Instant::now(),
            },
        );
        Ok(revisions)
    }

    /// Revision `wanted` of `round`, or its latest when `None`; `NotFound` when the round has
    /// no such published revision.
    pub async fn revision(
        &self,
        round: &RoundRef,
        wanted: Option<u32>,
    ) -> Result<Arc<PublishedRevision>, SiteError> {
        let listing = self.listing(round).await?;
        let summary = match wanted {
            None => listing.last(),
            Some(number) => listing.iter().find(|summary| summary.revision == number),
        };
        let Some(summary) = summary else {
            return Err(SiteError::NotFound(match wanted {
                None => Message::new("verification-not-published").arg("round", round.to_string()),
                Some(number) => Message::new("site-no-revision")
                    .arg("round", round.to_string())
                    .arg("revision", number),
            }));
        };
        self.fetch(round, summary.revision).await
    }

    /// Revision `number` of `round` from memory, or fetched and checked against its hash.
    async fn fetch(
        &self,
        round: &RoundRef,
        number: u32,
    ) -> Result<Arc<PublishedRevision>, SiteError> {
        let key = (round.clone(), number);
        if let Some(cached) = lock(&self.revisions).entries.get(&key) {
            if !self.state_may_have_changed(cached) {
                metrics::counter!(CACHE_LOOKUPS, "outcome" => "hit").increment(1);
                return Ok(cached.revision.clone());
            }
        }
        metrics::counter!(CACHE_LOOKUPS, "outcome" => "miss").increment(1);
        let fetched = self.source.get(round, number).await?;
        let revision = Arc::new(PublishedRevision::from_fetched(fetched)?);
        let mut cache = lock(&self.revisions);
        if cache
            .entries
            .insert(
                key.clone(),
                CachedRevision {
                    revision: revision.clone(),
                    fetched_at: Instant::now(),
                },
            )
            .is_none()
        {
            cache.order.push_back(key);
        }
        while cache.order.len() > self.capacity {
            if let Some(oldest) = cache.order.pop_front() {
                cache.entries.remove(&oldest);
            }
        }
        Ok(revision)
    }

    /// A provisional round may have been finalized once its period ended: such an entry is
    /// fetched again, at most once per check interval.
    fn state_may_have_changed(&self, cached: &CachedRevision) -> bool {
        let revision = &cached.revision;
        !revision.is_final()
            && revision
                .provisional_until
                .is_some_and(|until| until <= Utc::now())
            && cached.fetched_at.elapsed() >= self.check_interval
    }
}
