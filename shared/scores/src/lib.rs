//! `dti-scores` owns what the scoring and ranking services share about the score tables
//! (migration `20261125002000_scores.sql`): how they are read, and how a unit's exact group and
//! total scores are composed from what is stored.
//!
//! A unit row stores the indicators that do not depend on the cohort already scored (summed per
//! group), and only its *input* to each min-max indicator; the cohort row stores each min-max
//! indicator's range. Every score of a min-max indicator is computed by the engine
//! (`dti_engine::score_indicator`) from that input and the range, so a range that moves changes
//! every unit's score of the indicator without rewriting a unit row.
//!
//! Modules:
//! - [`basis`]: self-assessed or verified, as stored and in the protobuf contracts;
//! - [`inputs`]: what units are scored from, read once for both services: submitted values,
//!   verifiers' decisions and the one rule that applies them ([`inputs::Decision::apply`]);
//! - [`layout`]: a framework's groups and min-max indicators, in framework order;
//! - [`stored`]: the JSON forms of ranges, per-group scores and min-max inputs;
//! - [`compose`]: a unit's min-max scores and its group and total scores, exactly;
//! - [`tables`]: reading a cohort's head (version and ranges) and its unit rows;
//! - [`visibility`]: when a unit may see scores and rankings, and who reads what.

#![warn(missing_docs)]

pub mod basis;
pub mod compose;
pub mod inputs;
pub mod layout;
pub mod stored;
pub mod tables;
pub mod visibility;

pub use basis::Basis;
pub use compose::UnitTotals;
pub use layout::FrameworkLayout;
pub use tables::{CohortHead, UnitRankingRow};
pub use visibility::UnitVisibility;

/// Why the score tables could not be read or used.
#[derive(Debug, thiserror::Error)]
pub enum ScoresError {
    /// A database statement failed.
    #[error("{action}: {source}")]
    Database {
        /// What was being done.
        action: &'static str,
        /// The database error.
        source: sqlx::Error,
    },
    /// Stored data is not in the form the score tables promise.
    #[error("stored scores of {place} are unreadable: {problem}")]
    Corrupt {
        /// Where (round, basis, unit).
        place: String,
        /// What is wrong.
        problem: String,
    },
    /// A version is beyond the range the score tables store (`BIGINT`).
    #[error("version {0} is beyond the stored range")]
    VersionOutOfRange(u64),
    /// The engine refused values (they were not validated as they should have been).
    #[error(transparent)]
    Engine(#[from] dti_engine::EngineError),
}

impl ScoresError {
    /// Maps a database error of `action`.
    pub fn database(action: &'static str) -> impl FnOnce(sqlx::Error) -> Self {
        move |source| Self::Database { action, source }
    }

    /// Stored data of `place` that cannot be read.
    pub fn corrupt(place: impl std::fmt::Display, problem: impl Into<String>) -> Self {
        Self::Corrupt {
            place: place.to_string(),
            problem: problem.into(),
        }
    }
}
