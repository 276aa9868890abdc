//! Evidence metadata in PostgreSQL: `evidence_objects` (one row per distinct content) and
//! `evidence_attachments` (one row per document attached to an indicator, marked — never
//! deleted — when removed).

use chrono::{DateTime, Utc};
use dti_db::PgTransaction;
use dti_domain::EvidenceId;
use dti_domain::{FrameworkId, IndicatorCode, RoundRef, UnitId};

use crate::storage::ContentHash;
use crate::EvidenceError;

/// Who removed a document, when and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RemovalRecord {
    /// Subject of the remover.
    pub removed_by: String,
    /// When.
    pub removed_at: DateTime<Utc>,
    /// Why.
    pub reason: String,
}

/// One attached document as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EvidenceRecord {
    /// Evidence id.
    pub id: EvidenceId,
    /// Its round.
    pub round: RoundRef,
    /// Its unit.
    pub unit: UnitId,
    /// The indicator it supports.
    pub indicator: IndicatorCode,
    /// Sanitised file name.
    pub file_name: String,
    /// What the uploader declared.
    pub declared_content_type: String,
    /// What the bytes are.
    pub content_type: String,
    /// Size in bytes.
    pub size_bytes: u64,
    /// Content hash.
    pub sha256: ContentHash,
    /// Key of the content object.
    pub storage_key: String,
    /// Subject of the uploader.
    pub uploaded_by: String,
    /// When it was uploaded.
    pub uploaded_at: DateTime<Utc>,
    /// Set once removed.
    pub removal: Option<RemovalRecord>,
}

/// A new attachment to record.
#[derive(Debug, Clone)]
pub struct NewAttachment<'a> {
    /// Evidence id.
    pub id: EvidenceId,
    /// Its round.
    pub round: &'a RoundRef,
    /// Its unit.
    pub unit: &'a UnitId,
    /// The indicator it supports.
    pub indicator: &'a IndicatorCode,
    /// Sanitised file name.
    pub file_name: &'a str,
    /// What the uploader declared.
    pub declared_content_type: &'a str,
    /// What the bytes are.
    pub content_type: &'a str,
    /// Size in bytes.
    pub size_bytes: u64,
    /// Content hash.
    pub sha256: &'a ContentHash,
    /// Subject of the uploader.
    pub uploaded_by: &'a str,
}

/// A query reading attachments with their objects, in [`EvidenceRow`] order, followed by
/// `$condition` (a string literal).
macro_rules! select_evidence {
    ($condition:literal) => {
        concat!(
            "SELECT a.id, a.year, a.framework, a.unit_id, a.indicator_code, a.file_name, \
             a.declared_content_type, o.content_type, o.size_bytes, a.sha256, o.storage_key, \
             a.uploaded_by, a.uploaded_at, a.removed_by, a.removed_at, a.removal_reason \
             FROM evidence_attachments a JOIN evidence_objects o ON o.sha256 = a.sha256 ",
            $condition
        )
    };
}

type EvidenceRow = (
    EvidenceId,
    i16,
    String,
    String,
    String,
    String,
    String,
    String,
    i64,
    Vec<u8>,
    String,
    String,
    DateTime<Utc>,
    Option<String>,
    Option<DateTime<Utc>>,
    Option<String>,
);

