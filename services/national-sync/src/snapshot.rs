//! A year's whole state read in one go: every owner's part, every item's latest value version
//! and every push of the year. Completeness, the dry run and the reconciliation report are pure
//! functions over it.

use std::collections::HashMap;

use dti_db::PgPool;
use serde_json::Value;
use sqlx::types::Json;

use crate::content::{EvidenceRef, VersionPart};
use crate::national_set::{ItemKey, ItemKind, NationalSet, NationalYear};
use crate::NationalSyncError;

/// One owner's part.
#[derive(Debug, Clone, PartialEq)]
pub struct PartState {
    /// Owner.
    pub department: String,
    /// Value.
    pub value: Value,
    /// Evidence.
    pub evidence: Vec<EvidenceRef>,
    /// Revision.
    pub revision: i32,
    /// A reviewer's open dispute: reason and who.
    pub dispute: Option<(String, String)>,
}

/// A value version.
#[derive(Debug, Clone, PartialEq)]
pub struct VersionState {
    /// Version number.
    pub version: i32,
    /// Combined value.
    pub value: Value,
    /// Owners' parts it was made from.
    pub parts: Vec<VersionPart>,
    /// SHA-256 of its content.
    pub content_hash: Vec<u8>,
}

/// Where a push stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JobStatus {
    /// Queued or being pushed.
    Pending,
    /// Accepted by the national system.
    Accepted,
    /// Rejected by the national system.
    Rejected,
    /// Not sent: a newer version was queued first.
    Superseded,
}

impl JobStatus {
    fn parse(text: &str) -> Result<Self, NationalSyncError> {
        match text {
            "pending" => Ok(JobStatus::Pending),
            "accepted" => Ok(JobStatus::Accepted),
            "rejected" => Ok(JobStatus::Rejected),
            "superseded" => Ok(JobStatus::Superseded),
            other => Err(NationalSyncError::Corrupt(format!("push state {other:?}"))),
        }
    }
}

/// A push of one value version.
#[derive(Debug, Clone, PartialEq)]
pub struct JobState {
    /// Version pushed.
    pub version: i32,
    /// Its value.
    pub value: Value,
    /// Its content hash.
    pub content_hash: Vec<u8>,
    /// Where it stands.
    pub status: JobStatus,
    /// Idempotency key.
    pub idempotency_key: String,
    /// Receipt of an acceptance.
    pub receipt: Option<String>,
    /// Reason of a rejection.
    pub reason: Option<String>,
    /// Last failure while pending.
    pub last_error: Option<String>,
}

/// One item's state.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ItemState {
    /// Owners' parts.
    pub parts: Vec<PartState>,
    /// Latest value version.
    pub latest: Option<VersionState>,
    /// Pushes of the item, by version ascending.
    pub jobs: Vec<JobState>,
}

impl ItemState {
    /// The push of the latest version, if queued.
    pub fn latest_job(&self) -> Option<&JobState> {
        let latest = self.latest.as_ref()?;
        self.jobs.iter().find(|job| job.version == latest.version)
    }

    /// The newest accepted push.
    pub fn last_accepted(&self) -> Option<&JobState> {
        self.jobs
            .iter()
            .rev()
            .find(|job| job.status == JobStatus::Accepted)
    }

    /// The newest push, whatever its state.
    pub fn last_pushed(&self) -> Option<&JobState> {
        self.jobs.last()
    }

    /// The part of `department`.
    pub fn part(&self, department: &str) -> Option<&PartState> {
        self.parts.iter().find(|part| part.department == department)
    }
}

/// A year's state.
#[derive(Debug, Clone, Default)]
pub struct YearSnapshot {
    items: HashMap<ItemKey, ItemState>,
}

impl YearSnapshot {
    /// The state of an item (empty when nothing is stored).
    pub fn item(&self, key: &ItemKey) -> ItemState {
        self.items.get(key).cloned().unwrap_or_default()
    }

    fn entry(&mut self, kind: &str, code: String) -> Result<&mut ItemState, NationalSyncError> {
        let kind = kind
            .parse::<ItemKind>()
            .map_err(NationalSyncError::Corrupt)?;
        Ok(self.items.entry(ItemKey { kind, code }).or_default())
    }
}

type PartRow = (
    String,
    String,
    String,
    Json<Value>,
    Json<Vec<EvidenceRef>>,
    i32,
    Option<String>,
    Option<String>,
);
type VersionRow = (
    String,
    String,
    i32,
    Json<Value>,
    Json<Vec<VersionPart>>,
    Vec<u8>,
);
type JobRow = (
    String,
    String,
    i32,
    Json<Value>,
    Vec<u8>,
    String,
    String,
    Option<String>,
    Option<String>,
    Option<String>,
);

/// Reads the state of `year`.
pub async fn load(
    pool: &PgPool,
    set: &NationalSet,
    year: NationalYear,
) -> Result<YearSnapshot, NationalSyncError> {
    let framework = set.framework_id().as_str();
    let parts: Vec<PartRow> = sqlx::query_as(
        "SELECT item_kind, item_code, owner_id, value, evidence, revision, dispute_reason, \
         disputed_by FROM national_owner_parts WHERE year = $1 AND framework = $2",
    )
    .bind(year.stored())
    .bind(framework)
    .fetch_all(pool)
    .await
    .map_err(NationalSyncError::database("reading a year's parts"))?;
    let versions: Vec<VersionRow> = sqlx::query_as(
        "SELECT v.item_kind, v.item_code, v.version, v.value, v.parts, v.content_hash \
         FROM national_items i JOIN national_value_versions v \
         ON v.year = i.year AND v.framework = i.framework AND v.item_kind = i.item_kind \
         AND v.item_code = i.item_code AND v.version = i.latest_version \
         WHERE i.year = $1 AND i.framework = $2",
    )
    .bind(year.stored())
    .bind(framework)
    .fetch_all(pool)
    .await
    .map_err(NationalSyncError::database(
        "reading a year's latest versions",
    ))?;
    let jobs: Vec<JobRow> = sqlx::query_as(
        "SELECT j.item_kind, j.item_code, j.version, v.value, v.content_hash, j.state, \
         j.idempotency_key, j.receipt, j.reason, j.last_error \
         FROM national_push_jobs j JOIN national_value_versions v \
         ON v.year = j.year AND v.framework = j.framework AND v.item_kind = j.item_kind \
         AND v.item_code = j.item_code AND v.version = j.version \
         WHERE j.year = $1 AND j.framework = $2 ORDER BY j.version",
    )
    .bind(year.stored())
    .bind(framework)
    .fetch_all(pool)
    .await
    .map_err(NationalSyncError::database("reading a year's pushes"))?;
    let mut snapshot = YearSnapshot::default();
    for (kind, code, department, value, evidence, revision, reason, by) in parts {
        snapshot.entry(&kind, code)?.parts.push(PartState {
            department,
            value: value.0,
            evidence: evidence.0,
            revision,
            dispute: reason.zip(by),
        });
    }
    for (kind, code, version, value, parts, content_hash) in versions {
        snapshot.entry(&kind, code)?.latest = Some(VersionState {
            version,
            value: value.0,
            parts: parts.0,
            content_hash,
        });
    }
    for (kind, code, version, value, content_hash, state, key, receipt, reason, last_error) in jobs
    {
        let status = JobStatus::parse(&state)?;
        snapshot.entry(&kind, code)?.jobs.push(JobState {
            version,
            value: value.0,
            content_hash,
            status,
            idempotency_key: key,
            receipt,
            reason,
            last_error,
        });
    }
    Ok(snapshot)
}
