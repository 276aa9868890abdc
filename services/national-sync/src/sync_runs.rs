//! Sync runs: starting one (the dry run's pushes written to the push outbox in one
//! transaction, with the run, its audit entry and its event), reading its progress, and
//! finishing it once none of its pushes is pending (counted by [`crate::sync_metrics`]).

use chrono::{DateTime, Utc};
use dti_audit::{AuditEntry, Chain};
use dti_auth::Principal;
use dti_db::{PgPool, PgTransaction};
use dti_domain::SyncRunId;
use dti_proto::dti::events::v1::{NationalSyncRunFinished, NationalSyncRunStarted};
use serde_json::json;
use sqlx::types::Json;

use crate::events::{self, EventSubjects};
use crate::national_set::{NationalSet, NationalYear};
use crate::plan::{self, SyncPlan};
use crate::snapshot;
use crate::sync_metrics::FinishedRun;
use crate::NationalSyncError;

/// Audit chain of sync runs and pushes.
pub const NATIONAL_CHAIN: &str = "national";

/// What started a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Trigger {
    /// An operator confirmed a dry run.
    Operator,
    /// The scheduled sync.
    Schedule,
}

impl Trigger {
    /// As stored: `operator` or `schedule`.
    pub fn as_str(self) -> &'static str {
        match self {
            Trigger::Operator => "operator",
            Trigger::Schedule => "schedule",
        }
    }
}

/// A run and its progress.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct RunRecord {
    /// Run id.
    pub id: SyncRunId,
    /// Year.
    pub year: i16,
    /// Framework id.
    pub framework: String,
    /// `operator` or `schedule`.
    pub trigger: String,
    /// Who started it.
    pub requested_by: String,
    /// Digest of its plan.
    pub plan_digest: String,
    /// When it started.
    pub created_at: DateTime<Utc>,
    /// When its last push was answered.
    pub finished_at: Option<DateTime<Utc>>,
    /// Pushes queued.
    pub items: i32,
    /// Accepted.
    pub accepted: i64,
    /// Rejected.
    pub rejected: i64,
    /// Pending.
    pub pending: i64,
    /// Not sent: a newer version was queued first.
    pub superseded: i64,
}

/// What `start` needs besides the request.
#[derive(Debug, Clone, Copy)]
pub struct SyncContext<'a> {
    /// The routed set.
    pub set: &'a NationalSet,
    /// Event subjects.
    pub subjects: &'a EventSubjects,
    /// The city's code in the national system.
    pub province: &'a str,
}

/// Starts a sync of `year`: re-plans under a per-year lock and, when `expected_digest` is given,
/// refuses if the plan changed since the dry run; then writes the run and one push per
/// planned item in one transaction.
pub async fn start(
    pool: &PgPool,
    context: SyncContext<'_>,
    actor: &Principal,
    year: NationalYear,
    trigger: Trigger,
    expected_digest: Option<&str>,
) -> Result<RunRecord, NationalSyncError> {
    let id = SyncRunId::generate();
    let mut tx = pool
        .begin()
        .await
        .map_err(NationalSyncError::database("beginning a sync run"))?;
    lock_year(&mut tx, context.set, year).await?;
    let snapshot = snapshot::load(pool, context.set, year).await?;
    let plan = plan::plan(context.set, &snapshot, year, context.province);
    if let Some(expected) = expected_digest.filter(|expected| *expected != plan.digest) {
        return Err(NationalSyncError::not_now(
            dti_i18n::Message::new("sync-plan-changed")
                .arg("expected", expected)
                .arg("digest", &plan.digest)
                .into(),
        ));
    }
    insert_run(&mut tx, context.set, id, year, trigger, actor, &plan).await?;
    let queued = queue_pushes(&mut tx, context.set, id, &plan).await?;
    sqlx::query("UPDATE national_sync_runs SET items = $2 WHERE id = $1")
        .bind(id)
        .bind(queued)
        .execute(&mut *tx)
        .await
        .map_err(NationalSyncError::database("counting a run's pushes"))?;
    record_start(&mut tx, context, actor, id, year, trigger, &plan, queued).await?;
    let finished = match queued {
        0 => finish_if_done(&mut tx, context.set, context.subjects, actor, id).await?,
        _ => None,
    };
    tx.commit()
        .await
        .map_err(NationalSyncError::database("committing a sync run"))?;
    metrics::counter!("dti_national_sync_runs_total", "trigger" => trigger.as_str()).increment(1);
    if let Some(run) = finished {
        run.record();
    }
    find(pool, id).await?.ok_or_else(|| {
        NationalSyncError::Corrupt(format!("run {id} vanished after it was written"))
    })
}

