//! Owners' parts: a data owner's values for the items its department owns, checked against the
//! framework data (which items it owns, what each value looks like), stored with their evidence
//! and a revision, each change audited (`national:<department>` chain) and announced in the
//! same transaction; and Sở TT&TT's disputes of a part.

use std::collections::HashSet;

use chrono::{DateTime, Utc};
use dti_audit::{AuditEntry, Chain};
use dti_auth::Principal;
use dti_db::{PgPool, PgTransaction};
use dti_domain::values::{
    decode_indicator_values, decode_variable, InputIssue, GENERAL_INFO_PLACE,
};
use dti_domain::UnitId;
use dti_i18n::Message;
use dti_proto::dti::events::v1::NationalOwnerValueChanged;
use dti_service_kit::status::{FieldViolation, InvalidRequest};
use serde_json::{json, Value};
use sqlx::types::Json;

use crate::content::EvidenceRef;
use crate::events::{self, EventSubjects};
use crate::national_set::{ItemKey, ItemKind, ItemShape, NationalItem, NationalSet, NationalYear};
use crate::value_versions;
use crate::NationalSyncError;

/// Most evidence references per part.
pub const MAX_EVIDENCE: usize = 20;
/// Longest evidence reference, in characters.
pub const MAX_REFERENCE_CHARS: usize = 2048;
/// Longest evidence title, in characters.
pub const MAX_TITLE_CHARS: usize = 500;
/// Longest dispute reason, in characters.
pub const MAX_REASON_CHARS: usize = 2000;

/// The value a request gives for one item, before validation.
#[derive(Debug, Clone)]
pub enum RequestedValue {
    /// An indicator's variables as (name, contract JSON).
    Variables(Vec<(String, Value)>),
    /// A general-information field's value (contract JSON; `Null` when not given).
    Field(Value),
}

/// One requested part.
#[derive(Debug, Clone)]
pub struct RequestedPart {
    /// The item.
    pub item: ItemKey,
    /// Where it is in the request, for messages, e.g. `indicators[2]`.
    pub field: String,
    /// Its value.
    pub value: RequestedValue,
    /// Its evidence.
    pub evidence: Vec<EvidenceRef>,
}

/// A part as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredPart {
    /// The item.
    pub item: ItemKey,
    /// The owner.
    pub department: String,
    /// Its value (contract JSON).
    pub value: Value,
    /// Its evidence.
    pub evidence: Vec<EvidenceRef>,
    /// Revision, from 1.
    pub revision: i32,
    /// Who set it last.
    pub updated_by: String,
    /// When.
    pub updated_at: DateTime<Utc>,
    /// Reason of an open dispute, and who raised it.
    pub dispute: Option<(String, String)>,
}

/// What a submission did.
#[derive(Debug, Clone)]
pub struct SubmitOutcome {
    /// The parts after the request, in request order.
    pub parts: Vec<StoredPart>,
    /// How many changed.
    pub changed: u32,
    /// Warnings about the values (stored anyway).
    pub warnings: Vec<InputIssue>,
}

/// A validated part, ready to store.
#[derive(Debug, Clone)]
struct CheckedPart {
    item: ItemKey,
    value: Value,
    evidence: Vec<EvidenceRef>,
}

