//! The push log: one append-only row per item, owner and event of a push (sent, accepted,
//! rejected with the national system's reason, failed). `sent` and `failed` rows are written
//! at once (they survive a crash mid-push); `accepted`/`rejected` rows are written in the
//! transaction that completes the push, and a unique index allows one final answer per
//! (year, item, value version, owner).

use chrono::{DateTime, Utc};
use dti_db::PgPool;
use dti_domain::SyncRunId;

use crate::national_set::{ItemKey, ItemKind, NationalSet};
use crate::NationalSyncError;

/// What happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PushEvent {
    /// A request was sent.
    Sent,
    /// Accepted.
    Accepted,
    /// Rejected.
    Rejected,
    /// Failed without an answer.
    Failed,
}

impl PushEvent {
    /// As stored.
    pub fn as_str(self) -> &'static str {
        match self {
            PushEvent::Sent => "sent",
            PushEvent::Accepted => "accepted",
            PushEvent::Rejected => "rejected",
            PushEvent::Failed => "failed",
        }
    }

    fn parse(text: &str) -> Result<Self, NationalSyncError> {
        match text {
            "sent" => Ok(PushEvent::Sent),
            "accepted" => Ok(PushEvent::Accepted),
            "rejected" => Ok(PushEvent::Rejected),
            "failed" => Ok(PushEvent::Failed),
            other => Err(NationalSyncError::Corrupt(format!(
                "push log event {other:?}"
            ))),
        }
    }
}

/// The push a log row is about.
#[derive(Debug, Clone)]
pub struct LoggedPush {
    /// Run that queued it.
    pub run_id: SyncRunId,
    /// Year as stored.
    pub year: i16,
    /// Framework id.
    pub framework: String,
    /// The item.
    pub item: ItemKey,
    /// Value version.
    pub version: i32,
    /// Idempotency key.
    pub idempotency_key: String,
    /// Owners of the version's parts.
    pub owners: Vec<String>,
}

/// One event of an attempt.
#[derive(Debug, Clone)]
pub struct Attempt<'a> {
    /// What happened.
    pub event: PushEvent,
    /// Attempt number, from 1.
    pub attempt: i32,
    /// HTTP status of the answer.
    pub http_status: Option<u16>,
    /// Reason or failure.
    pub detail: Option<&'a str>,
}

/// Appends one row per owner; final answers already logged are left as they are. Returns how
/// many rows were written.
pub async fn append<'e, E>(
    executor: E,
    push: &LoggedPush,
    attempt: &Attempt<'_>,
) -> Result<u64, NationalSyncError>
where
    E: sqlx::PgExecutor<'e>,
{
    let written = sqlx::query(
        "INSERT INTO national_push_log (run_id, year, framework, item_kind, item_code, version, \
         owner_id, idempotency_key, event, attempt, http_status, detail) \
         SELECT $1, $2, $3, $4, $5, $6, owner, $8, $9, $10, $11, $12 FROM unnest($7::text[]) AS owner \
         ON CONFLICT (year, framework, item_kind, item_code, version, owner_id) \
         WHERE event IN ('accepted', 'rejected') DO NOTHING",
    )
    .bind(push.run_id)
    .bind(push.year)
    .bind(&push.framework)
    .bind(push.item.kind.as_str())
    .bind(&push.item.code)
    .bind(push.version)
    .bind(&push.owners)
    .bind(&push.idempotency_key)
    .bind(attempt.event.as_str())
    .bind(attempt.attempt)
    .bind(attempt.http_status.map(i32::from))
    .bind(attempt.detail)
    .execute(executor)
    .await
    .map_err(NationalSyncError::database("writing the push log"))?;
    Ok(written.rows_affected())
}

/// The last attempt number logged for a push (0 before the first).
pub async fn last_attempt(pool: &PgPool, idempotency_key: &str) -> Result<i32, NationalSyncError> {
    sqlx::query_scalar(
        "SELECT COALESCE(max(attempt), 0) FROM national_push_log WHERE idempotency_key = $1",
    )
    .bind(idempotency_key)
    .fetch_one(pool)
    .await
    .map_err(NationalSyncError::database("reading the last push attempt"))
}

/// A logged row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogEntry {
    /// Row id.
    pub id: i64,
    /// Run.
    pub run_id: SyncRunId,
    /// Item.
    pub item: ItemKey,
    /// Version.
    pub version: i32,
    /// Owner.
    pub department: String,
    /// Idempotency key.
    pub idempotency_key: String,
    /// What happened.
    pub event: PushEvent,
    /// Attempt number.
    pub attempt: i32,
    /// HTTP status.
    pub http_status: Option<i32>,
    /// Reason or failure.
    pub detail: Option<String>,
    /// When.
    pub at: DateTime<Utc>,
}

/// Which rows to list.
#[derive(Debug, Clone, Default)]
pub struct LogFilter {
    /// Only this run.
    pub run_id: Option<SyncRunId>,
    /// Only this owner.
    pub department: Option<String>,
    /// Most rows, newest first.
    pub limit: i64,
}

type LogRow = (
    i64,
    SyncRunId,
    String,
    String,
    i32,
    String,
    String,
    String,
    i32,
    Option<i32>,
    Option<String>,
    DateTime<Utc>,
);

/// The log of a year, newest first.
pub async fn list(
    pool: &PgPool,
    set: &NationalSet,
    year: i16,
    filter: &LogFilter,
) -> Result<Vec<LogEntry>, NationalSyncError> {
    let rows: Vec<LogRow> = sqlx::query_as(
        "SELECT id, run_id, item_kind, item_code, version, owner_id, idempotency_key, event, attempt, \
         http_status, detail, at FROM national_push_log \
         WHERE year = $1 AND framework = $2 AND ($3::uuid IS NULL OR run_id = $3) \
         AND ($4::text IS NULL OR owner_id = $4) ORDER BY id DESC LIMIT $5",
    )
    .bind(year)
    .bind(set.framework_id().as_str())
    .bind(filter.run_id)
    .bind(filter.department.as_deref())
    .bind(filter.limit)
    .fetch_all(pool)
    .await
    .map_err(NationalSyncError::database("reading the push log"))?;
    rows.into_iter()
        .map(
            |(
                id,
                run_id,
                kind,
                code,
                version,
                department,
                key,
                event,
                attempt,
                http_status,
                detail,
                at,
            )| {
                Ok(LogEntry {
                    id,
                    run_id,
                    item: ItemKey {
                        kind: kind
                            .parse::<ItemKind>()
                            .map_err(NationalSyncError::Corrupt)?,
                        code,
                    },
                    version,
                    department,
                    idempotency_key: key,
                    event: PushEvent::parse(&event)?,
                    attempt,
                    http_status,
                    detail,
                    at,
                })
            },
        )
        .collect()
}
