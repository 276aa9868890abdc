//! `dti-audit` owns the audit log: every state change and value change, appended in the same
//! transaction as the change, never updated or deleted, and hash-chained so that tampering
//! shows.
//!
//! Entries belong to a round and to a *chain* of that round: [`Chain::Round`] for the round's
//! own state changes, [`Chain::Unit`] for everything about one unit (its submission, evidence,
//! verification, objections), or a named stream ([`Chain::Named`], e.g. national sync). Entries
//! of one chain are numbered 1, 2, 3 … and each stores
//! `hash = SHA-256(prev_hash ‖ canonical JSON of the entry)`, with `prev_hash` the previous
//! entry's hash (32 zero bytes for the first). Appends to one chain are serialised by locking
//! its head row (`audit_chain_heads`); different units' chains never wait for each other.
//!
//! [`verify_round`] recomputes every chain of a round and reports the first broken link: an
//! edited entry (its hash no longer matches), a deleted or reordered one (a gap or a wrong
//! `prev_hash`), or entries cut off the end (the head no longer matches the last entry).

#![warn(missing_docs)]

mod canonical;
mod chain;
mod verify;

pub use canonical::canonical_json;
pub use chain::{append, append_all, AuditEntry, AuditRecord, Chain, OnUnit};
pub use verify::{verify_round, BrokenLink, ChainReport};

/// Why the audit log could not be written or read.
#[derive(Debug, thiserror::Error)]
pub enum AuditError {
    /// A database statement failed.
    #[error("{action}: {source}")]
    Database {
        /// What was being done.
        action: &'static str,
        /// The database error.
        source: sqlx::Error,
    },
    /// The round's year is beyond the range the audit tables store (`SMALLINT`).
    #[error("year {0} is beyond the stored range")]
    YearOutOfRange(u16),
    /// Entries appended together were not all of one round and chain.
    #[error("entries appended together must be of one round and chain")]
    NotOneChain,
}

impl AuditError {
    /// The year of `round` as stored, or [`AuditError::YearOutOfRange`].
    pub(crate) fn stored_year(round: &dti_domain::RoundRef) -> Result<i16, Self> {
        i16::try_from(round.year).map_err(|_| Self::YearOutOfRange(round.year))
    }

    pub(crate) fn database(action: &'static str) -> impl FnOnce(sqlx::Error) -> Self {
        move |source| Self::Database { action, source }
    }
}