/// Stores `department`'s parts for `year`: all or nothing. Refuses items the department does
/// not own (PermissionDenied) and invalid values (InvalidArgument naming unit, item and field).
pub async fn submit(
    pool: &PgPool,
    set: &NationalSet,
    subjects: &EventSubjects,
    actor: &Principal,
    department: &UnitId,
    year: u32,
    requested: Vec<RequestedPart>,
) -> Result<SubmitOutcome, NationalSyncError> {
    let year = check_request(set, year, &requested)?;
    check_ownership(set, department, &requested)?;
    let (checked, warnings) = decode_parts(set, department, &requested)?;
    let mut order: Vec<usize> = (0..checked.len()).collect();
    order.sort_by(|&a, &b| checked[a].item.cmp(&checked[b].item));
    let mut tx = pool
        .begin()
        .await
        .map_err(NationalSyncError::database("beginning an owner submission"))?;
    let mut stored = vec![None; checked.len()];
    let mut changed = 0;
    for position in order {
        let part = &checked[position];
        let (part, was_changed) =
            store_part(&mut tx, set, subjects, actor, department, year, part).await?;
        changed += u32::from(was_changed);
        stored[position] = Some(part);
    }
    tx.commit().await.map_err(NationalSyncError::database(
        "committing an owner submission",
    ))?;
    Ok(SubmitOutcome {
        parts: stored.into_iter().flatten().collect(),
        changed,
        warnings,
    })
}

/// Year, shape of the request, known items, no duplicates, evidence limits.
fn check_request(
    set: &NationalSet,
    year: u32,
    requested: &[RequestedPart],
) -> Result<NationalYear, NationalSyncError> {
    let mut violations = Vec::new();
    let checked_year = set
        .year(year)
        .map_err(|problem| violations.push(FieldViolation::new("year", problem)))
        .ok();
    if requested.is_empty() {
        violations.push(FieldViolation::new(
            "indicators",
            Message::new("sync-no-values"),
        ));
    }
    let mut seen = HashSet::new();
    for part in requested {
        let code_field = match part.item.kind {
            ItemKind::Indicator => format!("{}.indicator_code", part.field),
            ItemKind::GeneralInfo => format!("{}.key", part.field),
        };
        if set.item(&part.item).is_none() {
            violations.push(FieldViolation::new(
                code_field,
                unknown_item(set, &part.item),
            ));
        } else if !seen.insert(&part.item) {
            violations.push(FieldViolation::new(
                code_field,
                Message::new("sync-item-twice").arg("item", part.item.message()),
            ));
        }
        violations.extend(evidence_violations(&part.field, &part.evidence));
    }
    match (checked_year, violations.is_empty()) {
        (Some(year), true) => Ok(year),
        _ => Err(NationalSyncError::from(InvalidRequest {
            summary: Message::new("sync-owner-values-rejected").into(),
            violations,
        })),
    }
}

/// The problem of an item the framework does not have: `indicator "10.1" is not in framework
/// mic-2022-province` (the code quoted as sent).
fn unknown_item(set: &NationalSet, item: &ItemKey) -> Message {
    Message::new("sync-item-not-in-framework")
        .arg("item", item.kind.named(format!("{:?}", item.code)))
        .arg("framework", set.framework_id().to_string())
}

/// Problems with a part's evidence references.
fn evidence_violations(field: &str, evidence: &[EvidenceRef]) -> Vec<FieldViolation> {
    let mut violations = Vec::new();
    if evidence.len() > MAX_EVIDENCE {
        violations.push(FieldViolation::new(
            format!("{field}.evidence"),
            Message::new("sync-too-many-evidence")
                .arg("max", MAX_EVIDENCE)
                .arg("got", evidence.len()),
        ));
    }
    for (position, reference) in evidence.iter().enumerate() {
        let at = format!("{field}.evidence[{position}]");
        let text = reference.reference.trim();
        if text.is_empty() {
            violations.push(FieldViolation::new(
                format!("{at}.reference"),
                Message::new("sync-must-not-be-empty"),
            ));
        } else if text.chars().count() > MAX_REFERENCE_CHARS || text.chars().any(char::is_control) {
            violations.push(FieldViolation::new(
                format!("{at}.reference"),
                Message::new("sync-reference-too-long").arg("max", MAX_REFERENCE_CHARS),
            ));
        }
        if reference.title.chars().count() > MAX_TITLE_CHARS {
            violations.push(FieldViolation::new(
                format!("{at}.title"),
                Message::new("sync-title-too-long").arg("max", MAX_TITLE_CHARS),
            ));
        }
    }
    violations
}

