//! The push workers: they drain the outbox of pushes (`national_push_jobs`) to the national
//! system. No database transaction is open while a push travels:
//!
//! 1. **claim**: one statement takes a due push (`FOR UPDATE SKIP LOCKED`), stamps it with a
//!    fresh claim token and leases it (`next_attempt_at` moves `lease` ahead), and commits;
//! 2. **push**: the body is sent, transient failures retried in place with exponential backoff
//!    and jitter (`backon`); each attempt is logged at once and renews the lease;
//! 3. **record**: one transaction writes the answer with its push-log rows, audit entry and
//!    event, or puts the push back with a growing delay, only while the claim token is still
//!    the push's (a worker whose lease ran out records nothing; the one that took over does).
//!
//! Crash safety: if the process dies mid-push, the lease runs out and another worker (or this
//! one restarted) resends with the same idempotency key; the national system answers with its
//! first decision, and a unique index allows one final answer per value version and owner.
//! An older version of an item is never sent after a newer one: a push waits while an older
//! version of its item is pending, superseding leaves a push in flight alone, and a push put
//! back while a newer version waits is superseded instead. Workers are woken by
//! `NOTIFY dti_national_push` and also poll, so pushes queued while no worker ran (or by
//! another replica) are found from PostgreSQL alone.

use std::sync::atomic::{AtomicI32, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use backon::{BackoffBuilder, ExponentialBuilder, Retryable};
use chrono::Utc;
use dti_audit::{AuditEntry, Chain};
use dti_auth::{Principal, Role};
use dti_db::{PgPool, PgTransaction};
use dti_domain::SyncRunId;
use dti_proto::dti::events::v1::NationalPushCompleted;
use serde_json::{json, Value};
use sqlx::postgres::PgListener;
use sqlx::types::Json;
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;
use tracing::Instrument;
use uuid::Uuid;

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
/// Counter of pushes whose lease ran out while they were sent (another worker took them over).
pub const LOST_CLAIMS: &str = "dti_national_push_lost_claims_total";

/// Channel the push-queue trigger notifies on.
const PUSH_CHANNEL: &str = "dti_national_push";
/// Failed rounds beyond which the requeue delay stops growing.
const MAX_COUNTED_ROUNDS: usize = 32;

/// The principal background work acts as in the audit log.
pub fn system_actor() -> Principal {
    Principal::city("system:national-sync", Role::NationalSync)
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
    /// How long a claimed push is its worker's before another may take it over; renewed at
    /// every attempt, so it must outlast one attempt and the delay before the next.
    pub lease: Duration,
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
    /// The claim's token: the outcome is recorded only while the push still carries it.
    token: Uuid,
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
        let Some(claimed) = self.claim().await? else {
            return Ok(false);
        };
        let span = tracing::info_span!(
            "national.push",
            idempotency_key = %claimed.logged.idempotency_key,
            item = %claimed.logged.item,
            version = claimed.logged.version,
        );
        self.process(claimed).instrument(span).await?;
        Ok(true)
    }

    /// Sends a claimed push, no transaction open meanwhile, then commits its outcome.
    async fn process(&self, claimed: ClaimedPush) -> Result<(), NationalSyncError> {
        let first_attempt =
            push_log::last_attempt(&self.pool, &claimed.logged.idempotency_key).await? + 1;
        let started = Instant::now();
        let outcome = self.send_with_retries(&claimed, first_attempt).await;
        metrics::histogram!("dti_national_push_seconds").record(started.elapsed().as_secs_f64());
        let mut tx = self
            .pool
            .begin()
            .await
            .map_err(NationalSyncError::database("beginning a push's outcome"))?;
        if !self.still_claimed(&mut tx, &claimed).await? {
            tx.rollback()
                .await
                .map_err(NationalSyncError::database("ending a lost claim"))?;
            metrics::counter!(LOST_CLAIMS).increment(1);
            tracing::warn!(
                "the push's lease ran out while it was sent; the worker that took it over \
                 records the answer"
            );
            return Ok(());
        }
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

    /// Locks the claimed push for recording its outcome; false when its lease ran out and
    /// another worker claimed it (or it was answered) meanwhile.
    async fn still_claimed(
        &self,
        tx: &mut PgTransaction,
        claimed: &ClaimedPush,
    ) -> Result<bool, NationalSyncError> {
        let row: Option<(String,)> = sqlx::query_as(
            "SELECT idempotency_key FROM national_push_jobs \
             WHERE idempotency_key = $1 AND claim_token = $2 AND state = 'pending' FOR UPDATE",
        )
        .bind(&claimed.logged.idempotency_key)
        .bind(claimed.token)
        .fetch_optional(&mut **tx)
        .await
        .map_err(NationalSyncError::database("locking a claimed push"))?;
        Ok(row.is_some())
    }

    /// Takes one due push in a statement of its own (committed at once): a fresh claim token,
    /// and `next_attempt_at` moved a lease ahead. A push waits while an older version of its
    /// item is still pending, so versions reach the national system in order.
    async fn claim(&self) -> Result<Option<ClaimedPush>, NationalSyncError> {
        let token = Uuid::new_v4();
        let row: Option<JobRow> = sqlx::query_as(
            "UPDATE national_push_jobs SET claim_token = $2, \
             next_attempt_at = now() + make_interval(secs => $3) \
             WHERE idempotency_key = ( \
               SELECT c.idempotency_key FROM national_push_jobs c \
               WHERE c.state = 'pending' AND c.framework = $1 AND c.next_attempt_at <= now() \
               AND NOT EXISTS (SELECT 1 FROM national_push_jobs o \
                 WHERE o.year = c.year AND o.framework = c.framework \
                 AND o.item_kind = c.item_kind AND o.item_code = c.item_code \
                 AND o.version < c.version AND o.state = 'pending') \
               ORDER BY c.next_attempt_at, c.created_at LIMIT 1 FOR UPDATE SKIP LOCKED) \
             RETURNING year, framework, item_kind, item_code, version, run_id, idempotency_key, \
             body, failed_rounds",
        )
        .bind(self.set.framework_id().as_str())
        .bind(token)
        .bind(self.policy.lease.as_secs_f64())
        .fetch_optional(&self.pool)
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
            token,
        }))
    }

    /// Moves the claimed push's lease a whole lease ahead (before each attempt).
    async fn renew_lease(&self, claimed: &ClaimedPush) {
        let renewed = sqlx::query(
            "UPDATE national_push_jobs SET next_attempt_at = now() + make_interval(secs => $3) \
             WHERE idempotency_key = $1 AND claim_token = $2 AND state = 'pending'",
        )
        .bind(&claimed.logged.idempotency_key)
        .bind(claimed.token)
        .bind(self.policy.lease.as_secs_f64())
        .execute(&self.pool)
        .await;
        if let Err(error) = renewed {
            tracing::warn!(%error, "could not renew a push's lease");
        }
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
            self.renew_lease(claimed).await;
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

    /// Logs `sent`/`failed` at once, outside the recording transaction, so it survives a crash.
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
             completed_at = now(), last_error = NULL, claim_token = NULL \
             WHERE idempotency_key = $1 AND state = 'pending'",
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

    /// Puts a push without an answer back, due after the requeue delay; superseded instead
    /// when a newer version of its item is queued meanwhile (it must not be sent after it).
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
        let newer: Option<(i32,)> = sqlx::query_as(
            "SELECT min(n.version) FROM national_push_jobs j JOIN national_push_jobs n \
             ON n.year = j.year AND n.framework = j.framework AND n.item_kind = j.item_kind \
             AND n.item_code = j.item_code AND n.version > j.version AND n.state = 'pending' \
             WHERE j.idempotency_key = $1 HAVING count(*) > 0",
        )
        .bind(&claimed.logged.idempotency_key)
        .fetch_optional(&mut **tx)
        .await
        .map_err(NationalSyncError::database("looking for a newer push"))?;
        if let Some((version,)) = newer {
            sqlx::query(
                "UPDATE national_push_jobs SET state = 'superseded', completed_at = now(), \
                 claim_token = NULL, last_error = $2, \
                 reason = 'superseded by version ' || $3::text WHERE idempotency_key = $1",
            )
            .bind(&claimed.logged.idempotency_key)
            .bind(failure.to_string())
            .bind(version)
            .execute(&mut **tx)
            .await
            .map_err(NationalSyncError::database("superseding a push put back"))?;
            tracing::warn!(%failure, version, "push got no answer; a newer version supersedes it");
            return Ok(());
        }
        let delay = self.policy.requeue_after(rounds);
        sqlx::query(
            "UPDATE national_push_jobs SET failed_rounds = failed_rounds + 1, \
             next_attempt_at = now() + make_interval(secs => $2), last_error = $3, \
             claim_token = NULL WHERE idempotency_key = $1",
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
            lease: Duration::from_secs(60),
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
