//! Shared plumbing of the commands: loading the framework catalog, reading input files and
//! decoding cohort files (their units in parallel).

pub mod bus;
pub mod client;
pub mod database;
pub mod decisions;
pub mod evidence;
pub mod export;
pub mod form;
pub mod frameworks;
pub mod generate;
pub mod objection;
pub mod owner;
pub mod progress;
pub mod publication;
pub mod registry;
pub mod results;
pub mod review;
pub mod round_common;
pub mod score;
pub mod sync;
pub mod token;
pub mod unit;
pub mod unit_common;
pub mod validate;
pub mod verify_steps;
pub mod what_if;

use crate::{tr, Failure};
use dti_domain::values::{decode_cohort_with, Cohort, Decoded, InputIssue};
use dti_domain::FrameworkCatalog;
use rayon::prelude::*;
use std::io::Read;
use std::path::Path;

/// The built-in frameworks plus an operator's directory (a broken file is invalid input), and,
/// for a command that calls the services, the frameworks stored on the platform.
pub fn load_catalog(dir: Option<&Path>) -> Result<FrameworkCatalog, Failure> {
    let catalog = match dir {
        Some(dir) => FrameworkCatalog::builtin_and_dir(dir),
        None => FrameworkCatalog::builtin(),
    };
    let catalog = catalog
        .map_err(|e| Failure::InvalidInput(e.to_string().lines().map(str::to_string).collect()))?;
    let stored = crate::registry_in_force::stored_frameworks(&catalog);
    for error in catalog.add_all(stored) {
        eprintln!("{error}");
    }
    Ok(catalog)
}

/// Reads a file, or standard input for `-`.
pub fn read_input(path: &Path) -> Result<String, Failure> {
    let mut text = String::new();
    let result = if path == Path::new("-") {
        std::io::stdin().read_to_string(&mut text).map(|_| ())
    } else {
        std::fs::read_to_string(path).map(|t| text = t)
    };
    result.map_err(|e| {
        Failure::InvalidInput(vec![tr!(
            "dtictl-cannot-read",
            path = path.display().to_string(),
            error = e.to_string()
        )])
    })?;
    Ok(text)
}

/// Decodes and validates a cohort file; warnings go to stderr, errors fail with exit code 2.
pub fn load_cohort(catalog: &FrameworkCatalog, path: &Path) -> Result<Cohort, Failure> {
    let text = read_input(path)?;
    let decoded = decode_cohort_in_parallel(&text, catalog);
    let (errors, warnings): (Vec<InputIssue>, Vec<InputIssue>) =
        decoded.issues.into_iter().partition(InputIssue::is_error);
    for warning in &warnings {
        eprintln!("{warning}");
    }
    match decoded.value {
        Some(cohort) if errors.is_empty() => Ok(cohort),
        _ => Err(Failure::InvalidInput(
            errors.iter().map(ToString::to_string).collect(),
        )),
    }
}

/// Decodes and validates a cohort document as `dti_domain::values::decode_cohort` does, with
/// its units decoded in parallel: a cohort file may hold thousands of units.
pub fn decode_cohort_in_parallel(text: &str, catalog: &FrameworkCatalog) -> Decoded<Cohort> {
    decode_cohort_with(text, catalog, |framework, units| {
        units
            .par_iter()
            .map(|unit| unit.decode(framework))
            .collect()
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use dti_domain::sample::{sample_cohort, SampleOptions};
    use dti_domain::values::decode_cohort;
    use serde_json::json;

    #[test]
    fn decoding_in_parallel_finds_what_decoding_in_order_finds() {
        let catalog = FrameworkCatalog::builtin().expect("built-in frameworks");
        let framework = catalog.get_str("hcm-2023-district").expect("framework");
        let valid = sample_cohort(framework, &SampleOptions::default());
        let mut broken = valid.clone();
        let units = broken["units"].as_array_mut().expect("units");
        units.push(units[0].clone());
        units.push(json!({"unit": 7}));
        units.push(json!({"unit": "q-x", "values": {"1.2": {"a": -1, "b": 0}}}));
        for document in [valid, broken, json!({"framework": 1}), json!([])] {
            let text = document.to_string();
            let in_order = decode_cohort(&text, &catalog);
            let in_parallel = decode_cohort_in_parallel(&text, &catalog);
            assert_eq!(in_parallel.issues, in_order.issues);
            assert_eq!(
                in_parallel.value.map(|cohort| cohort.units),
                in_order.value.map(|cohort| cohort.units)
            );
        }
    }
}