/// Refuses the whole request when one item is not the department's.
fn check_ownership(
    set: &NationalSet,
    department: &UnitId,
    requested: &[RequestedPart],
) -> Result<(), NationalSyncError> {
    let foreign: Vec<String> = requested
        .iter()
        .filter_map(|part| set.item(&part.item))
        .filter(|item| !item.is_owned_by(department))
        .map(|item| {
            let owners: Vec<&str> = item.owners.iter().map(UnitId::as_str).collect();
            Message::new("sync-owned-by")
                .arg("item", item.key.message())
                .arg("owners", owners.join(", "))
                .localized()
        })
        .collect();
    if foreign.is_empty() {
        return Ok(());
    }
    Err(NationalSyncError::permission_denied(
        Message::new("sync-not-owner")
            .arg("department", department.to_string())
            .arg("items", foreign.join("; "))
            .into(),
    ))
}

/// Decodes every value with the framework's types; all problems at once.
fn decode_parts(
    set: &NationalSet,
    department: &UnitId,
    requested: &[RequestedPart],
) -> Result<(Vec<CheckedPart>, Vec<InputIssue>), NationalSyncError> {
    let mut checked = Vec::with_capacity(requested.len());
    let mut issues = Vec::new();
    for part in requested {
        let Some(item) = set.item(&part.item) else {
            continue;
        };
        if let Some(value) = decode_value(set, item, department, &part.value, &mut issues) {
            checked.push(CheckedPart {
                item: part.item.clone(),
                value,
                evidence: trimmed(&part.evidence),
            });
        }
    }
    let (errors, warnings): (Vec<InputIssue>, Vec<InputIssue>) =
        issues.into_iter().partition(InputIssue::is_error);
    if !errors.is_empty() {
        return Err(NationalSyncError::from(InvalidRequest {
            summary: Message::new("sync-owner-values-rejected").into(),
            violations: errors.iter().map(FieldViolation::from).collect(),
        }));
    }
    Ok((checked, warnings))
}

fn trimmed(evidence: &[EvidenceRef]) -> Vec<EvidenceRef> {
    evidence
        .iter()
        .map(|reference| EvidenceRef {
            reference: reference.reference.trim().to_owned(),
            title: reference.title.trim().to_owned(),
        })
        .collect()
}

/// The stored JSON of one value, or `None` with its issues recorded.
fn decode_value(
    set: &NationalSet,
    item: &NationalItem,
    department: &UnitId,
    requested: &RequestedValue,
    issues: &mut Vec<InputIssue>,
) -> Option<Value> {
    let unit = department.as_str();
    match (&item.shape, requested) {
        (ItemShape::Indicator(_), RequestedValue::Variables(variables)) => {
            let indicator = set.indicator(item)?;
            let decoded = decode_indicator_values(unit, indicator, variables.iter().cloned());
            issues.extend(decoded.issues);
            decoded
                .value
                .and_then(|values| serde_json::to_value(values).ok())
        }
        (ItemShape::GeneralInfo(ty), RequestedValue::Field(raw)) => {
            match decode_variable(ty, raw) {
                Ok(value) => serde_json::to_value(value).ok(),
                Err(message) => {
                    issues.push(general_info_issue(unit, &item.key.code, message));
                    None
                }
            }
        }
        _ => {
            issues.push(general_info_issue(
                unit,
                &item.key.code,
                Message::new("issue-value-kind-mismatch"),
            ));
            None
        }
    }
}

fn general_info_issue(unit: &str, key: &str, message: Message) -> InputIssue {
    InputIssue {
        severity: dti_domain::values::Severity::Error,
        unit: Some(unit.to_owned()),
        indicator: Some(format!("{GENERAL_INFO_PLACE}{key}")),
        variable: None,
        message,
    }
}

type StoredRow = (
    Json<Value>,
    Json<Vec<EvidenceRef>>,
    i32,
    String,
    DateTime<Utc>,
    Option<String>,
    Option<String>,
);

