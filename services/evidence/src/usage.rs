//! What the object store holds, as gauges read from PostgreSQL (the only truth) every
//! [`EXPORT_INTERVAL`], so any replica answers a scrape with the same numbers:
//! [`STORED_BYTES`] and [`STORED_OBJECTS`], the distinct contents recorded in
//! `evidence_objects` (a document attached twice is stored, and counted, once). Objects the
//! sweep has yet to delete (never recorded) are not counted.

use std::time::Duration;

use dti_db::PgPool;

use crate::EvidenceError;

/// Time between two reads: about a Prometheus scrape interval.
pub const EXPORT_INTERVAL: Duration = Duration::from_secs(15);

/// Gauge of the bytes of every stored document.
pub const STORED_BYTES: &str = "dti_evidence_stored_bytes";
/// Gauge of the distinct documents stored.
pub const STORED_OBJECTS: &str = "dti_evidence_stored_objects";

/// Reads the stored contents' count and size and sets the gauges.
pub async fn export_usage(pool: &PgPool) -> Result<(), EvidenceError> {
    let (objects, bytes): (i64, i64) = sqlx::query_as(
        "SELECT count(*), COALESCE(sum(size_bytes), 0)::bigint FROM evidence_objects",
    )
    .fetch_one(pool)
    .await
    .map_err(EvidenceError::database(
        "reading the stored evidence's size",
    ))?;
    metrics::gauge!(STORED_OBJECTS).set(objects as f64);
    metrics::gauge!(STORED_BYTES).set(bytes as f64);
    Ok(())
}
