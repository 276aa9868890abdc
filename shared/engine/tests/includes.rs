//! A framework that includes from another (`[[includes]]`) scores what it includes by that
//! framework's rules, over the cohort of its own round: departments reporting the district
//! set's digital-economy group and min-max indicator 5.1 get, indicator by indicator, the scores
//! and explanations districts with the same values get in a cohort of the same values.

use dti_domain::values::decode_cohort;
use dti_domain::FrameworkCatalog;
use dti_engine::{score_cohort, CohortScores, Explain};
use serde_json::{json, Value};

/// The framework file of the domain crate's tests.
const INCLUDING: &str =
    include_str!("../../domain/tests/data/test-2024-department-digital-economy.toml");

const TAKEN: [&str; 4] = ["5.1", "7.1", "7.2", "7.3"];

fn catalog() -> FrameworkCatalog {
    let catalog = FrameworkCatalog::builtin().expect("built-in frameworks load");
    let errors = catalog.add_all(vec![(
        "test-2024-department-digital-economy".into(),
        INCLUDING.into(),
    )]);
    assert!(errors.is_empty(), "{errors:?}");
    catalog
}

/// The local stack's district sample units, with only the included indicators' values, as a
/// cohort of `framework`; the first `count` units.
fn cohort(framework: &str, count: usize) -> Value {
    let sample: Value = serde_json::from_str(
        &std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../deploy/samples/hcm-2023-districts.json"
        ))
        .expect("the worked example"),
    )
    .expect("JSON");
    let units: Vec<Value> = sample["units"]
        .as_array()
        .expect("units")
        .iter()
        .take(count)
        .map(|unit| {
            let values: serde_json::Map<String, Value> = TAKEN
                .iter()
                .filter_map(|code| Some((code.to_string(), unit["values"].get(*code)?.clone())))
                .collect();
            json!({"unit": unit["unit"], "values": values})
        })
        .collect();
    json!({"framework": framework, "units": units})
}

fn score(catalog: &FrameworkCatalog, document: Value) -> CohortScores {
    let decoded = decode_cohort(&document.to_string(), catalog);
    let errors: Vec<String> = decoded.issues.iter().map(ToString::to_string).collect();
    let cohort = decoded
        .value
        .unwrap_or_else(|| panic!("invalid cohort: {errors:#?}"));
    score_cohort(&cohort, Explain::Full).expect("scores")
}

/// Each unit's (indicator, score, explanation) for the included indicators.
fn taken(scores: &CohortScores) -> Vec<(String, String, String, Value)> {
    scores
        .units
        .iter()
        .flat_map(|unit| {
            unit.indicators
                .iter()
                .filter(|i| TAKEN.contains(&i.code.as_str()))
                .map(|i| {
                    (
                        unit.unit.to_string(),
                        i.code.to_string(),
                        i.score.to_string(),
                        serde_json::to_value(&i.explanation).expect("serializes"),
                    )
                })
        })
        .collect()
}

#[test]
fn included_indicators_score_as_in_their_framework_over_the_rounds_cohort() {
    let catalog = catalog();
    for count in [2, 5] {
        let departments = score(
            &catalog,
            cohort("test-2024-department-digital-economy", count),
        );
        let districts = score(&catalog, cohort("hcm-2023-district", count));
        let scored = taken(&departments);
        assert_eq!(scored.len(), count * TAKEN.len());
        assert_eq!(scored, taken(&districts), "cohort of {count}");
        // The total is the included indicators' sum: 100 points in all.
        for unit in &departments.units {
            let sum = unit
                .indicators
                .iter()
                .fold(dti_engine::Points::ZERO, |acc, i| acc + i.score);
            assert_eq!(unit.total, sum);
            assert_eq!(unit.groups.len(), 2);
        }
    }
    // Min-max over the round's own cohort: 5.1 of the same unit scores otherwise among 2
    // units than among 5.
    let of = |count| {
        let scored = score(
            &catalog,
            cohort("test-2024-department-digital-economy", count),
        );
        taken(&scored)
            .into_iter()
            .find(|(_, code, _, _)| code == "5.1")
            .map(|(_, _, score, _)| score)
    };
    assert_ne!(of(2), of(5));
}