fn record(row: EvidenceRow) -> Result<EvidenceRecord, EvidenceError> {
    let (id, year, framework, unit, indicator, file_name, declared, content_type, size, sha256) = (
        row.0, row.1, row.2, row.3, row.4, row.5, row.6, row.7, row.8, row.9,
    );
    let corrupt = |what: &str| {
        EvidenceError::Corrupted(format!("evidence {id} has an unreadable stored {what}"))
    };
    let removal = match (row.13, row.14, row.15) {
        (Some(removed_by), Some(removed_at), Some(reason)) => Some(RemovalRecord {
            removed_by,
            removed_at,
            reason,
        }),
        _ => None,
    };
    Ok(EvidenceRecord {
        id,
        round: RoundRef {
            year: u16::try_from(year).map_err(|_| corrupt("year"))?,
            framework: FrameworkId::parse(framework).map_err(|_| corrupt("framework"))?,
        },
        unit: UnitId::parse(unit).map_err(|_| corrupt("unit"))?,
        indicator: IndicatorCode::parse(indicator).map_err(|_| corrupt("indicator code"))?,
        file_name,
        declared_content_type: declared,
        content_type,
        size_bytes: u64::try_from(size).map_err(|_| corrupt("size"))?,
        sha256: ContentHash::from_slice(&sha256).ok_or_else(|| corrupt("hash"))?,
        storage_key: row.10,
        uploaded_by: row.11,
        uploaded_at: row.12,
        removal,
    })
}

fn stored_year(round: &RoundRef) -> i32 {
    dti_workflow::rounds::stored_year(round)
}

/// The evidence `id`, if it exists.
pub async fn find<'e, E>(
    executor: E,
    id: EvidenceId,
) -> Result<Option<EvidenceRecord>, EvidenceError>
where
    E: sqlx::PgExecutor<'e>,
{
    let row: Option<EvidenceRow> = sqlx::query_as(select_evidence!("WHERE a.id = $1"))
        .bind(id)
        .fetch_optional(executor)
        .await
        .map_err(EvidenceError::database("reading evidence"))?;
    row.map(record).transpose()
}

/// Locks the attachment `id` for the rest of `tx` and returns it.
pub async fn lock(
    tx: &mut PgTransaction,
    id: EvidenceId,
) -> Result<Option<EvidenceRecord>, EvidenceError> {
    let row: Option<EvidenceRow> =
        sqlx::query_as(select_evidence!("WHERE a.id = $1 FOR UPDATE OF a"))
            .bind(id)
            .fetch_optional(&mut **tx)
            .await
            .map_err(EvidenceError::database("locking evidence"))?;
    row.map(record).transpose()
}

/// The evidence of `unit` in `round`, of one indicator when given, oldest first.
pub async fn list<'e, E>(
    executor: E,
    round: &RoundRef,
    unit: &UnitId,
    indicator: Option<&IndicatorCode>,
    include_removed: bool,
) -> Result<Vec<EvidenceRecord>, EvidenceError>
where
    E: sqlx::PgExecutor<'e>,
{
    let rows: Vec<EvidenceRow> = sqlx::query_as(select_evidence!(
        "WHERE a.year = $1 AND a.framework = $2 AND a.unit_id = $3 \
         AND ($4::text IS NULL OR a.indicator_code = $4) \
         AND ($5 OR a.removed_at IS NULL) \
         ORDER BY a.uploaded_at, a.id"
    ))
    .bind(stored_year(round))
    .bind(round.framework.as_str())
    .bind(unit.as_str())
    .bind(indicator.map(IndicatorCode::as_str))
    .bind(include_removed)
    .fetch_all(executor)
    .await
    .map_err(EvidenceError::database("listing evidence"))?;
    rows.into_iter().map(record).collect()
}

/// The current (not removed) attachment of `sha256` to this indicator of this unit, if any.
pub async fn find_current_duplicate(
    tx: &mut PgTransaction,
    round: &RoundRef,
    unit: &UnitId,
    indicator: &IndicatorCode,
    sha256: &ContentHash,
) -> Result<Option<EvidenceRecord>, EvidenceError> {
    let row: Option<EvidenceRow> = sqlx::query_as(select_evidence!(
        "WHERE a.year = $1 AND a.framework = $2 AND a.unit_id = $3 \
         AND a.indicator_code = $4 AND a.sha256 = $5 AND a.removed_at IS NULL"
    ))
    .bind(stored_year(round))
    .bind(round.framework.as_str())
    .bind(unit.as_str())
    .bind(indicator.as_str())
    .bind(sha256.as_bytes().as_slice())
    .fetch_optional(&mut **tx)
    .await
    .map_err(EvidenceError::database("looking for the same document"))?;
    row.map(record).transpose()
}

