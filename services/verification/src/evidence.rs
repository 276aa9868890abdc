//! The evidence documents a verifier judges a version against, read from the evidence
//! service's table (`evidence_attachments` joined with `evidence_objects`): every document
//! attached to an indicator of the unit when the version was submitted, and not removed by
//! then. (Units change evidence only while their submission is a draft or clarification was
//! requested, so this is exactly the evidence that came with the version.)

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use dti_domain::EvidenceId;
use dti_domain::{RoundRef, UnitId};
use dti_workflow::rounds::stored_year;
use sqlx::PgConnection;

use crate::VerificationError;

/// One document's metadata.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EvidenceDocument {
    /// Evidence id.
    pub id: EvidenceId,
    /// Sanitised file name.
    pub file_name: String,
    /// Sniffed content type.
    pub content_type: String,
    /// Size in bytes.
    pub size_bytes: i64,
    /// SHA-256 of the content, lowercase hex.
    pub sha256: String,
    /// When it was uploaded.
    pub uploaded_at: DateTime<Utc>,
}

/// The unit's evidence as it stood at `as_of`, by indicator code, oldest first.
pub async fn as_of(
    conn: &mut PgConnection,
    round: &RoundRef,
    unit: &UnitId,
    as_of: DateTime<Utc>,
) -> Result<BTreeMap<String, Vec<EvidenceDocument>>, VerificationError> {
    type Row = (
        EvidenceId,
        String,
        String,
        String,
        i64,
        Vec<u8>,
        DateTime<Utc>,
    );
    let rows: Vec<Row> = sqlx::query_as(
        "SELECT a.id, a.indicator_code, a.file_name, o.content_type, o.size_bytes, a.sha256, \
         a.uploaded_at FROM evidence_attachments a JOIN evidence_objects o ON o.sha256 = a.sha256 \
         WHERE a.year = $1 AND a.framework = $2 AND a.unit_id = $3 AND a.uploaded_at <= $4 \
         AND (a.removed_at IS NULL OR a.removed_at > $4) \
         ORDER BY a.indicator_code, a.uploaded_at, a.id",
    )
    .bind(stored_year(round))
    .bind(round.framework.as_str())
    .bind(unit.as_str())
    .bind(as_of)
    .fetch_all(&mut *conn)
    .await
    .map_err(VerificationError::database("reading evidence"))?;
    let mut by_indicator: BTreeMap<String, Vec<EvidenceDocument>> = BTreeMap::new();
    for (id, code, file_name, content_type, size_bytes, sha256, uploaded_at) in rows {
        by_indicator
            .entry(code)
            .or_default()
            .push(EvidenceDocument {
                id,
                file_name,
                content_type,
                size_bytes,
                sha256: hex::encode(sha256),
                uploaded_at,
            });
    }
    Ok(by_indicator)
}