/// Stores one part under its item's lock; returns it and whether its content changed.
async fn store_part(
    tx: &mut PgTransaction,
    set: &NationalSet,
    subjects: &EventSubjects,
    actor: &Principal,
    department: &UnitId,
    year: NationalYear,
    part: &CheckedPart,
) -> Result<(StoredPart, bool), NationalSyncError> {
    let item = set.item(&part.item).ok_or_else(|| {
        NationalSyncError::Corrupt(format!("{} vanished from the set", part.item))
    })?;
    let latest = value_versions::lock_item(tx, set, year, &part.item).await?;
    let existing = read_part(&mut **tx, set, year, &part.item, department).await?;
    let round = set.audit_round(year);
    let chain = Chain::Named(format!("national:{department}"));
    let subject = format!("{} / {department}", part.item);
    if let Some(existing) = existing
        .as_ref()
        .filter(|e| e.value == part.value && e.evidence == part.evidence)
        .cloned()
    {
        let Some((reason, _)) = &existing.dispute else {
            return Ok((existing, false));
        };
        set_dispute(tx, set, year, &part.item, department, None, actor).await?;
        dti_audit::append(
            tx,
            &AuditEntry {
                round: &round,
                chain,
                actor,
                action: "national_sync.dispute_cleared",
                subject,
                before: Some(json!({"dispute_reason": reason})),
                after: Some(json!({"confirmed_revision": existing.revision})),
            },
        )
        .await?;
        return Ok((
            StoredPart {
                dispute: None,
                ..existing
            },
            false,
        ));
    }
    let revision = existing.as_ref().map_or(1, |e| e.revision + 1);
    let updated_at: DateTime<Utc> = sqlx::query_scalar(
        "INSERT INTO national_owner_parts \
         (year, framework, item_kind, item_code, owner_id, value, evidence, revision, updated_by) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) \
         ON CONFLICT (year, framework, item_kind, item_code, owner_id) DO UPDATE SET \
         value = EXCLUDED.value, evidence = EXCLUDED.evidence, revision = EXCLUDED.revision, \
         updated_by = EXCLUDED.updated_by, updated_at = now(), \
         dispute_reason = NULL, disputed_by = NULL, disputed_at = NULL \
         RETURNING updated_at",
    )
    .bind(year.stored())
    .bind(set.framework_id().as_str())
    .bind(part.item.kind.as_str())
    .bind(&part.item.code)
    .bind(department.as_str())
    .bind(Json(&part.value))
    .bind(Json(&part.evidence))
    .bind(revision)
    .bind(&actor.subject)
    .fetch_one(&mut **tx)
    .await
    .map_err(NationalSyncError::database("storing an owner's part"))?;
    let snapshot = |stored: &StoredPart| json!({"value": stored.value, "evidence": stored.evidence, "revision": stored.revision});
    let stored = StoredPart {
        item: part.item.clone(),
        department: department.to_string(),
        value: part.value.clone(),
        evidence: part.evidence.clone(),
        revision,
        updated_by: actor.subject.clone(),
        updated_at,
        dispute: None,
    };
    dti_audit::append(
        tx,
        &AuditEntry {
            round: &round,
            chain,
            actor,
            action: "national_sync.owner_value_set",
            subject,
            before: existing.as_ref().map(snapshot),
            after: Some(snapshot(&stored)),
        },
    )
    .await?;
    let item_version = value_versions::recombine(tx, set, year, item, latest).await?;
    let corrupt = |what: &str, value: i64| {
        NationalSyncError::Corrupt(format!(
            "{what} {value} of {} {} is not a version",
            part.item.kind.as_str(),
            part.item.code
        ))
    };
    let revision = u32::try_from(revision).map_err(|_| corrupt("revision", revision.into()))?;
    let item_version =
        u32::try_from(item_version).map_err(|_| corrupt("item version", item_version.into()))?;
    let event = NationalOwnerValueChanged {
        year: u32::from(year.as_u16()),
        framework: set.framework_id().to_string(),
        item_kind: part.item.kind.as_str().to_owned(),
        item_code: part.item.code.clone(),
        department_id: department.to_string(),
        revision,
        item_version,
        changed_by: actor.subject.clone(),
        changed_at: Some(events::timestamp(updated_at)),
    };
    events::owner_value_changed(tx, subjects, &event).await?;
    metrics::counter!("dti_national_owner_parts_changed_total").increment(1);
    Ok((stored, true))
}

