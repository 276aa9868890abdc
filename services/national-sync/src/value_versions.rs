//! Value versions: after an owner's part changes, the item's parts are recombined (in the same
//! transaction, under the item's lock) and, when the item is complete and its content differs
//! from the latest version, a new immutable version is appended. Pushes always send a version.

use dti_db::PgTransaction;
use serde_json::Value;
use sqlx::types::Json;

use crate::combine::combine;
use crate::content::{EvidenceRef, VersionContent, VersionPart};
use crate::national_set::{ItemKey, NationalItem, NationalSet, NationalYear};
use crate::NationalSyncError;

/// Creates the item's head row if needed and locks it for the rest of `tx`; returns its latest
/// value version (0 before the item was first complete). Callers lock items in key order.
pub async fn lock_item(
    tx: &mut PgTransaction,
    set: &NationalSet,
    year: NationalYear,
    key: &ItemKey,
) -> Result<i32, NationalSyncError> {
    sqlx::query(
        "INSERT INTO national_items (year, framework, item_kind, item_code) \
         VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING",
    )
    .bind(year.stored())
    .bind(set.framework_id().as_str())
    .bind(key.kind.as_str())
    .bind(&key.code)
    .execute(&mut **tx)
    .await
    .map_err(NationalSyncError::database("creating a national item"))?;
    sqlx::query_scalar(
        "SELECT latest_version FROM national_items \
         WHERE year = $1 AND framework = $2 AND item_kind = $3 AND item_code = $4 FOR UPDATE",
    )
    .bind(year.stored())
    .bind(set.framework_id().as_str())
    .bind(key.kind.as_str())
    .bind(&key.code)
    .fetch_one(&mut **tx)
    .await
    .map_err(NationalSyncError::database("locking a national item"))
}

type PartRow = (String, Json<Value>, Json<Vec<EvidenceRef>>, i32);

/// Recombines the locked item's parts; returns the latest version after it (a new one when the
/// complete content changed, `latest` otherwise).
pub async fn recombine(
    tx: &mut PgTransaction,
    set: &NationalSet,
    year: NationalYear,
    item: &NationalItem,
    latest: i32,
) -> Result<i32, NationalSyncError> {
    let rows: Vec<PartRow> = sqlx::query_as(
        "SELECT owner_id, value, evidence, revision FROM national_owner_parts \
         WHERE year = $1 AND framework = $2 AND item_kind = $3 AND item_code = $4",
    )
    .bind(year.stored())
    .bind(set.framework_id().as_str())
    .bind(item.key.kind.as_str())
    .bind(&item.key.code)
    .fetch_all(&mut **tx)
    .await
    .map_err(NationalSyncError::database("reading an item's parts"))?;
    let Some(content) = content_of(item, rows)? else {
        return Ok(latest);
    };
    let hash = content.hash();
    let latest_hash: Option<Vec<u8>> = sqlx::query_scalar(
        "SELECT content_hash FROM national_value_versions \
         WHERE year = $1 AND framework = $2 AND item_kind = $3 AND item_code = $4 AND version = $5",
    )
    .bind(year.stored())
    .bind(set.framework_id().as_str())
    .bind(item.key.kind.as_str())
    .bind(&item.key.code)
    .bind(latest)
    .fetch_optional(&mut **tx)
    .await
    .map_err(NationalSyncError::database(
        "reading an item's latest version",
    ))?;
    if latest_hash.as_deref() == Some(hash.as_slice()) {
        return Ok(latest);
    }
    let version = latest + 1;
    sqlx::query(
        "INSERT INTO national_value_versions \
         (year, framework, item_kind, item_code, version, value, parts, content_hash) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(year.stored())
    .bind(set.framework_id().as_str())
    .bind(item.key.kind.as_str())
    .bind(&item.key.code)
    .bind(version)
    .bind(Json(&content.value))
    .bind(Json(&content.parts))
    .bind(hash.as_slice())
    .execute(&mut **tx)
    .await
    .map_err(NationalSyncError::database("appending a value version"))?;
    sqlx::query(
        "UPDATE national_items SET latest_version = $5 \
         WHERE year = $1 AND framework = $2 AND item_kind = $3 AND item_code = $4",
    )
    .bind(year.stored())
    .bind(set.framework_id().as_str())
    .bind(item.key.kind.as_str())
    .bind(&item.key.code)
    .bind(version)
    .execute(&mut **tx)
    .await
    .map_err(NationalSyncError::database("advancing an item's version"))?;
    Ok(version)
}

/// The content of a complete item, or `None` while an owner's part is missing.
fn content_of(
    item: &NationalItem,
    rows: Vec<PartRow>,
) -> Result<Option<VersionContent>, NationalSyncError> {
    let mut parts = Vec::with_capacity(item.owners.len());
    for owner in &item.owners {
        let Some((_, value, evidence, revision)) =
            rows.iter().find(|(id, ..)| id == owner.as_str())
        else {
            return Ok(None);
        };
        parts.push(VersionPart {
            department: owner.to_string(),
            revision: *revision,
            value: value.0.clone(),
            evidence: evidence.0.clone(),
        });
    }
    let inputs: Vec<(&str, &Value)> = parts
        .iter()
        .map(|part| (part.department.as_str(), &part.value))
        .collect();
    let value = combine(item.combine, &inputs).map_err(|source| NationalSyncError::Combine {
        item: item.key.to_string(),
        source,
    })?;
    Ok(Some(VersionContent { value, parts }))
}