/// Serialises run starts of one year (and framework) across replicas.
async fn lock_year(
    tx: &mut PgTransaction,
    set: &NationalSet,
    year: NationalYear,
) -> Result<(), NationalSyncError> {
    sqlx::query("SELECT pg_advisory_xact_lock(hashtext('dti-national-sync-run'), hashtext($1))")
        .bind(format!("{}/{year}", set.framework_id()))
        .execute(&mut **tx)
        .await
        .map_err(NationalSyncError::database("locking the year's sync runs"))?;
    Ok(())
}

async fn queue_pushes(
    tx: &mut PgTransaction,
    set: &NationalSet,
    run: SyncRunId,
    plan: &SyncPlan,
) -> Result<i32, NationalSyncError> {
    let mut queued = 0;
    for item in plan.to_push() {
        let (Some(key), Some(body)) = (&item.idempotency_key, &item.body) else {
            continue;
        };
        let inserted = sqlx::query(
            "INSERT INTO national_push_jobs \
             (year, framework, item_kind, item_code, version, run_id, idempotency_key, body, state) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'pending') ON CONFLICT DO NOTHING",
        )
        .bind(plan.year.stored())
        .bind(set.framework_id().as_str())
        .bind(item.key.kind.as_str())
        .bind(&item.key.code)
        .bind(item.version)
        .bind(run)
        .bind(key)
        .bind(Json(body))
        .execute(&mut **tx)
        .await
        .map_err(NationalSyncError::database("queueing a push"))?;
        if inserted.rows_affected() == 1 {
            queued += 1;
            supersede_older(tx, set, plan, &item.key, item.version).await?;
        }
    }
    Ok(queued)
}

async fn insert_run(
    tx: &mut PgTransaction,
    set: &NationalSet,
    id: SyncRunId,
    year: NationalYear,
    trigger: Trigger,
    actor: &Principal,
    plan: &SyncPlan,
) -> Result<(), NationalSyncError> {
    sqlx::query(
        "INSERT INTO national_sync_runs (id, year, framework, trigger, requested_by, plan_digest, items) \
         VALUES ($1, $2, $3, $4, $5, $6, 0)",
    )
    .bind(id)
    .bind(year.stored())
    .bind(set.framework_id().as_str())
    .bind(trigger.as_str())
    .bind(&actor.subject)
    .bind(&plan.digest)
    .execute(&mut **tx)
    .await
    .map_err(NationalSyncError::database("recording a sync run"))?;
    Ok(())
}