/// One owner's stored part of an item.
async fn read_part<'e, E>(
    executor: E,
    set: &NationalSet,
    year: NationalYear,
    item: &ItemKey,
    department: &UnitId,
) -> Result<Option<StoredPart>, NationalSyncError>
where
    E: sqlx::PgExecutor<'e>,
{
    let row: Option<StoredRow> = sqlx::query_as(
        "SELECT value, evidence, revision, updated_by, updated_at, dispute_reason, disputed_by \
         FROM national_owner_parts WHERE year = $1 AND framework = $2 AND item_kind = $3 \
         AND item_code = $4 AND owner_id = $5",
    )
    .bind(year.stored())
    .bind(set.framework_id().as_str())
    .bind(item.kind.as_str())
    .bind(&item.code)
    .bind(department.as_str())
    .fetch_optional(executor)
    .await
    .map_err(NationalSyncError::database("reading an owner's part"))?;
    Ok(row.map(|row| stored_part(item.clone(), department.to_string(), row)))
}

fn stored_part(item: ItemKey, department: String, row: StoredRow) -> StoredPart {
    let (value, evidence, revision, updated_by, updated_at, reason, by) = row;
    StoredPart {
        item,
        department,
        value: value.0,
        evidence: evidence.0,
        revision,
        updated_by,
        updated_at,
        dispute: reason.zip(by),
    }
}

/// Sets (`Some(reason)`) or clears (`None`) the dispute of a part.
async fn set_dispute(
    tx: &mut PgTransaction,
    set: &NationalSet,
    year: NationalYear,
    item: &ItemKey,
    department: &UnitId,
    reason: Option<&str>,
    actor: &Principal,
) -> Result<(), NationalSyncError> {
    sqlx::query(
        "UPDATE national_owner_parts SET dispute_reason = $6, \
         disputed_by = CASE WHEN $6::text IS NULL THEN NULL ELSE $7 END, \
         disputed_at = CASE WHEN $6::text IS NULL THEN NULL ELSE now() END \
         WHERE year = $1 AND framework = $2 AND item_kind = $3 AND item_code = $4 AND owner_id = $5",
    )
    .bind(year.stored())
    .bind(set.framework_id().as_str())
    .bind(item.kind.as_str())
    .bind(&item.code)
    .bind(department.as_str())
    .bind(reason)
    .bind(&actor.subject)
    .execute(&mut **tx)
    .await
    .map_err(NationalSyncError::database("changing a part's dispute"))?;
    Ok(())
}

type DepartmentRow = (
    String,
    String,
    Json<Value>,
    Json<Vec<EvidenceRef>>,
    i32,
    String,
    DateTime<Utc>,
    Option<String>,
    Option<String>,
);

