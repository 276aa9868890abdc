//! Published results: publishing an approved round (revision 1, the start of the provisional
//! period), corrections (each a new revision with its reason, computed from the current
//! verified values), and reading revisions back with their content hash checked again.
//!
//! Revisions are never changed: `publications` and `publication_ranks` refuse UPDATE and DELETE
//! by trigger, and this module only ever inserts the next revision. Every revision is appended
//! to the round's audit chain and announced by `verification.published.v1`.

use chrono::{DateTime, SubsecRound, Utc};
use dti_audit::{AuditEntry, Chain};
use dti_auth::Principal;
use dti_bus::outbox;
use dti_db::PgTransaction;
use dti_domain::framework::Framework;
use dti_domain::round::{RoundAction, RoundState};
use dti_domain::RoundRef;
use dti_engine::Explain;
use dti_i18n::Message;
use dti_workflow::rounds::{self, stored_year};
use dti_workflow::WorkflowError;
use serde_json::{json, Value};

use crate::access::require_approver;
use crate::context::{provisional_until, Context};
use crate::events::{self, PublicationFacts};
use crate::inputs::load_round;
use crate::model::MAX_TEXT_BYTES;
use crate::snapshot::{self, Header};
use crate::{scoring, stage, VerificationError};

/// Reason of revision 1.
pub const INITIAL_REASON: &str = "initial publication";

/// One unit's published rank.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublishedRank {
    /// The unit.
    pub unit: String,
    /// Verified total in hundredths.
    pub total_cents: i64,
    /// Competition rank.
    pub rank: i32,
}

impl PublishedRank {
    /// The ranks of `(unit, total cents, rank)` rows, in their order.
    fn all(rows: Vec<(String, i64, i32)>) -> Vec<Self> {
        rows.into_iter()
            .map(|(unit, total_cents, rank)| Self {
                unit,
                total_cents,
                rank,
            })
            .collect()
    }
}

/// A published revision as read back.
#[derive(Debug, Clone)]
pub struct PublicationView {
    /// The round.
    pub round: RoundRef,
    /// Revision.
    pub revision: i32,
    /// Why it exists.
    pub reason: String,
    /// Who published it.
    pub published_by: String,
    /// When.
    pub published_at: DateTime<Utc>,
    /// SHA-256 of the snapshot's canonical JSON as stored.
    pub content_hash: Vec<u8>,
    /// Whether the stored snapshot still hashes to `content_hash` (for a revision just
    /// written: the hash computed over the snapshot stored in the same transaction).
    pub hash_verified: bool,
    /// The snapshot (left out of what publishing returns; read it back with
    /// [`Publications::get`]).
    pub snapshot: Option<Value>,
    /// Ranks, best first.
    pub ranks: Vec<PublishedRank>,
    /// The round's state now.
    pub round_state: RoundState,
    /// End of the provisional period.
    pub provisional_until: Option<DateTime<Utc>>,
}

/// A revision as listed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublicationSummary {
    /// Revision.
    pub revision: i32,
    /// Why it exists.
    pub reason: String,
    /// Who published it.
    pub published_by: String,
    /// When.
    pub published_at: DateTime<Utc>,
    /// Content hash.
    pub content_hash: Vec<u8>,
}

/// Published results of every round.
#[derive(Debug, Clone)]
pub struct Publications {
    context: Context,
}

impl Publications {
    /// Publications over `context`.
    pub fn new(context: Context) -> Self {
        Self { context }
    }

