//! Test support: builds cohorts through the same JSON decoding `dtictl` uses.

#![allow(dead_code)]

use dti_domain::values::decode_cohort;
use dti_domain::FrameworkCatalog;
use dti_engine::{score_cohort, CohortScores, Explain, IndicatorScore, UnitScore};
use serde_json::{json, Value};

pub fn catalog() -> FrameworkCatalog {
    FrameworkCatalog::builtin().expect("built-in frameworks load")
}

/// Scores a cohort document; panics with every issue if it is invalid.
pub fn score(document: Value) -> CohortScores {
    let decoded = decode_cohort(&document.to_string(), &catalog());
    let errors: Vec<String> = decoded
        .issues
        .iter()
        .filter(|i| i.is_error())
        .map(ToString::to_string)
        .collect();
    let cohort = decoded
        .value
        .unwrap_or_else(|| panic!("invalid cohort: {errors:#?}"));
    score_cohort(&cohort, Explain::Full).expect("validated cohorts score")
}

/// The issues of a cohort document, as display lines.
pub fn issues(document: Value) -> Vec<String> {
    decode_cohort(&document.to_string(), &catalog())
        .issues
        .iter()
        .map(ToString::to_string)
        .collect()
}

/// Scores one indicator of one unit of a framework.
pub fn indicator(framework: &str, code: &str, values: Value) -> IndicatorScore {
    let scored =
        score(json!({"framework": framework, "units": [{"unit": "U", "values": {code: values}}]}));
    find(&scored.units[0], code).clone()
}

/// The rounded score of one indicator, as text.
pub fn points(framework: &str, code: &str, values: Value) -> String {
    indicator(framework, code, values).score.to_string()
}

pub fn find<'a>(unit: &'a UnitScore, code: &str) -> &'a IndicatorScore {
    unit.indicators
        .iter()
        .find(|i| i.code.as_str() == code)
        .expect("indicator scored")
}

pub fn unit<'a>(scores: &'a CohortScores, id: &str) -> &'a UnitScore {
    scores
        .units
        .iter()
        .find(|u| u.unit.as_str() == id)
        .expect("unit scored")
}

pub const DISTRICT: &str = "hcm-2023-district";
pub const DEPARTMENT: &str = "hcm-2023-department";
