//! Round progress as Prometheus gauges, read from PostgreSQL (the only truth) on a timer, so a
//! dashboard shows every round's progress and an alert sees a deadline passed with units
//! missing, whichever replica answers the scrape:
//! - `dti_round_units{year, framework, stage}`: units of the round's cohort per stage —
//!   `cohort`, `submitted` (a submitted version exists), `not_submitted`,
//!   `under_verification` (being verified or asked for clarification), `verified`,
//!   `published` (the whole cohort once the round is provisional or final);
//! - `dti_round_state{year, framework, state}`: 1 for the round's state, 0 for the others;
//! - `dti_round_deadline_timestamp_seconds{year, framework}`: the submission deadline (Unix
//!   time), for rounds that have one.

use std::time::Duration;

use sqlx::PgPool;

/// Time between exports: about a Prometheus scrape interval.
pub const EXPORT_INTERVAL: Duration = Duration::from_secs(15);

/// Gauge of units per stage.
pub const ROUND_UNITS: &str = "dti_round_units";
/// Gauge of the round's state (1 for the current one).
pub const ROUND_STATE: &str = "dti_round_state";
/// Gauge of the round's deadline.
pub const ROUND_DEADLINE: &str = "dti_round_deadline_timestamp_seconds";

/// Every state a round can be in (`dti_domain::round::RoundState`).
const STATES: [&str; 8] = [
    "draft",
    "open",
    "closed",
    "under_verification",
    "verified",
    "approved",
    "provisional",
    "final",
];

/// One round's progress as stored.
#[derive(Debug, sqlx::FromRow)]
struct RoundProgress {
    year: i16,
    framework: String,
    state: String,
    deadline: Option<f64>,
    cohort: i64,
    submitted: i64,
    under_verification: i64,
    verified: i64,
}

/// Reads every round's progress and sets the gauges.
pub async fn export_round_progress(pool: &PgPool) -> Result<(), sqlx::Error> {
    let rounds: Vec<RoundProgress> = sqlx::query_as(
        "SELECT r.year, r.framework, r.state, \
                EXTRACT(EPOCH FROM r.deadline)::float8 AS deadline, \
                (SELECT count(*) FROM round_units u \
                  WHERE u.year = r.year AND u.framework = r.framework) AS cohort, \
                count(s.id) FILTER (WHERE s.latest_version > 0) AS submitted, \
                count(s.id) FILTER (WHERE s.state IN ('under_verification', \
                                                      'clarification_requested')) \
                  AS under_verification, \
                count(s.id) FILTER (WHERE s.state = 'verified') AS verified \
           FROM rounds r \
           LEFT JOIN submissions s ON s.year = r.year AND s.framework = r.framework \
          GROUP BY r.year, r.framework, r.state, r.deadline",
    )
    .fetch_all(pool)
    .await?;
    for round in rounds {
        let year = round.year.to_string();
        let published = if matches!(round.state.as_str(), "provisional" | "final") {
            round.cohort
        } else {
            0
        };
        for (stage, units) in [
            ("cohort", round.cohort),
            ("submitted", round.submitted),
            ("not_submitted", round.cohort - round.submitted),
            ("under_verification", round.under_verification),
            ("verified", round.verified),
            ("published", published),
        ] {
            metrics::gauge!(ROUND_UNITS, "year" => year.clone(), "framework" => round.framework.clone(), "stage" => stage)
                .set(units as f64);
        }
        for state in STATES {
            metrics::gauge!(ROUND_STATE, "year" => year.clone(), "framework" => round.framework.clone(), "state" => state)
                .set(if state == round.state { 1.0 } else { 0.0 });
        }
        if let Some(deadline) = round.deadline {
            metrics::gauge!(ROUND_DEADLINE, "year" => year.clone(), "framework" => round.framework.clone())
                .set(deadline);
        }
    }
    Ok(())
}
