//! Decoding and validating submitted values: every kind of invalid input is named by unit,
//! indicator and variable, and warnings never block.

use dti_domain::values::{decode_cohort, unit_warnings, InputIssue};
use dti_domain::FrameworkCatalog;
use dti_i18n::Lang;
use serde_json::{json, Value};

fn issues(document: Value) -> (bool, Vec<String>) {
    let decoded = decode_cohort(&document.to_string(), &FrameworkCatalog::builtin().unwrap());
    (
        decoded.value.is_some(),
        decoded.issues.iter().map(InputIssue::to_string).collect(),
    )
}

fn one_unit(values: Value) -> Value {
    json!({"framework": "hcm-2023-district", "units": [{"unit": "Q1", "values": values}]})
}

fn rejected(values: Value, expected: &str) {
    let (ok, lines) = issues(one_unit(values.clone()));
    assert!(!ok, "{values} should be rejected");
    assert!(
        lines.iter().any(|l| l.contains(expected)),
        "expected {expected:?} in {lines:#?}"
    );
}

#[test]
fn each_invalid_value_names_unit_indicator_and_variable() {
    rejected(
        json!({"1.2": {"a": -1, "b": 5}}),
        "unit Q1, indicator 1.2, variable a: must not be negative",
    );
    rejected(
        json!({"1.2": {"a": 1.5, "b": 5}}),
        "unit Q1, indicator 1.2, variable a: must be a whole number",
    );
    rejected(
        json!({"1.2": {"a": "3", "b": 5}}),
        "unit Q1, indicator 1.2, variable a: must be a whole number ≥ 0, got \"3\"",
    );
    rejected(
        json!({"1.2": {"a": 1}}),
        "unit Q1, indicator 1.2, variable b: missing",
    );
    rejected(
        json!({"1.2": {"a": 1, "b": 2, "z": 3}}),
        "unit Q1, indicator 1.2, variable z: variable is not defined",
    );
    rejected(
        json!({"1.2": {"a": 1, "b": 0}}),
        "unit Q1, indicator 1.2, variable b: denominator is zero",
    );
    rejected(
        json!({"4.3": {"a": 1, "b": 1, "c": 1, "d": 1, "e": 0, "f": 0}}),
        "unit Q1, indicator 4.3, variable e+f: denominator is zero",
    );
    rejected(
        json!({"6.13": {"a": 5, "b": 0}}),
        "unit Q1, indicator 6.13, variable b: denominator is zero",
    );
    rejected(
        json!({"99.1": {"a": 1}}),
        "unit Q1, indicator 99.1: indicator code is not in framework hcm-2023-district",
    );
    rejected(
        json!({"1.1": {"head_role": "chair"}}),
        "unit Q1, indicator 1.1, variable head_role: \"chair\" is not one of head, deputy, none",
    );
    rejected(
        json!({"1.5": {"frequency": "daily"}}),
        "variable frequency: \"daily\" is not one of weekly, monthly, rarer",
    );
    rejected(
        json!({"2.1": {"yes": 1}}),
        "unit Q1, indicator 2.1, variable yes: must be true or false",
    );
    rejected(
        json!({"8.5": {"activities": [{"reports": 3}]}}),
        "variable activities: activity #1: missing \"resolved\"",
    );
    rejected(
        json!({"8.5": {"activities": [{"reports": 3, "resolved": -1}]}}),
        "activity #1: resolved must not be negative",
    );
    rejected(
        json!({"1.2": [1, 2]}),
        "unit Q1, indicator 1.2: values must be an object of variables",
    );
}

#[test]
fn cohort_level_problems_are_named() {
    let (ok, lines) = issues(json!({"framework": "hcm-2030-district", "units": []}));
    assert!(!ok);
    assert!(
        lines[0].contains("framework \"hcm-2030-district\" is not known"),
        "{lines:?}"
    );
    let (ok, lines) = issues(json!({"framework": "mic-2022-province", "units": []}));
    assert!(
        !ok && lines[0].contains("has no scoring rules"),
        "{lines:?}"
    );
    let (ok, lines) =
        issues(json!({"framework": "hcm-2023-district", "units": [{"unit": "A"}, {"unit": "A"}]}));
    assert!(
        !ok && lines
            .iter()
            .any(|l| l.contains("unit A: unit appears more than once")),
        "{lines:?}"
    );
    let (ok, lines) = issues(json!({"framework": "hcm-2023-district", "units": [{"values": {}}]}));
    assert!(
        !ok && lines[0].contains("unit #1 (no usable id): missing \"unit\""),
        "{lines:?}"
    );
    let (ok, lines) = issues(
        json!({"framework": "hcm-2023-district", "units": [{"unit": "A", "not_aplicable": []}]}),
    );
    assert!(
        !ok && lines[0].contains("unknown field \"not_aplicable\""),
        "{lines:?}"
    );
    let (ok, lines) = issues(
        json!({"framework": "hcm-2023-district", "units": [{"unit": "A", "not_applicable": ["7.9"]}]}),
    );
    assert!(
        !ok && lines[0].contains("unit A, indicator 7.9: not_applicable names an indicator code"),
        "{lines:?}"
    );
    let decoded = decode_cohort("{\"framework\": ", &FrameworkCatalog::builtin().unwrap());
    assert!(decoded.value.is_none());
    assert!(decoded.issues[0]
        .to_string()
        .starts_with("input: input is not valid JSON"));
}

