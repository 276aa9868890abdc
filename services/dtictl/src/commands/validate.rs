//! `dtictl validate`: the same checks as `score`, without scoring.

use super::load_cohort;
use crate::{tr, Failure};
use dti_domain::FrameworkCatalog;
use std::path::Path;

/// Validates a cohort file; prints a one-line summary when it is valid.
pub fn run(catalog: &FrameworkCatalog, input: &Path) -> Result<(), Failure> {
    let cohort = load_cohort(catalog, input)?;
    println!(
        "{}",
        tr!(
            "dtictl-valid",
            units = cohort.units.len(),
            framework = cohort.framework.id.to_string()
        )
    );
    Ok(())
}
