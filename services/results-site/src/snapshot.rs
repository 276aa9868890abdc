//! A published revision as the site holds it: the snapshot's canonical JSON (the exact bytes
//! whose SHA-256 is the published content hash, served as the download) and the parts of it
//! the pages show, read into typed form once. Every number stays the string or integer the
//! snapshot gives; nothing is recomputed.

use chrono::{DateTime, Utc};
use serde::Deserialize;
use sha2::{Digest, Sha256};

use crate::source::FetchedRevision;

/// The snapshot format the site reads.
pub const FORMAT: &str = "dti-publication/1";

/// A published revision, checked against its hash.
#[derive(Debug)]
pub struct PublishedRevision {
    /// Revision, from 1.
    pub revision: u32,
    /// "initial publication" or the correction's reason.
    pub reason: String,
    /// When it was published.
    pub published_at: Option<DateTime<Utc>>,
    /// The published content hash, lowercase hex.
    pub content_hash: String,
    /// The snapshot's canonical JSON: the bytes `content_hash` is the SHA-256 of.
    pub canonical_json: Vec<u8>,
    /// The parts of the snapshot the pages show.
    pub snapshot: Snapshot,
    /// The round's state when fetched.
    pub round_state: String,
    /// End of the provisional period.
    pub provisional_until: Option<DateTime<Utc>>,
}

/// Why a fetched revision was not accepted.
#[derive(Debug, thiserror::Error)]
pub enum SnapshotError {
    /// The snapshot is not the expected JSON.
    #[error("the snapshot cannot be read: {0}")]
    Unreadable(String),
    /// Its canonical form does not hash to the published hash.
    #[error("the snapshot hashes to {actual}, not the published {published}")]
    HashMismatch {
        /// Published hash.
        published: String,
        /// Hash of what was received.
        actual: String,
    },
}

/// The snapshot's content the pages show.
#[derive(Debug, Clone, Deserialize)]
pub struct Snapshot {
    /// `dti-publication/1`.
    pub format: String,
    /// Revision, from 1.
    pub revision: u32,
    /// The framework version used.
    pub framework: SnapshotFramework,
    /// Units best first.
    pub units: Vec<SnapshotUnit>,
}

/// The framework version of a snapshot.
#[derive(Debug, Clone, Deserialize)]
pub struct SnapshotFramework {
    /// Framework id.
    pub id: String,
    /// Its title.
    pub title: String,
    /// Maximum total, e.g. "660".
    pub total_points: String,
}

/// One unit's published result.
#[derive(Debug, Clone, Deserialize)]
pub struct SnapshotUnit {
    /// Unit id.
    pub unit: String,
    /// Competition rank.
    pub rank: u32,
    /// Total, two decimals.
    pub total: String,
    /// The total in hundredths.
    pub total_cents: i64,
    /// Group scores in framework order.
    pub groups: Vec<SnapshotGroup>,
    /// Indicator scores in framework order.
    pub indicators: Vec<SnapshotIndicator>,
}

/// One group's score.
#[derive(Debug, Clone, Deserialize)]
pub struct SnapshotGroup {
    /// Group code.
    pub code: String,
    /// Score, two decimals.
    pub score: String,
}

/// One indicator's score.
#[derive(Debug, Clone, Deserialize)]
pub struct SnapshotIndicator {
    /// Indicator code.
    pub code: String,
    /// Its group.
    pub group: String,
    /// `scored`, `missing` or `not_applicable`.
    pub outcome: String,
    /// Score, two decimals.
    pub score: String,
    /// The engine's explanation.
    #[serde(default)]
    pub explanation: Option<SnapshotExplanation>,
}

/// The parts of an explanation the pages show.
#[derive(Debug, Clone, Deserialize)]
pub struct SnapshotExplanation {
    /// One line a person can follow.
    #[serde(default)]
    pub summary: String,
    /// The rule-specific detail (`type` names it).
    #[serde(default)]
    pub detail: Option<serde_json::Value>,
}

/// A cohort's range of a min-max indicator, as the engine's explanation states it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MinMaxRange {
    /// Smallest x in the cohort (decimal string).
    pub min: String,
    /// Largest x in the cohort (decimal string).
    pub max: String,
}

