//! What every part of the service works with: the database, the frameworks, the NATS prefix
//! and the settings; and the locks taken in one order everywhere (a round before its
//! submissions), so concurrent requests never wait for each other in a circle.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use dti_db::{PgPool, PgTransaction};
use dti_domain::framework::Framework;
use dti_domain::round::RoundState;
use dti_domain::SubmissionId;
use dti_domain::{FrameworkId, RoundRef};
use dti_i18n::Message;
use dti_service_kit::frameworks::FrameworkCache;
use dti_workflow::rounds::stored_year;
use dti_workflow::submissions::{self as workflow, SubmissionHead};

use crate::{Settings, VerificationError};

/// The service's shared dependencies.
#[derive(Debug, Clone)]
pub struct Context {
    /// The platform database.
    pub pool: PgPool,
    /// Known frameworks, with those operators store.
    pub frameworks: FrameworkCache,
    /// NATS subject prefix of published events.
    pub nats_prefix: String,
    /// The service's settings.
    pub settings: Arc<Settings>,
}

impl Context {
    /// The scored framework of `round`, or an invalid-request error naming `round.framework`
    /// (one an operator has just stored is loaded first).
    pub async fn framework(&self, round: &RoundRef) -> Result<Arc<Framework>, VerificationError> {
        self.frameworks
            .scored("round.framework", &round.framework)
            .await
    }

    /// A read-write transaction.
    pub async fn begin(&self) -> Result<PgTransaction, VerificationError> {
        self.pool
            .begin()
            .await
            .map_err(VerificationError::database("beginning a transaction"))
    }

    /// A read-only transaction that sees one consistent state of the database throughout.
    pub async fn read(&self) -> Result<PgTransaction, VerificationError> {
        let mut tx = self.begin().await?;
        sqlx::query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            .execute(&mut *tx)
            .await
            .map_err(VerificationError::database("starting a consistent read"))?;
        Ok(tx)
    }
}

/// The round's state, share-locked for the rest of `tx` (its state cannot change meanwhile),
/// or not found.
pub async fn share_round(
    tx: &mut PgTransaction,
    round: &RoundRef,
) -> Result<RoundState, VerificationError> {
    let state: Option<String> =
        sqlx::query_scalar("SELECT state FROM rounds WHERE year = $1 AND framework = $2 FOR SHARE")
            .bind(stored_year(round))
            .bind(round.framework.as_str())
            .fetch_optional(&mut **tx)
            .await
            .map_err(VerificationError::database("reading a round"))?;
    let state = state.ok_or_else(|| {
        VerificationError::not_found(dti_workflow::rounds::not_found(round).into())
    })?;
    state
        .parse()
        .map_err(|_| VerificationError::Corrupted(format!("round {round} is in state {state:?}")))
}

/// Share-locks the submission's round, then locks the submission itself; returns the round's
/// state and the submission.
pub async fn lock_submission(
    tx: &mut PgTransaction,
    id: SubmissionId,
) -> Result<(RoundState, SubmissionHead), VerificationError> {
    let row: Option<(i16, String)> =
        sqlx::query_as("SELECT year, framework FROM submissions WHERE id = $1")
            .bind(id)
            .fetch_optional(&mut **tx)
            .await
            .map_err(VerificationError::database("finding a submission"))?;
    let (year, framework) = row.ok_or_else(|| {
        VerificationError::not_found(
            Message::new("workflow-submission-not-found")
                .arg("submission", id.to_string())
                .into(),
        )
    })?;
    let round = RoundRef {
        year: u16::try_from(year)
            .map_err(|_| VerificationError::Corrupted(format!("submission {id}: year {year}")))?,
        framework: FrameworkId::parse(framework)
            .map_err(|error| VerificationError::Corrupted(format!("submission {id}: {error}")))?,
    };
    let round_state = share_round(tx, &round).await?;
    let head = workflow::lock(tx, id).await?;
    Ok((round_state, head))
}

/// When the round's provisional period ends, once it was published.
pub async fn provisional_until(
    conn: &mut sqlx::PgConnection,
    round: &RoundRef,
) -> Result<Option<DateTime<Utc>>, VerificationError> {
    sqlx::query_scalar(
        "SELECT provisional_until FROM round_provisional_periods \
         WHERE year = $1 AND framework = $2",
    )
    .bind(stored_year(round))
    .bind(round.framework.as_str())
    .fetch_optional(&mut *conn)
    .await
    .map_err(VerificationError::database(
        "reading the provisional period",
    ))
}
