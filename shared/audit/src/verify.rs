//! Checking every chain of a round, reporting the first broken link.

use chrono::{DateTime, Utc};
use dti_db::PgPool;
use dti_domain::RoundRef;
use futures::TryStreamExt;
use serde_json::Value;
use std::collections::BTreeMap;
use std::fmt;

use crate::canonical::{HashedFields, HASH_LEN};
use crate::AuditError;

/// The first place a chain does not hold.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BrokenLink {
    /// The chain.
    pub chain: String,
    /// The entry's position in the chain (the expected one for a gap).
    pub seq: i64,
    /// The row id of the entry, when there is one.
    pub id: Option<i64>,
    /// What does not hold.
    pub problem: String,
}

impl fmt::Display for BrokenLink {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.id {
            Some(id) => write!(
                f,
                "chain {} entry {} (row {id}): {}",
                self.chain, self.seq, self.problem
            ),
            None => write!(f, "chain {} at {}: {}", self.chain, self.seq, self.problem),
        }
    }
}

/// The result of checking a round's chains.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChainReport {
    /// Chains checked.
    pub chains: usize,
    /// Entries checked.
    pub entries: u64,
    /// The first broken link (chains in name order, entries in seq order), if any.
    pub first_broken: Option<BrokenLink>,
}

#[derive(sqlx::FromRow)]
struct Row {
    id: i64,
    chain: String,
    seq: i64,
    actor: String,
    role: String,
    action: String,
    subject: String,
    before: Option<Value>,
    after: Option<Value>,
    recorded_at: DateTime<Utc>,
    prev_hash: Vec<u8>,
    hash: Vec<u8>,
}

/// Where one chain stands while its rows are read.
struct Cursor {
    seq: i64,
    hash: Vec<u8>,
}

/// Recomputes every chain of `round` and reports the first broken link.
pub async fn verify_round(pool: &PgPool, round: &RoundRef) -> Result<ChainReport, AuditError> {
    let year = AuditError::stored_year(round)?;
    let framework = round.framework.as_str();
    // The heads and the entries are read in one snapshot: appends committed while the log is
    // read (a live system keeps writing) are neither half-seen nor reported as cut off.
    let mut snapshot = pool
        .begin()
        .await
        .map_err(AuditError::database("starting the audit read"))?;
    sqlx::query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        .execute(&mut *snapshot)
        .await
        .map_err(AuditError::database("starting the audit read"))?;
    let heads: BTreeMap<String, (i64, Vec<u8>)> = sqlx::query_as::<_, (String, i64, Vec<u8>)>(
        "SELECT chain, seq, hash FROM audit_chain_heads WHERE year = $1 AND framework = $2",
    )
    .bind(year)
    .bind(framework)
    .fetch_all(&mut *snapshot)
    .await
    .map_err(AuditError::database("reading audit chain heads"))?
    .into_iter()
    .map(|(chain, seq, hash)| (chain, (seq, hash)))
    .collect();
    let mut rows = sqlx::query_as::<_, Row>(
        "SELECT id, chain, seq, actor, role, action, subject, before, after, recorded_at, \
         prev_hash, hash FROM audit_log WHERE year = $1 AND framework = $2 ORDER BY chain, seq",
    )
    .bind(year)
    .bind(framework)
    .fetch(&mut *snapshot);
    let mut report = ChainReport {
        chains: heads.len(),
        entries: 0,
        first_broken: None,
    };
    let mut current: Option<(String, Cursor)> = None;
    let mut seen_chains = Vec::new();
    while let Some(row) = rows
        .try_next()
        .await
        .map_err(AuditError::database("reading audit entries"))?
    {
        report.entries += 1;
        if current.as_ref().map(|(chain, _)| chain) != Some(&row.chain) {
            if let Some((chain, cursor)) = current.take() {
                if let Some(broken) = check_head(&chain, &cursor, heads.get(&chain)) {
                    report.first_broken = Some(broken);
                    return Ok(report);
                }
            }
            seen_chains.push(row.chain.clone());
            current = Some((
                row.chain.clone(),
                Cursor {
                    seq: 0,
                    hash: vec![0; HASH_LEN],
                },
            ));
        }
        let Some((_, cursor)) = current.as_mut() else {
            continue;
        };
        if let Some(broken) = check_row(year, framework, cursor, &row) {
            report.first_broken = Some(broken);
            return Ok(report);
        }
        cursor.seq = row.seq;
        cursor.hash = row.hash;
    }
    if let Some((chain, cursor)) = current.take() {
        if let Some(broken) = check_head(&chain, &cursor, heads.get(&chain)) {
            report.first_broken = Some(broken);
            return Ok(report);
        }
    }
    report.first_broken = heads
        .iter()
        .find(|(chain, (seq, _))| *seq > 0 && !seen_chains.contains(chain))
        .map(|(chain, (seq, _))| BrokenLink {
            chain: chain.clone(),
            seq: 1,
            id: None,
            problem: format!("the chain head is at entry {seq} but the chain has no entries"),
        });
    Ok(report)
}

/// Checks one entry against the one before it.
fn check_row(year: i16, framework: &str, cursor: &Cursor, row: &Row) -> Option<BrokenLink> {
    let broken = |problem: String| {
        Some(BrokenLink {
            chain: row.chain.clone(),
            seq: row.seq,
            id: Some(row.id),
            problem,
        })
    };
    if row.seq != cursor.seq + 1 {
        return broken(format!(
            "expected entry {} after entry {}: entries are missing or renumbered",
            cursor.seq + 1,
            cursor.seq
        ));
    }
    if row.prev_hash != cursor.hash {
        return broken("prev_hash does not match the previous entry's hash".to_owned());
    }
    let recomputed = HashedFields {
        year,
        framework,
        chain: &row.chain,
        seq: row.seq,
        actor: &row.actor,
        role: &row.role,
        action: &row.action,
        subject: &row.subject,
        before: row.before.as_ref(),
        after: row.after.as_ref(),
        recorded_at: row.recorded_at,
    }
    .hash(&row.prev_hash);
    if recomputed != row.hash {
        return broken("the entry's content does not match its hash: it was changed".to_owned());
    }
    None
}

/// Checks that a chain's head still points at its last entry.
fn check_head(chain: &str, last: &Cursor, head: Option<&(i64, Vec<u8>)>) -> Option<BrokenLink> {
    let problem = match head {
        None => "the chain has entries but no head".to_owned(),
        Some((seq, _)) if *seq != last.seq => format!(
            "the chain head is at entry {seq} but the last entry is {}: entries were cut off",
            last.seq
        ),
        Some((_, hash)) if *hash != last.hash => {
            "the chain head's hash does not match the last entry".to_owned()
        }
        Some(_) => return None,
    };
    Some(BrokenLink {
        chain: chain.to_owned(),
        seq: last.seq,
        id: None,
        problem,
    })
}