impl SnapshotIndicator {
    /// The cohort's min and max when the indicator is scored min-max.
    pub fn min_max(&self) -> Option<MinMaxRange> {
        let detail = self.explanation.as_ref()?.detail.as_ref()?;
        if detail.get("type")?.as_str()? != "min_max" {
            return None;
        }
        let decimal = |field: &str| Some(detail.get(field)?.get("decimal")?.as_str()?.to_owned());
        Some(MinMaxRange {
            min: decimal("min")?,
            max: decimal("max")?,
        })
    }

    /// The one-line explanation.
    pub fn summary(&self) -> &str {
        self.explanation
            .as_ref()
            .map_or("", |explanation| explanation.summary.as_str())
    }
}

impl Snapshot {
    /// The unit `unit`'s result.
    pub fn unit(&self, unit: &str) -> Option<&SnapshotUnit> {
        self.units.iter().find(|entry| entry.unit == unit)
    }
}

impl PublishedRevision {
    /// Reads a fetched revision, writing its snapshot canonically and checking the hash.
    pub fn from_fetched(fetched: FetchedRevision) -> Result<Self, SnapshotError> {
        let value: serde_json::Value = serde_json::from_str(&fetched.snapshot_json)
            .map_err(|error| SnapshotError::Unreadable(error.to_string()))?;
        let canonical_json = dti_audit::canonical_json(&value).into_bytes();
        let actual = hex::encode(Sha256::digest(&canonical_json));
        if actual != fetched.content_hash {
            return Err(SnapshotError::HashMismatch {
                published: fetched.content_hash,
                actual,
            });
        }
        let snapshot: Snapshot = serde_json::from_value(value)
            .map_err(|error| SnapshotError::Unreadable(error.to_string()))?;
        if snapshot.format != FORMAT {
            return Err(SnapshotError::Unreadable(format!(
                "format {:?}, expected {FORMAT:?}",
                snapshot.format
            )));
        }
        Ok(Self {
            revision: fetched.revision,
            reason: fetched.reason,
            published_at: fetched.published_at,
            content_hash: fetched.content_hash,
            canonical_json,
            snapshot,
            round_state: fetched.round_state,
            provisional_until: fetched.provisional_until,
        })
    }

    /// Whether the round was final when this revision was fetched.
    pub fn is_final(&self) -> bool {
        self.round_state == "final"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fetched(snapshot: &serde_json::Value, hash: String) -> FetchedRevision {
        FetchedRevision {
            revision: 1,
            reason: "initial publication".into(),
            published_at: None,
            content_hash: hash,
            snapshot_json: snapshot.to_string(),
            round_state: "provisional".into(),
            provisional_until: None,
        }
    }

    fn sample() -> serde_json::Value {
        serde_json::json!({
            "format": FORMAT, "revision": 1,
            "round": {"year": 2023, "framework": "hcm-2023-district"},
            "framework": {"id": "hcm-2023-district", "title": "T", "total_points": "660"},
            "units": [{"unit": "quan-1", "rank": 1, "total": "5.00", "total_cents": 500,
                "groups": [{"code": "5", "score": "5.00"}],
                "indicators": [{"code": "5.1", "group": "5", "outcome": "scored", "score": "5.00",
                    "explanation": {"summary": "x = 8",
                        "detail": {"type": "min_max", "x": {"exact": "8", "decimal": "8"},
                                   "min": {"exact": "4", "decimal": "4"},
                                   "max": {"exact": "8", "decimal": "8"}}}}]}]
        })
    }

    #[test]
    fn the_canonical_form_is_what_the_hash_covers_and_min_max_ranges_are_read() {
        let snapshot = sample();
        let canonical = dti_audit::canonical_json(&snapshot);
        let hash = hex::encode(Sha256::digest(canonical.as_bytes()));
        let revision = PublishedRevision::from_fetched(fetched(&snapshot, hash)).expect("reads");
        assert_eq!(revision.canonical_json, canonical.as_bytes());
        let indicator = &revision.snapshot.units[0].indicators[0];
        assert_eq!(
            indicator.min_max(),
            Some(MinMaxRange {
                min: "4".into(),
                max: "8".into()
            })
        );
        assert_eq!(indicator.summary(), "x = 8");
    }

    #[test]
    fn a_snapshot_that_does_not_hash_to_the_published_hash_is_refused() {
        let error = PublishedRevision::from_fetched(fetched(&sample(), "00".repeat(32)))
            .expect_err("refused");
        assert!(
            matches!(error, SnapshotError::HashMismatch { .. }),
            "{error}"
        );
    }
}
