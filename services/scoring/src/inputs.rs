//! A unit's current input to scoring on each basis, as read by the one loader both services use
//! (`dti_scores::inputs`): the values of its latest submitted version (self-assessed), and those
//! values with the verifiers' decisions on that version applied (verified). Events only say that
//! something changed; the input is always read here, so a stale or redelivered event scores the
//! same input again.

use std::sync::Arc;

use dti_domain::framework::Framework;
use dti_domain::values::UnitValues;
use dti_domain::{RoundRef, UnitId};
use dti_scores::inputs::{load_units, InputsError};
use dti_scores::Basis;
use dti_service_kit::service_error::DatabaseFailure;
use rayon::prelude::*;

use crate::ScoringError;

pub(crate) use dti_scores::decisions_digest;
pub use dti_scores::inputs::InputIdentity;

/// A unit's current input on one basis.
#[derive(Debug, Clone)]
pub struct UnitInput {
    /// Where it comes from.
    pub identity: InputIdentity,
    /// The values, validated against the round's framework; shared by both bases while they
    /// are the same.
    pub values: Arc<UnitValues>,
}

impl UnitInput {
    /// The input of a unit that has submitted nothing: every indicator missing.
    pub fn nothing_submitted(unit: UnitId) -> Self {
        Self {
            identity: InputIdentity::default(),
            values: Arc::new(UnitValues::new(unit)),
        }
    }
}

/// The current inputs of `units` of `round` on each of `bases`: one list per basis (in the
/// order of `bases`), each with every unit in the order of `units`. The submitted values are
/// read and validated once; the decisions are read only for the verified basis. A unit's values
/// are built once for both bases while no verifier has decided anything on them, and units are
/// built in parallel (a whole cohort's values are half a million entries).
pub async fn read_inputs(
    conn: &mut sqlx::PgConnection,
    framework: &Arc<Framework>,
    round: &RoundRef,
    units: &[UnitId],
    bases: &[Basis],
) -> Result<Vec<Vec<UnitInput>>, ScoringError> {
    let with_decisions = bases.contains(&Basis::Verified);
    let loaded = load_units(conn, framework, round, units, with_decisions).await?;
    let by_unit: Vec<Vec<UnitInput>> = loaded
        .units
        .par_iter()
        .map(|unit| {
            bases
                .iter()
                .zip(unit.shared_values(bases))
                .map(|(&basis, values)| UnitInput {
                    identity: unit.identity(basis),
                    values,
                })
                .collect()
        })
        .collect();
    let mut by_basis: Vec<Vec<UnitInput>> = bases
        .iter()
        .map(|_| Vec::with_capacity(by_unit.len()))
        .collect();
    for inputs in by_unit {
        for (list, input) in by_basis.iter_mut().zip(inputs) {
            list.push(input);
        }
    }
    Ok(by_basis)
}

impl From<InputsError> for ScoringError {
    fn from(error: InputsError) -> Self {
        match error {
            InputsError::Database { action, source } => {
                ScoringError::from(DatabaseFailure { action, source })
            }
            InputsError::Stored {
                round,
                unit,
                version,
                problem,
            } => ScoringError::StoredInput {
                place: format!("round {round}, unit {unit}, version {version}"),
                problems: problem,
            },
            InputsError::Engine(error) => ScoringError::Engine(error),
        }
    }
}