#[allow(
    clippy::too_many_arguments,
    reason = "the audit entry and event of one start"
)]
async fn record_start(
    tx: &mut PgTransaction,
    context: SyncContext<'_>,
    actor: &Principal,
    id: SyncRunId,
    year: NationalYear,
    trigger: Trigger,
    plan: &SyncPlan,
    queued: i32,
) -> Result<(), NationalSyncError> {
    let keys: Vec<&str> = plan
        .to_push()
        .filter_map(|item| item.idempotency_key.as_deref())
        .collect();
    dti_audit::append(
        tx,
        &AuditEntry {
            round: &context.set.audit_round(year),
            chain: Chain::Named(NATIONAL_CHAIN.to_owned()),
            actor,
            action: "national_sync.run_started",
            subject: format!("sync run {id}"),
            before: None,
            after: Some(json!({
                "trigger": trigger.as_str(),
                "plan_digest": plan.digest,
                "queued": queued,
                "idempotency_keys": keys,
            })),
        },
    )
    .await?;
    let event = NationalSyncRunStarted {
        run_id: id.to_string(),
        year: u32::from(year.as_u16()),
        framework: context.set.framework_id().to_string(),
        trigger: trigger.as_str().to_owned(),
        items: u32::try_from(queued).map_err(|_| {
            NationalSyncError::Corrupt(format!("sync run {id} queued {queued} items"))
        })?,
        requested_by: actor.subject.clone(),
        started_at: Some(events::timestamp(Utc::now())),
    };
    events::run_started(tx, context.subjects, &event).await
}

/// Marks older pending pushes of `item` superseded by `version`: a newer value is queued, and
/// an older one must never reach the national system after it. A push in flight (claimed, its
/// lease running) is left alone: the newer push waits until it is answered, and if it is put
/// back instead it is superseded then (`dispatch`).
async fn supersede_older(
    tx: &mut PgTransaction,
    set: &NationalSet,
    plan: &SyncPlan,
    item: &crate::national_set::ItemKey,
    version: i32,
) -> Result<(), NationalSyncError> {
    sqlx::query(
        "UPDATE national_push_jobs SET state = 'superseded', completed_at = now(), \
         reason = 'superseded by version ' || $5::text \
         WHERE year = $1 AND framework = $2 AND item_kind = $3 AND item_code = $4 \
         AND version < $5 AND state = 'pending' \
         AND NOT (claim_token IS NOT NULL AND next_attempt_at > now())",
    )
    .bind(plan.year.stored())
    .bind(set.framework_id().as_str())
    .bind(item.kind.as_str())
    .bind(&item.code)
    .bind(version)
    .execute(&mut **tx)
    .await
    .map_err(NationalSyncError::database("superseding older pushes"))?;
    Ok(())
}

/// A run with its pushes counted by state, in [`RunRecord`]'s columns; `find` adds the filter.
const RUN_SELECT: &str =
    "SELECT r.id, r.year, r.framework, r.trigger, r.requested_by, r.plan_digest, \
     r.created_at, r.finished_at, r.items, \
     count(j.*) FILTER (WHERE j.state = 'accepted') AS accepted, \
     count(j.*) FILTER (WHERE j.state = 'rejected') AS rejected, \
     count(j.*) FILTER (WHERE j.state = 'pending') AS pending, \
     count(j.*) FILTER (WHERE j.state = 'superseded') AS superseded \
     FROM national_sync_runs r LEFT JOIN national_push_jobs j ON j.run_id = r.id";

/// The run with this id.
pub async fn find(pool: &PgPool, id: SyncRunId) -> Result<Option<RunRecord>, NationalSyncError> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "{RUN_SELECT} WHERE r.id = $1 GROUP BY r.id"
    )))
    .bind(id)
    .fetch_optional(pool)
    .await
    .map_err(NationalSyncError::database("reading a sync run"))
}

