//! Appending an entry to its chain inside the caller's transaction.

use chrono::{DateTime, SubsecRound, Utc};
use dti_auth::Principal;
use dti_db::PgTransaction;
use dti_domain::{RoundRef, UnitId};
use serde_json::Value;

use crate::canonical::{HashedFields, HASH_LEN};
use crate::AuditError;

/// Which chain of a round an entry belongs to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Chain {
    /// The round's own state changes.
    Round,
    /// Everything about one unit in the round.
    Unit(String),
    /// Another stream of the round, e.g. `national`.
    Named(String),
}

impl Chain {
    /// The chain's stored name: `round`, `unit:<id>` or the name itself.
    pub fn name(&self) -> String {
        match self {
            Chain::Round => "round".to_owned(),
            Chain::Unit(unit) => format!("unit:{unit}"),
            Chain::Named(name) => name.clone(),
        }
    }
}

/// One change to record.
#[derive(Debug, Clone)]
pub struct AuditEntry<'a> {
    /// The round it happened in.
    pub round: &'a RoundRef,
    /// The chain it belongs to.
    pub chain: Chain,
    /// Who did it.
    pub actor: &'a Principal,
    /// What was done, e.g. `submission.values_set`, `round.open`.
    pub action: &'a str,
    /// What it was done to, e.g. `submission 4f1c… indicator 1.2`.
    pub subject: String,
    /// State or value before (none when created).
    pub before: Option<Value>,
    /// State or value after (none when removed).
    pub after: Option<Value>,
}

impl<'a> AuditEntry<'a> {
    /// The start of an entry on the chain of `unit` in `round`, done by `actor`; what they did
    /// follows with [`OnUnit::did`].
    pub fn on_unit(round: &'a RoundRef, unit: &UnitId, actor: &'a Principal) -> OnUnit<'a> {
        OnUnit {
            round,
            unit: unit.to_string(),
            actor,
        }
    }

    /// The same entry, with the state or value `before` and `after` the change.
    pub fn change(self, before: Option<Value>, after: Option<Value>) -> Self {
        Self {
            before,
            after,
            ..self
        }
    }
}

/// Who acts on which unit's chain, waiting to be told what they did.
#[derive(Debug, Clone)]
pub struct OnUnit<'a> {
    round: &'a RoundRef,
    unit: String,
    actor: &'a Principal,
}

impl<'a> OnUnit<'a> {
    /// The entry: the actor did `action` to `subject`, with nothing before or after yet
    /// ([`AuditEntry::change`]).
    pub fn did(self, action: &'a str, subject: impl Into<String>) -> AuditEntry<'a> {
        AuditEntry {
            round: self.round,
            chain: Chain::Unit(self.unit),
            actor: self.actor,
            action,
            subject: subject.into(),
            before: None,
            after: None,
        }
    }
}

/// Where an appended entry landed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditRecord {
    /// Position in its chain, from 1.
    pub seq: i64,
    /// Its hash, hex.
    pub hash: String,
}

/// Appends `entry` to its chain inside `tx`: it commits or rolls back with the change it
/// records. Waits while another transaction appends to the same chain.
pub async fn append(
    tx: &mut PgTransaction,
    entry: &AuditEntry<'_>,
) -> Result<AuditRecord, AuditError> {
    let mut records = append_all(tx, std::slice::from_ref(entry)).await?;
    Ok(records.remove(0))
}

/// Appends `entries`, in order, to their one chain inside `tx` — one lock of the chain's head
/// and one insert whatever their number — and returns where each landed. Every entry must be
/// of the same round and chain ([`AuditError::NotOneChain`] otherwise, and nothing is
/// written); none at all appends nothing.
pub async fn append_all(
    tx: &mut PgTransaction,
    entries: &[AuditEntry<'_>],
) -> Result<Vec<AuditRecord>, AuditError> {
    let Some(first) = entries.first() else {
        return Ok(Vec::new());
    };
    if entries
        .iter()
        .any(|entry| entry.round != first.round || entry.chain != first.chain)
    {
        return Err(AuditError::NotOneChain);
    }
    let chain = first.chain.name();
    let year = AuditError::stored_year(first.round)?;
    let framework = first.round.framework.as_str();
    let (mut seq, mut prev_hash) = lock_head(tx, year, framework, &chain).await?;
    let recorded_at: DateTime<Utc> = Utc::now().trunc_subsecs(6);
    let mut rows = Vec::with_capacity(entries.len());
    for entry in entries {
        seq += 1;
        let hash = HashedFields {
            year,
            framework,
            chain: &chain,
            seq,
            actor: &entry.actor.subject,
            role: entry.actor.role.as_str(),
            action: entry.action,
            subject: &entry.subject,
            before: entry.before.as_ref(),
            after: entry.after.as_ref(),
            recorded_at,
        }
        .hash(&prev_hash);
        rows.push((
            entry,
            seq,
            std::mem::replace(&mut prev_hash, hash.clone()),
            hash,
        ));
    }
    // One round trip writes the entries and advances the head it locked to the last of them.
    let mut insert = sqlx::QueryBuilder::new(
        "WITH entries AS (INSERT INTO audit_log (year, framework, chain, seq, actor, role, \
         action, subject, before, after, recorded_at, prev_hash, hash) ",
    );
    insert.push_values(&rows, |mut row, (entry, seq, prev_hash, hash)| {
        row.push_bind(year)
            .push_bind(framework)
            .push_bind(&chain)
            .push_bind(*seq)
            .push_bind(&entry.actor.subject)
            .push_bind(entry.actor.role.as_str())
            .push_bind(entry.action)
            .push_bind(&entry.subject)
            .push_bind(&entry.before)
            .push_bind(&entry.after)
            .push_bind(recorded_at)
            .push_bind(prev_hash)
            .push_bind(hash);
    });
    insert
        .push(") UPDATE audit_chain_heads SET seq = ")
        .push_bind(seq)
        .push(", hash = ")
        .push_bind(&prev_hash)
        .push(" WHERE year = ")
        .push_bind(year)
        .push(" AND framework = ")
        .push_bind(framework)
        .push(" AND chain = ")
        .push_bind(&chain);
    insert
        .build()
        .execute(&mut **tx)
        .await
        .map_err(AuditError::database("appending audit entries"))?;
    Ok(rows
        .into_iter()
        .map(|(_, seq, _, hash)| AuditRecord {
            seq,
            hash: hex::encode(hash),
        })
        .collect())
}

/// Creates the chain's head if needed and locks it, in one round trip; returns its last seq
/// and hash. (`DO UPDATE` with an unchanged value locks the existing row and returns it.)
async fn lock_head(
    tx: &mut PgTransaction,
    year: i16,
    framework: &str,
    chain: &str,
) -> Result<(i64, Vec<u8>), AuditError> {
    sqlx::query_as(
        "INSERT INTO audit_chain_heads (year, framework, chain, seq, hash) \
         VALUES ($1, $2, $3, 0, $4) \
         ON CONFLICT (year, framework, chain) DO UPDATE SET seq = audit_chain_heads.seq \
         RETURNING seq, hash",
    )
    .bind(year)
    .bind(framework)
    .bind(chain)
    .bind(vec![0_u8; HASH_LEN])
    .fetch_one(&mut **tx)
    .await
    .map_err(AuditError::database("locking an audit chain head"))
}