    /// Publishes an approved round: the round becomes provisional, revision 1 is frozen and
    /// the provisional period starts.
    #[tracing::instrument(skip_all, fields(round = %round))]
    pub async fn publish(
        &self,
        actor: &Principal,
        round: &RoundRef,
    ) -> Result<PublicationView, VerificationError> {
        require_approver(actor, Message::new("verification-action-publish"))?;
        let framework = self.context.framework(round).await?;
        let mut tx = self.context.begin().await?;
        rounds::require_actor(actor, RoundAction::Publish)?;
        let current = rounds::lock(&mut tx, round).await?;
        current
            .state
            .apply(RoundAction::Publish)
            .map_err(WorkflowError::from)?;
        rounds::transition(
            &mut tx,
            &self.context.nats_prefix,
            round,
            RoundAction::Publish,
            None,
            actor,
        )
        .await?;
        let published_at = Utc::now().trunc_subsecs(6);
        let until = published_at + self.context.settings.provisional_period();
        sqlx::query(
            "INSERT INTO round_provisional_periods (year, framework, published_at, provisional_until) \
             VALUES ($1, $2, $3, $4)",
        )
        .bind(stored_year(round))
        .bind(round.framework.as_str())
        .bind(published_at)
        .bind(until)
        .execute(&mut *tx)
        .await
        .map_err(VerificationError::database("starting the provisional period"))?;
        let revision = Revision {
            round,
            number: 1,
            reason: INITIAL_REASON,
            actor,
            published_at,
            provisional_until: until,
        };
        let written = self
            .write_revision(&mut tx, &framework, revision, None)
            .await?;
        tx.commit()
            .await
            .map_err(VerificationError::database("committing a publication"))?;
        Ok(written.view(&revision, RoundState::Provisional))
    }

    /// Publishes a correction while the result is provisional: the next revision, computed
    /// from the current verified values, with `reason`. Refused when nothing changed.
    #[tracing::instrument(skip_all, fields(round = %round))]
    pub async fn correct(
        &self,
        actor: &Principal,
        round: &RoundRef,
        reason: &str,
    ) -> Result<PublicationView, VerificationError> {
        require_approver(actor, Message::new("verification-action-correct"))?;
        let reason = reason.trim();
        if reason.is_empty() || reason.len() > MAX_TEXT_BYTES {
            return Err(VerificationError::invalid_field(
                "reason",
                Message::new("verification-correction-needs-reason").arg("max", MAX_TEXT_BYTES),
            ));
        }
        let framework = self.context.framework(round).await?;
        let mut tx = self.context.begin().await?;
        let current = rounds::lock(&mut tx, round).await?;
        stage::may_change_publication(current.state).map_err(VerificationError::not_now)?;
        let (latest, previous_units): (i32, Value) = sqlx::query_as(
            "SELECT revision, snapshot -> 'units' FROM publications \
             WHERE year = $1 AND framework = $2 ORDER BY revision DESC LIMIT 1",
        )
        .bind(stored_year(round))
        .bind(round.framework.as_str())
        .fetch_optional(&mut *tx)
        .await
        .map_err(VerificationError::database("reading the latest revision"))?
        .ok_or_else(|| {
            VerificationError::not_found(
                Message::new("verification-not-published")
                    .arg("round", round.to_string())
                    .into(),
            )
        })?;
        let until = provisional_until(&mut tx, round).await?.ok_or_else(|| {
            VerificationError::Corrupted(format!("round {round} has no provisional period"))
        })?;
        let revision = Revision {
            round,
            number: latest + 1,
            reason,
            actor,
            published_at: Utc::now().trunc_subsecs(6),
            provisional_until: until,
        };
        let written = self
            .write_revision(
                &mut tx,
                &framework,
                revision,
                Some((latest, &previous_units)),
            )
            .await?;
        tx.commit()
            .await
            .map_err(VerificationError::database("committing a correction"))?;
        Ok(written.view(&revision, current.state))
    }