#[test]
fn every_problem_is_reported_not_only_the_first() {
    let (_, lines) = issues(json!({"framework": "hcm-2023-district", "units": [
        {"unit": "A", "values": {"1.2": {"a": -1, "b": 3}, "1.3": {"a": 1, "b": 0}}},
        {"unit": "B", "values": {"2.1": {"yes": "yes"}}}]}));
    assert_eq!(lines.len(), 3, "{lines:#?}");
}

#[test]
fn warnings_do_not_block() {
    let (ok, lines) = issues(
        json!({"framework": "hcm-2023-district", "units": [{"unit": "A",
        "values": {"1.2": {"a": 12, "b": 10}, "4.3": {"a": 1, "b": 1, "c": 1, "d": 1, "e": 50, "f": 20}},
        "general_info": {"civil_servants": 40, "name": "Quận 1"}}]}),
    );
    assert!(ok, "{lines:?}");
    assert!(
        lines
            .iter()
            .any(|l| l
                .starts_with("warning: unit A, indicator 1.2, variable a: a = 12 exceeds b = 10")),
        "{lines:?}"
    );
    assert!(
        lines.iter().any(|l| l.starts_with(
            "warning: unit A, indicator 4.3, variable e: 50 differs from general information"
        )),
        "{lines:?}"
    );
}

#[test]
fn general_information_is_checked_against_the_framework() {
    let (ok, lines) = issues(
        json!({"framework": "hcm-2023-district", "units": [{"unit": "A",
        "general_info": {"civil_servants": -4, "colour": "red", "data_provider": {"name": "X", "fax": "1"}}}]}),
    );
    assert!(!ok);
    assert!(
        lines
            .iter()
            .any(|l| l.contains("general information civil_servants: must not be negative")),
        "{lines:?}"
    );
    assert!(
        lines
            .iter()
            .any(|l| l.contains("general information colour: field is not defined")),
        "{lines:?}"
    );
    assert!(
        lines.iter().any(|l| l.contains("contact field \"fax\"")),
        "{lines:?}"
    );
}

#[test]
fn a_units_warnings_are_kept_as_messages_shown_in_either_language() {
    let catalog = FrameworkCatalog::builtin().unwrap();
    let document = json!({"framework": "hcm-2023-district", "units": [{"unit": "A",
        "values": {"1.2": {"a": 12, "b": 10}, "4.3": {"a": 1, "b": 1, "c": 1, "d": 1, "e": 50, "f": 20}},
        "general_info": {"civil_servants": 40}}]});
    let cohort = decode_cohort(&document.to_string(), &catalog)
        .value
        .expect("warnings do not block");
    let warnings = unit_warnings(&cohort.framework, &cohort.units[0]);
    let places: Vec<(Option<&str>, Option<&str>)> = warnings
        .iter()
        .map(|w| (w.indicator.as_deref(), w.variable.as_deref()))
        .collect();
    assert_eq!(places, [(Some("1.2"), Some("a")), (Some("4.3"), Some("e"))]);
    assert!(warnings.iter().all(|w| !w.is_error()));
    let differs = &warnings[1].message;
    assert_eq!(differs.key(), "issue-general-info-differs");
    let english = differs.render(Lang::En);
    let vietnamese = differs.render(Lang::Vi);
    assert!(
        english.starts_with("50 differs from general information") && english.ends_with("= 40"),
        "{english}"
    );
    assert!(
        vietnamese.starts_with("50 khác với thông tin chung") && vietnamese.ends_with("= 40"),
        "{vietnamese}"
    );
    // Logs and `Display` are English.
    assert_eq!(differs.to_string(), english);
}
