//! `dtictl validate`: the same checks as `score`, without scoring.

use super::load_cohort;
use crate::Failure;
use dti_domain::FrameworkCatalog;
use std::path::Path;

/// Validates a cohort file; prints a one-line summary when it is valid.
pub fn run(catalog: &FrameworkCatalog, input: &Path) -> Result<(), Failure> {
    let cohort = load_cohort(catalog, input)?;
    println!(
        "valid: {} unit(s) for framework {}",
        cohort.units.len(),
        cohort.framework.id
    );
    Ok(())
}