    /// Scores the verified cohort, freezes it as `revision` and announces it. With `previous`
    /// (its number and units), refuses a revision whose units are the same.
    async fn write_revision(
        &self,
        tx: &mut PgTransaction,
        framework: &std::sync::Arc<Framework>,
        revision: Revision<'_>,
        previous: Option<(i32, &Value)>,
    ) -> Result<Written, VerificationError> {
        let round = revision.round;
        let started = std::time::Instant::now();
        let inputs = load_round(tx, framework, round).await?;
        let scores = scoring::cohort(inputs.verified_cohort(), Explain::Full).await?;
        let header = Header {
            round,
            revision: revision.number,
            reason: revision.reason,
            published_by: &revision.actor.subject,
            published_at: revision.published_at,
        };
        let frozen = snapshot::build(header, framework, &inputs, &scores);
        if let Some((number, units)) = previous {
            if dti_audit::canonical_json(units) == dti_audit::canonical_json(&frozen["units"]) {
                return Err(VerificationError::not_now(
                    Message::new("verification-nothing-changed")
                        .arg("revision", i64::from(number))
                        .into(),
                ));
            }
        }
        let hash = snapshot::content_hash(&frozen);
        sqlx::query(
            "INSERT INTO publications (year, framework, revision, reason, published_by, \
             published_at, snapshot, content_hash) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(stored_year(round))
        .bind(round.framework.as_str())
        .bind(revision.number)
        .bind(revision.reason)
        .bind(&revision.actor.subject)
        .bind(revision.published_at)
        .bind(&frozen)
        .bind(&hash)
        .execute(&mut **tx)
        .await
        .map_err(VerificationError::database("writing a publication"))?;
        let ranks = snapshot::ranks(&inputs, &scores);
        let units: Vec<&str> = ranks.iter().map(|(u, _, _)| u.as_str()).collect();
        let totals: Vec<i64> = ranks.iter().map(|(_, t, _)| *t).collect();
        let places: Vec<i32> = ranks.iter().map(|(_, _, r)| *r).collect();
        sqlx::query(
            "INSERT INTO publication_ranks (year, framework, revision, unit_id, total_cents, rank) \
             SELECT $1, $2, $3, u, t, r FROM unnest($4::text[], $5::bigint[], $6::int[]) AS x(u, t, r)",
        )
        .bind(stored_year(round))
        .bind(round.framework.as_str())
        .bind(revision.number)
        .bind(&units)
        .bind(&totals)
        .bind(&places)
        .execute(&mut **tx)
        .await
        .map_err(VerificationError::database("writing published ranks"))?;
        let content_hash = hex::encode(&hash);
        dti_audit::append(
            tx,
            &AuditEntry {
                round,
                chain: Chain::Round,
                actor: revision.actor,
                action: if revision.number == 1 {
                    "publication.publish"
                } else {
                    "publication.correct"
                },
                subject: format!("round {round} revision {}", revision.number),
                before: previous.map(|(number, _)| json!({"revision": number})),
                after: Some(json!({
                    "revision": revision.number,
                    "reason": revision.reason,
                    "content_hash": content_hash,
                    "provisional_until": revision.provisional_until,
                })),
            },
        )
        .await?;
        let facts = PublicationFacts {
            round,
            revision: revision.number,
            reason: revision.reason,
            content_hash: &content_hash,
            published_by: &revision.actor.subject,
            published_at: revision.published_at,
            provisional_until: revision.provisional_until,
        };
        outbox::enqueue(tx, &events::published(&self.context.nats_prefix, facts)).await?;
        metrics::counter!("dti_verification_publications_total").increment(1);
        metrics::histogram!("dti_verification_publication_seconds")
            .record(started.elapsed().as_secs_f64());
        Ok(Written {
            hash,
            ranks: PublishedRank::all(ranks),
        })
    }

    /// A published revision (the latest for 0), its hash checked again. Published results are
    /// public: every authenticated caller may read them.
    #[tracing::instrument(skip_all, fields(round = %round, revision))]
    pub async fn get(
        &self,
        _actor: &Principal,
        round: &RoundRef,
        revision: u32,
    ) -> Result<PublicationView, VerificationError> {
        self.context.framework(round).await?;
        let mut tx = self.context.read().await?;
        let record = rounds::find(&mut *tx, round).await?.ok_or_else(|| {
            VerificationError::not_found(dti_workflow::rounds::not_found(round).into())
        })?;
        type Row = (i32, String, String, DateTime<Utc>, Value, Vec<u8>);
        let row: Option<Row> = sqlx::query_as(
            "SELECT revision, reason, published_by, published_at, snapshot, content_hash \
             FROM publications WHERE year = $1 AND framework = $2 \
             AND ($3 = 0 OR revision = $3) ORDER BY revision DESC LIMIT 1",
        )
        .bind(stored_year(round))
        .bind(round.framework.as_str())
        .bind(i64::from(revision))
        .fetch_optional(&mut *tx)
        .await
        .map_err(VerificationError::database("reading a publication"))?;
        let (number, reason, published_by, published_at, snapshot, content_hash) =
            row.ok_or_else(|| {
                let refusal = match revision {
                    0 => Message::new("verification-not-published"),
                    n => Message::new("verification-no-revision").arg("revision", n),
                };
                VerificationError::not_found(refusal.arg("round", round.to_string()).into())
            })?;
        let ranks: Vec<(String, i64, i32)> = sqlx::query_as(
            "SELECT unit_id, total_cents, rank FROM publication_ranks \
             WHERE year = $1 AND framework = $2 AND revision = $3 ORDER BY rank, unit_id",
        )
        .bind(stored_year(round))
        .bind(round.framework.as_str())
        .bind(number)
        .fetch_all(&mut *tx)
        .await
        .map_err(VerificationError::database("reading published ranks"))?;
        let until = provisional_until(&mut tx, round).await?;
        let hash_verified = snapshot::content_hash(&snapshot) == content_hash;
        if !hash_verified {
            tracing::error!(%round, revision = number, "a published snapshot no longer matches its hash");
        }
        Ok(PublicationView {
            round: round.clone(),
            revision: number,
            reason,
            published_by,
            published_at,
            content_hash,
            hash_verified,
            snapshot: Some(snapshot),
            ranks: PublishedRank::all(ranks),
            round_state: record.state,
            provisional_until: until,
        })
    }

    /// Every published revision of the round, oldest first.
    pub async fn list(
        &self,
        _actor: &Principal,
        round: &RoundRef,
    ) -> Result<Vec<PublicationSummary>, VerificationError> {
        self.context.framework(round).await?;
        type Row = (i32, String, String, DateTime<Utc>, Vec<u8>);
        let rows: Vec<Row> = sqlx::query_as(
            "SELECT revision, reason, published_by, published_at, content_hash FROM publications \
             WHERE year = $1 AND framework = $2 ORDER BY revision",
        )
        .bind(stored_year(round))
        .bind(round.framework.as_str())
        .fetch_all(&self.context.pool)
        .await
        .map_err(VerificationError::database("listing publications"))?;
        Ok(rows
            .into_iter()
            .map(
                |(revision, reason, published_by, published_at, content_hash)| PublicationSummary {
                    revision,
                    reason,
                    published_by,
                    published_at,
                    content_hash,
                },
            )
            .collect())
    }
}

/// What writing a revision stored, besides the snapshot.
#[derive(Debug)]
struct Written {
    hash: Vec<u8>,
    ranks: Vec<PublishedRank>,
}

impl Written {
    /// The revision as publishing returns it (without the snapshot).
    fn view(self, revision: &Revision<'_>, round_state: RoundState) -> PublicationView {
        let mut ranks = self.ranks;
        ranks.sort_by(|a, b| a.rank.cmp(&b.rank).then_with(|| a.unit.cmp(&b.unit)));
        PublicationView {
            round: revision.round.clone(),
            revision: revision.number,
            reason: revision.reason.to_owned(),
            published_by: revision.actor.subject.clone(),
            published_at: revision.published_at,
            content_hash: self.hash,
            hash_verified: true,
            snapshot: None,
            ranks,
            round_state,
            provisional_until: Some(revision.provisional_until),
        }
    }
}

/// A revision about to be written.
#[derive(Debug, Clone, Copy)]
struct Revision<'a> {
    round: &'a RoundRef,
    number: i32,
    reason: &'a str,
    actor: &'a Principal,
    published_at: DateTime<Utc>,
    provisional_until: DateTime<Utc>,
}