/// Takes the transaction-level lock of `content`, serialising its storing and sweeping.
pub async fn lock_content(
    tx: &mut PgTransaction,
    content: &ContentHash,
) -> Result<(), EvidenceError> {
    sqlx::query("SELECT pg_advisory_xact_lock($1, $2)")
        .bind(CONTENT_LOCK_SPACE)
        .bind(content.lock_key())
        .execute(&mut **tx)
        .await
        .map_err(EvidenceError::database("locking a content hash"))?;
    Ok(())
}

/// First key of every content lock (`pg_advisory_xact_lock(int, int)`): "EvCo".
const CONTENT_LOCK_SPACE: i32 = 0x4576_436f;

/// Whether `content` is recorded (and so must be kept).
pub async fn content_recorded(
    tx: &mut PgTransaction,
    content: &ContentHash,
) -> Result<bool, EvidenceError> {
    sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM evidence_objects WHERE sha256 = $1)")
        .bind(content.as_bytes().as_slice())
        .fetch_one(&mut **tx)
        .await
        .map_err(EvidenceError::database("checking a content object"))
}

/// Records `attachment` (and its content object, once).
pub async fn insert(
    tx: &mut PgTransaction,
    attachment: &NewAttachment<'_>,
) -> Result<EvidenceRecord, EvidenceError> {
    let size = i64::try_from(attachment.size_bytes).unwrap_or(i64::MAX);
    sqlx::query(
        "INSERT INTO evidence_objects (sha256, size_bytes, content_type, storage_key) \
         VALUES ($1, $2, $3, $4) ON CONFLICT (sha256) DO NOTHING",
    )
    .bind(attachment.sha256.as_bytes().as_slice())
    .bind(size)
    .bind(attachment.content_type)
    .bind(attachment.sha256.storage_key())
    .execute(&mut **tx)
    .await
    .map_err(EvidenceError::database("recording a content object"))?;
    sqlx::query(
        "INSERT INTO evidence_attachments (id, year, framework, unit_id, indicator_code, \
         file_name, declared_content_type, sha256, uploaded_by) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(attachment.id)
    .bind(stored_year(attachment.round))
    .bind(attachment.round.framework.as_str())
    .bind(attachment.unit.as_str())
    .bind(attachment.indicator.as_str())
    .bind(attachment.file_name)
    .bind(attachment.declared_content_type)
    .bind(attachment.sha256.as_bytes().as_slice())
    .bind(attachment.uploaded_by)
    .execute(&mut **tx)
    .await
    .map_err(EvidenceError::database("recording an attachment"))?;
    let inserted: Option<EvidenceRow> = sqlx::query_as(select_evidence!("WHERE a.id = $1"))
        .bind(attachment.id)
        .fetch_optional(&mut **tx)
        .await
        .map_err(EvidenceError::database("reading a new attachment"))?;
    inserted.map(record).transpose()?.ok_or_else(|| {
        EvidenceError::not_found(
            dti_i18n::Message::new("evidence-not-found")
                .arg("evidence", attachment.id.to_string())
                .into(),
        )
    })
}

/// Marks the attachment `id` removed by `removed_by` for `reason`.
pub async fn mark_removed(
    tx: &mut PgTransaction,
    id: EvidenceId,
    removed_by: &str,
    reason: &str,
) -> Result<RemovalRecord, EvidenceError> {
    let removed_at: DateTime<Utc> = sqlx::query_scalar(
        "UPDATE evidence_attachments SET removed_by = $2, removed_at = now(), \
         removal_reason = $3 WHERE id = $1 RETURNING removed_at",
    )
    .bind(id)
    .bind(removed_by)
    .bind(reason)
    .fetch_one(&mut **tx)
    .await
    .map_err(EvidenceError::database("marking evidence removed"))?;
    Ok(RemovalRecord {
        removed_by: removed_by.to_owned(),
        removed_at,
        reason: reason.to_owned(),
    })
}