/// A department's stored parts for a year, in framework order, and the items it owns but has
/// not supplied.
pub async fn department_parts(
    pool: &PgPool,
    set: &NationalSet,
    year: NationalYear,
    department: &UnitId,
) -> Result<(Vec<StoredPart>, Vec<ItemKey>), NationalSyncError> {
    let rows: Vec<DepartmentRow> = sqlx::query_as(
        "SELECT item_kind, item_code, value, evidence, revision, updated_by, updated_at, \
             dispute_reason, disputed_by FROM national_owner_parts \
             WHERE year = $1 AND framework = $2 AND owner_id = $3",
    )
    .bind(year.stored())
    .bind(set.framework_id().as_str())
    .bind(department.as_str())
    .fetch_all(pool)
    .await
    .map_err(NationalSyncError::database("reading a department's parts"))?;
    let mut parts = Vec::new();
    for (kind, code, value, evidence, revision, by, at, reason, disputed_by) in rows {
        let kind = kind
            .parse::<ItemKind>()
            .map_err(NationalSyncError::Corrupt)?;
        let row = (value, evidence, revision, by, at, reason, disputed_by);
        parts.push(stored_part(
            ItemKey { kind, code },
            department.to_string(),
            row,
        ));
    }
    let position = |key: &ItemKey| set.items().iter().position(|item| &item.key == key);
    parts.sort_by_key(|part| position(&part.item));
    let missing = set
        .items()
        .iter()
        .filter(|item| item.is_owned_by(department))
        .filter(|item| !parts.iter().any(|part| part.item == item.key))
        .map(|item| item.key.clone())
        .collect();
    Ok((parts, missing))
}

/// Marks `department`'s part of `item` as disputed by a reviewer, until the owner submits it
/// again. The part must exist and the department must own the item.
pub async fn dispute(
    pool: &PgPool,
    set: &NationalSet,
    actor: &Principal,
    year: u32,
    item: ItemKey,
    department: &str,
    reason: &str,
) -> Result<StoredPart, NationalSyncError> {
    let mut violations = Vec::new();
    let checked_year = set
        .year(year)
        .map_err(|problem| violations.push(FieldViolation::new("year", problem)))
        .ok();
    let routed = set.item(&item);
    if routed.is_none() {
        violations.push(FieldViolation::new("item.code", unknown_item(set, &item)));
    }
    let department_id = UnitId::parse(department).ok();
    match (&department_id, routed) {
        (None, _) => violations.push(FieldViolation::new(
            "department_id",
            Message::new("sync-not-unit-id"),
        )),
        (Some(id), Some(routed)) if !routed.is_owned_by(id) => {
            violations.push(FieldViolation::new(
                "department_id",
                Message::new("sync-department-not-owner")
                    .arg("department", id.to_string())
                    .arg("item", item.message()),
            ))
        }
        _ => {}
    }
    let reason = reason.trim();
    if reason.is_empty() || reason.chars().count() > MAX_REASON_CHARS {
        violations.push(FieldViolation::new(
            "reason",
            Message::new("sync-reason-length").arg("max", MAX_REASON_CHARS),
        ));
    }
    let (Some(year), Some(department), true) = (checked_year, department_id, violations.is_empty())
    else {
        return Err(NationalSyncError::from(InvalidRequest {
            summary: Message::new("sync-dispute-rejected").into(),
            violations,
        }));
    };
    let mut tx = pool
        .begin()
        .await
        .map_err(NationalSyncError::database("beginning a dispute"))?;
    value_versions::lock_item(&mut tx, set, year, &item).await?;
    let existing = read_part(&mut *tx, set, year, &item, &department)
        .await?
        .ok_or_else(|| {
            NationalSyncError::not_found(
                Message::new("sync-nothing-to-dispute")
                    .arg("department", department.to_string())
                    .arg("item", item.message())
                    .arg("year", year.to_string())
                    .into(),
            )
        })?;
    set_dispute(&mut tx, set, year, &item, &department, Some(reason), actor).await?;
    dti_audit::append(
        &mut tx,
        &AuditEntry {
            round: &set.audit_round(year),
            chain: Chain::Named(format!("national:{department}")),
            actor,
            action: "national_sync.value_disputed",
            subject: format!("{item} / {department}"),
            before: existing
                .dispute
                .as_ref()
                .map(|(reason, _)| json!({"dispute_reason": reason})),
            after: Some(json!({"dispute_reason": reason, "revision": existing.revision})),
        },
    )
    .await?;
    tx.commit()
        .await
        .map_err(NationalSyncError::database("committing a dispute"))?;
    Ok(StoredPart {
        dispute: Some((reason.to_owned(), actor.subject.clone())),
        ..existing
    })
}