/// Finishes run `id` when none of its pushes is pending (locks the run row, so concurrent
/// workers finishing its last pushes agree on who finishes it). Returns the run if it finished
/// now, for the caller to [`FinishedRun::record`] once `tx` committed.
pub async fn finish_if_done(
    tx: &mut PgTransaction,
    set: &NationalSet,
    subjects: &EventSubjects,
    actor: &Principal,
    id: SyncRunId,
) -> Result<Option<FinishedRun>, NationalSyncError> {
    let open: Option<(i16, DateTime<Utc>)> = sqlx::query_as(
        "SELECT year, created_at FROM national_sync_runs \
         WHERE id = $1 AND finished_at IS NULL FOR UPDATE",
    )
    .bind(id)
    .fetch_optional(&mut **tx)
    .await
    .map_err(NationalSyncError::database("locking a sync run"))?;
    let Some((stored_year, started_at)) = open else {
        return Ok(None);
    };
    let (accepted, rejected, pending): (i64, i64, i64) = sqlx::query_as(
        "SELECT count(*) FILTER (WHERE state = 'accepted'), count(*) FILTER (WHERE state = 'rejected'), \
         count(*) FILTER (WHERE state = 'pending') FROM national_push_jobs WHERE run_id = $1",
    )
    .bind(id)
    .fetch_one(&mut **tx)
    .await
    .map_err(NationalSyncError::database("counting a run's pushes"))?;
    if pending > 0 {
        return Ok(None);
    }
    let finished_at: DateTime<Utc> = sqlx::query_scalar(
        "UPDATE national_sync_runs SET finished_at = now() WHERE id = $1 RETURNING finished_at",
    )
    .bind(id)
    .fetch_one(&mut **tx)
    .await
    .map_err(NationalSyncError::database("finishing a sync run"))?;
    let year = u16::try_from(stored_year)
        .map_err(|_| NationalSyncError::Corrupt(format!("year of run {id}")))?;
    let round = dti_domain::RoundRef {
        year,
        framework: set.framework_id().clone(),
    };
    dti_audit::append(
        tx,
        &AuditEntry {
            round: &round,
            chain: Chain::Named(NATIONAL_CHAIN.to_owned()),
            actor,
            action: "national_sync.run_finished",
            subject: format!("sync run {id}"),
            before: None,
            after: Some(json!({"accepted": accepted, "rejected": rejected})),
        },
    )
    .await?;
    let event = NationalSyncRunFinished {
        run_id: id.to_string(),
        year: u32::from(year),
        framework: set.framework_id().to_string(),
        accepted: run_count(id, "accepted", accepted)?,
        rejected: run_count(id, "rejected", rejected)?,
        finished_at: Some(events::timestamp(finished_at)),
    };
    events::run_finished(tx, subjects, &event).await?;
    Ok(Some(FinishedRun::new(
        accepted,
        rejected,
        started_at,
        finished_at,
    )))
}

/// Finishes every open run with no pending push (catch-up after a crash between a run's last
/// answer and its finishing). Returns how many finished.
pub async fn finish_idle_runs(
    pool: &PgPool,
    set: &NationalSet,
    subjects: &EventSubjects,
    actor: &Principal,
) -> Result<usize, NationalSyncError> {
    let idle: Vec<SyncRunId> = sqlx::query_scalar(
        "SELECT r.id FROM national_sync_runs r WHERE r.finished_at IS NULL AND r.framework = $1 \
         AND NOT EXISTS (SELECT 1 FROM national_push_jobs j WHERE j.run_id = r.id AND j.state = 'pending')",
    )
    .bind(set.framework_id().as_str())
    .fetch_all(pool)
    .await
    .map_err(NationalSyncError::database("finding idle sync runs"))?;
    let mut finished = 0;
    for id in idle {
        let mut tx = pool
            .begin()
            .await
            .map_err(NationalSyncError::database("beginning to finish a run"))?;
        let done = finish_if_done(&mut tx, set, subjects, actor, id).await?;
        tx.commit()
            .await
            .map_err(NationalSyncError::database("finishing a run"))?;
        if let Some(run) = done {
            run.record();
            finished += 1;
        }
    }
    Ok(finished)
}

/// A count of a run's pushes as an event reports it, or an error when the stored count is not
/// one.
fn run_count(id: SyncRunId, what: &str, value: i64) -> Result<u32, NationalSyncError> {
    u32::try_from(value)
        .map_err(|_| NationalSyncError::Corrupt(format!("sync run {id} counts {value} {what}")))
}
