//! Why a round's inputs could not be read or scored.

use dti_domain::RoundRef;

/// Why a round's inputs could not be read or scored.
#[derive(Debug, thiserror::Error)]
pub enum InputsError {
    /// A database statement failed.
    #[error("{action}: {source}")]
    Database {
        /// What was being read.
        action: &'static str,
        /// The database error.
        source: sqlx::Error,
    },
    /// A stored row is not readable with the round's framework.
    #[error("stored inputs of round {round}, unit {unit}, version {version}: {problem}")]
    Stored {
        /// The round.
        round: String,
        /// The unit.
        unit: String,
        /// The submitted version (0: none).
        version: i32,
        /// What is wrong, naming the indicator.
        problem: String,
    },
    /// The engine refused the inputs (they were validated when written, so this is a defect).
    #[error(transparent)]
    Engine(#[from] dti_engine::EngineError),
}

impl InputsError {
    /// Maps a database error of `action`.
    pub fn database(action: &'static str) -> impl FnOnce(sqlx::Error) -> Self {
        move |source| Self::Database { action, source }
    }

    /// A stored row of `unit`'s `version` in `round` that cannot be read.
    pub fn stored(
        round: &RoundRef,
        unit: impl std::fmt::Display,
        version: i32,
        problem: impl Into<String>,
    ) -> Self {
        Self::Stored {
            round: round.to_string(),
            unit: unit.to_string(),
            version,
            problem: problem.into(),
        }
    }
}
