//! The push workers: they drain the outbox of pushes (`national_push_jobs`) to the national
//! system. A worker claims one due push with `FOR UPDATE SKIP LOCKED` and keeps the row locked
//! while it sends, retrying transient failures in place with exponential backoff and jitter
//! (`backon`); the answer, its push-log rows, audit entry and event are committed together.
//!
//! Crash safety: if the process dies mid-push, PostgreSQL aborts the claiming transaction and
//! the push is pending again; the next worker resends it with the same idempotency key, and the
//! national system answers with its first decision. A push is completed once (the row is
//! locked while completing and a unique index allows one final answer per value version and
//! owner). Pushes that got no answer after the in-place retries are put back with a growing
//! delay. Workers are woken by `NOTIFY dti_national_push` and also poll, so pushes queued while
//! no worker ran (or by another replica) are found from PostgreSQL alone.

use std::sync::atomic::{AtomicI32, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use backon::{BackoffBuilder, ExponentialBuilder, Retryable};
use chrono::Utc;
use dti_audit::{AuditEntry, Chain};
use dti_auth::{Principal, Role, Scope};
use dti_db::{PgPool, PgTransaction};
use dti_domain::SyncRunId;
use dti_proto::dti::events::v1::NationalPushCompleted;
use serde_json::{json, Value};
use sqlx::postgres::PgListener;
use sqlx::types::Json;
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;
use tracing::Instrument;

use crate::events::{self, EventSubjects};
use crate::national_api::{NationalApi, PushAnswer, PushBody, PushDecision, PushFailure};
use crate::national_set::{ItemKey, ItemKind, NationalSet};
use crate::push_log::{self, Attempt, LoggedPush, PushEvent};
use crate::sync_metrics::FinishedRun;
use crate::sync_runs::{self, NATIONAL_CHAIN};
use crate::NationalSyncError;

/// Counter of push attempts that failed (each retry counts).
pub const ATTEMPT_FAILURES: &str = "dti_national_push_attempt_failures_total";
/// Counter of pushes put back for a later round after their retries ran out.
pub const PUT_BACK: &str = "dti_national_pushes_put_back_total";

/// Channel the push-queue trigger notifies on.
const PUSH_CHANNEL: &str = "dti_national_push";
/// Failed rounds beyond which the requeue delay stops growing.
const MAX_COUNTED_ROUNDS: usize = 32;

/// The principal background work acts as in the audit log.
pub fn system_actor() -> Principal {
    Principal {
        subject: "system:national-sync".to_owned(),
        role: Role::NationalSync,
        scope: Scope::City,
    }
}

/// How pushes are retried.
#[derive(Debug, Clone, Copy)]
pub struct RetryPolicy {
    /// First delay between in-place attempts.
    pub min_delay: Duration,
    /// Longest delay between in-place attempts.
    pub max_delay: Duration,
    /// Retries after the first attempt before the push is put back.
    pub max_retries: usize,
    /// Delay before a put-back push is tried again (doubles per failed round, with jitter).
    pub requeue_delay: Duration,
    /// Longest requeue delay.
    pub max_requeue_delay: Duration,
}

impl RetryPolicy {
    fn in_place(&self) -> ExponentialBuilder {
        ExponentialBuilder::new()
            .with_min_delay(self.min_delay)
            .with_max_delay(self.max_delay)
            .with_max_times(self.max_retries)
            .with_jitter()
    }

    /// Delay before the next round after `failed_rounds` rounds without an answer.
    pub fn requeue_after(&self, failed_rounds: usize) -> Duration {
        ExponentialBuilder::new()
            .with_min_delay(self.requeue_delay)
            .with_max_delay(self.max_requeue_delay)
            .with_jitter()
            .without_max_times()
            .build()
            .nth(failed_rounds.min(MAX_COUNTED_ROUNDS))
            .unwrap_or(self.max_requeue_delay)
    }
}

/// Drains the push outbox of one database.
#[derive(Debug, Clone)]
pub struct Dispatcher {
    pool: PgPool,
    set: Arc<NationalSet>,
    subjects: EventSubjects,
    api: Arc<dyn NationalApi>,
    policy: RetryPolicy,
    poll_interval: Duration,
    actor: Principal,
}

/// A claimed push.
#[derive(Debug)]
struct ClaimedPush {
    logged: LoggedPush,
    body: Value,
    failed_rounds: i32,
}

type JobRow = (
    i16,
    String,
    String,
    String,
    i32,
    SyncRunId,
    String,
    Json<Value>,
    i32,
);

impl Dispatcher {
    /// A dispatcher pushing through `api`.
    pub fn new(
        pool: PgPool,
        set: Arc<NationalSet>,
        subjects: EventSubjects,
        api: Arc<dyn NationalApi>,
        policy: RetryPolicy,
        poll_interval: Duration,
    ) -> Self {
        Self {
            pool,
            set,
            subjects,
            api,
            policy,
            poll_interval,
            actor: system_actor(),
        }
    }

    /// Runs `workers` workers until `shutdown`; a push in flight is finished first.
    pub async fn run(
        self,
        workers: usize,
        shutdown: CancellationToken,
    ) -> Result<(), NationalSyncError> {
        let wake = Arc::new(Notify::new());
        let mut listener = PgListener::connect_with(&self.pool)
            .await
            .map_err(NationalSyncError::database("connecting the push listener"))?;
        listener
            .listen(PUSH_CHANNEL)
            .await
            .map_err(NationalSyncError::database("listening for queued pushes"))?;
        let this = Arc::new(self);
        let mut running = tokio::task::JoinSet::new();
        for worker in 0..workers {
            let (this, wake, shutdown) = (this.clone(), wake.clone(), shutdown.clone());
            running.spawn(async move { this.work(worker, &wake, &shutdown).await });
        }
        tracing::info!(workers, "push workers started");
        this.reconcile().await;
        while !shutdown.is_cancelled() {
            tokio::select! {
                () = shutdown.cancelled() => {}
                notified = listener.recv() => match notified {
                    Ok(_) => wake.notify_waiters(),
                    Err(error) => {
                        tracing::warn!(%error, "push notifications interrupted; polling");
                        tokio::time::sleep(this.poll_interval).await;
                    }
                },
                () = tokio::time::sleep(this.poll_interval) => {
                    this.reconcile().await;
                    wake.notify_waiters();
                }
            }
        }
        while running.join_next().await.is_some() {}
        tracing::info!("push workers stopped");
        Ok(())
    }

    /// Finishes runs whose last push was answered but which were not finished (crash).
    async fn reconcile(&self) {
        if let Err(error) =
            sync_runs::finish_idle_runs(&self.pool, &self.set, &self.subjects, &self.actor).await
        {
            tracing::warn!(%error, "finishing idle sync runs failed");
        }
    }

    async fn work(&self, worker: usize, wake: &Notify, shutdown: &CancellationToken) {
        while !shutdown.is_cancelled() {
            let waiting = wake.notified();
            match self.push_next().await {
                Ok(true) => continue,
                Ok(false) => {}
                Err(error) => tracing::warn!(worker, %error, "push round failed"),
            }
            tokio::select! {
                () = shutdown.cancelled() => {}
                () = waiting => {}
                () = tokio::time::sleep(self.poll_interval) => {}
            }
        }
    }

    /// Claims one due push, sends it and records the outcome. Returns whether there was one.
    pub async fn push_next(&self) -> Result<bool, NationalSyncError> {
        let mut tx = self
            .pool
            .begin()
            .await
            .map_err(NationalSyncError::database("beginning a push"))?;
        let Some(claimed) = self.claim(&mut tx).await? else {
            tx.rollback()
                .await
                .map_err(NationalSyncError::database("ending an empty push round"))?;
            return Ok(false);
        };
        let span = tracing::info_span!(
            "national.push",
            idempotency_key = %claimed.logged.idempotency_key,
            item = %claimed.logged.item,
            version = claimed.logged.version,
        );
        self.process(tx, claimed).instrument(span).await?;
        Ok(true)
    }

    /// Sends a claimed push and commits its outcome.
    async fn process(
        &self,
        mut tx: PgTransaction,
        claimed: ClaimedPush,
    ) -> Result<(), NationalSyncError> {
        let first_attempt =
            push_log::last_attempt(&mut tx, &claimed.logged.idempotency_key).await? + 1;
        let started = Instant::now();
        let outcome = self.send_with_retries(&claimed, first_attempt).await;
        metrics::histogram!("dti_national_push_seconds").record(started.elapsed().as_secs_f64());
        let finished = match outcome {
            Ok((answer, attempt)) => self.complete(&mut tx, &claimed, &answer, attempt).await?,
            Err(failure) => {
                self.put_back(&mut tx, &claimed, &failure).await?;
                None
            }
        };
        tx.commit()
            .await
            .map_err(NationalSyncError::database("committing a push's outcome"))?;
        if let Some(run) = finished {
            run.record();
        }
        Ok(())
    }

    async fn claim(
        &self,
        tx: &mut PgTransaction,
    ) -> Result<Option<ClaimedPush>, NationalSyncError> {
        let row: Option<JobRow> = sqlx::query_as(
            "SELECT year, framework, item_kind, item_code, version, run_id, idempotency_key, body, \
             failed_rounds FROM national_push_jobs \
             WHERE state = 'pending' AND framework = $1 AND next_attempt_at <= now() \
             ORDER BY next_attempt_at, created_at LIMIT 1 FOR UPDATE SKIP LOCKED",
        )
        .bind(self.set.framework_id().as_str())
        .fetch_optional(&mut **tx)
        .await
        .map_err(NationalSyncError::database("claiming a push"))?;
        let Some((year, framework, kind, code, version, run_id, key, body, failed_rounds)) = row
        else {
            return Ok(None);
        };
        let kind = kind
            .parse::<ItemKind>()
            .map_err(NationalSyncError::Corrupt)?;
        let owners = serde_json::from_value::<PushBody>(body.0.clone())
            .map_err(|e| NationalSyncError::Corrupt(format!("body of push {key}: {e}")))?
            .owners
            .into_iter()
            .map(|part| part.department)
            .collect();
        Ok(Some(ClaimedPush {
            logged: LoggedPush {
                run_id,
                year,
                framework,
                item: ItemKey { kind, code },
                version,
                idempotency_key: key,
                owners,
            },
            body: body.0,
            failed_rounds,
        }))
    }

    /// Sends, retrying transient failures with backoff; each attempt is logged at once.
    async fn send_with_retries(
        &self,
        claimed: &ClaimedPush,
        first_attempt: i32,
    ) -> Result<(PushAnswer, i32), PushFailure> {
        let next_attempt = AtomicI32::new(first_attempt);
        let attempt_once = || async {
            let attempt = next_attempt.fetch_add(1, Ordering::Relaxed);
            self.log(claimed, PushEvent::Sent, attempt, None, None)
                .await;
            let answer = self
                .api
                .push(&claimed.logged.idempotency_key, &claimed.body)
                .await;
            if let Err(failure) = &answer {
                metrics::counter!(ATTEMPT_FAILURES).increment(1);
                let detail = failure.to_string();
                self.log(
                    claimed,
                    PushEvent::Failed,
                    attempt,
                    failure.http_status(),
                    Some(&detail),
                )
                .await;
            }
            answer.map(|answer| (answer, attempt))
        };
        attempt_once
            .retry(self.policy.in_place())
            .when(PushFailure::is_transient)
            .notify(|failure, delay| {
                tracing::debug!(%failure, ?delay, "push failed; retrying");
            })
            .await
    }

    /// Logs `sent`/`failed` at once, outside the claiming transaction, so it survives a crash.
    async fn log(
        &self,
        claimed: &ClaimedPush,
        event: PushEvent,
        attempt: i32,
        http_status: Option<u16>,
        detail: Option<&str>,
    ) {
        let entry = Attempt {
            event,
            attempt,
            http_status,
            detail,
        };
        if let Err(error) = push_log::append(&self.pool, &claimed.logged, &entry).await {
            tracing::warn!(%error, "could not log a push attempt");
        }
    }

    /// Records the national system's decision with the push log, audit entry and event;
    /// returns the push's run if this answer finished it.
    async fn complete(
        &self,
        tx: &mut PgTransaction,
        claimed: &ClaimedPush,
        answer: &PushAnswer,
        attempt: i32,
    ) -> Result<Option<FinishedRun>, NationalSyncError> {
        let push = &claimed.logged;
        let (state, event, receipt, reason) = match &answer.decision {
            PushDecision::Accepted { receipt } => (
                "accepted",
                PushEvent::Accepted,
                Some(receipt.as_str()),
                None,
            ),
            PushDecision::Rejected { reason } => {
                ("rejected", PushEvent::Rejected, None, Some(reason.as_str()))
            }
        };
        sqlx::query(
            "UPDATE national_push_jobs SET state = $2, receipt = $3, reason = $4, \
             completed_at = now(), last_error = NULL WHERE idempotency_key = $1 AND state = 'pending'",
        )
        .bind(&push.idempotency_key)
        .bind(state)
        .bind(receipt)
        .bind(reason)
        .execute(&mut **tx)
        .await
        .map_err(NationalSyncError::database("completing a push"))?;
        let entry = Attempt {
            event,
            attempt,
            http_status: Some(answer.http_status),
            detail: reason.or(receipt),
        };
        push_log::append(&mut **tx, push, &entry).await?;
        let year =
            u16::try_from(push.year).map_err(|_| NationalSyncError::Corrupt("push year".into()))?;
        let round = dti_domain::RoundRef {
            year,
            framework: self.set.framework_id().clone(),
        };
        dti_audit::append(
            tx,
            &AuditEntry {
                round: &round,
                chain: Chain::Named(NATIONAL_CHAIN.to_owned()),
                actor: &self.actor,
                action: match event {
                    PushEvent::Accepted => "national_sync.push_accepted",
                    _ => "national_sync.push_rejected",
                },
                subject: format!("{} v{}", push.item, push.version),
                before: None,
                after: Some(json!({
                    "idempotency_key": push.idempotency_key,
                    "receipt": receipt,
                    "reason": reason,
                    "attempt": attempt,
                })),
            },
        )
        .await?;
        let completed = NationalPushCompleted {
            run_id: push.run_id.to_string(),
            year: u32::from(year),
            framework: push.framework.clone(),
            item_kind: push.item.kind.as_str().to_owned(),
            item_code: push.item.code.clone(),
            version: u32::try_from(push.version).map_err(|_| {
                NationalSyncError::Corrupt(format!(
                    "push {} has version {}",
                    push.idempotency_key, push.version
                ))
            })?,
            idempotency_key: push.idempotency_key.clone(),
            outcome: state.to_owned(),
            reason: reason.unwrap_or_default().to_owned(),
            completed_at: Some(events::timestamp(Utc::now())),
        };
        events::push_completed(tx, &self.subjects, &completed).await?;
        let finished =
            sync_runs::finish_if_done(tx, &self.set, &self.subjects, &self.actor, push.run_id)
                .await?;
        metrics::counter!("dti_national_pushes_total", "outcome" => state).increment(1);
        tracing::info!(outcome = state, attempt, "push answered");
        Ok(finished)
    }

    /// Puts a push without an answer back, due after the requeue delay.
    async fn put_back(
        &self,
        tx: &mut PgTransaction,
        claimed: &ClaimedPush,
        failure: &PushFailure,
    ) -> Result<(), NationalSyncError> {
        let rounds = usize::try_from(claimed.failed_rounds).map_err(|_| {
            NationalSyncError::Corrupt(format!(
                "push {} failed {} rounds",
                claimed.logged.idempotency_key, claimed.failed_rounds
            ))
        })?;
        let delay = self.policy.requeue_after(rounds);
        sqlx::query(
            "UPDATE national_push_jobs SET failed_rounds = failed_rounds + 1, \
             next_attempt_at = now() + make_interval(secs => $2), last_error = $3 \
             WHERE idempotency_key = $1",
        )
        .bind(&claimed.logged.idempotency_key)
        .bind(delay.as_secs_f64())
        .bind(failure.to_string())
        .execute(&mut **tx)
        .await
        .map_err(NationalSyncError::database("putting a push back"))?;
        metrics::counter!(PUT_BACK).increment(1);
        tracing::warn!(%failure, ?delay, "push got no answer; put back");
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requeue_delay_grows_and_is_capped() {
        let policy = RetryPolicy {
            min_delay: Duration::from_millis(10),
            max_delay: Duration::from_millis(100),
            max_retries: 3,
            requeue_delay: Duration::from_secs(1),
            max_requeue_delay: Duration::from_secs(60),
        };
        let first = policy.requeue_after(0);
        assert!(
            first >= Duration::from_secs(1) && first <= Duration::from_secs(2),
            "{first:?}"
        );
        let late = policy.requeue_after(40);
        assert!(late <= Duration::from_secs(120), "{late:?}");
        assert!(late >= Duration::from_secs(60), "{late:?}");
    }
}
