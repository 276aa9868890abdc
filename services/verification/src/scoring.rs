//! Scores of a round's inputs by the one engine (`dti_engine`, the same as the scoring service
//! and `dtictl`), so every score shown or published here agrees with theirs to the cent. The
//! engine is CPU work, so it runs on the blocking pool, never on the async workers.

use dti_domain::values::Cohort;
use dti_domain::UnitId;
use dti_engine::{score_cohort, score_unit, CohortScores, CohortStats, Explain, UnitScore};

use crate::inputs::InputsError;
use crate::VerificationError;

/// Runs `work` on the blocking pool.
async fn blocking<T, F>(work: F) -> Result<T, VerificationError>
where
    F: FnOnce() -> Result<T, InputsError> + Send + 'static,
    T: Send + 'static,
{
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|error| VerificationError::Corrupted(format!("scoring stopped: {error}")))?
        .map_err(VerificationError::from)
}

/// Every unit of `cohort` scored and ranked.
pub async fn cohort(cohort: Cohort, explain: Explain) -> Result<CohortScores, VerificationError> {
    blocking(move || Ok(score_cohort(&cohort, explain)?)).await
}

/// One unit of `cohort` scored against the whole cohort, with explanations; `None` when the
/// unit is not in it.
pub async fn one_unit(
    cohort: Cohort,
    unit: UnitId,
) -> Result<Option<UnitScore>, VerificationError> {
    blocking(move || {
        let stats = CohortStats::compute(&cohort.framework, &cohort.units)?;
        cohort
            .units
            .iter()
            .find(|values| values.unit == unit)
            .map(|values| score_unit(&cohort.framework, &stats, values, Explain::Full))
            .transpose()
            .map_err(InputsError::from)
    })
    .await
}
