//! `[[includes]]`: a framework that takes groups or indicators from another one already known
//! (the Hà Nội rule: departments with digital-economy duties are also assessed on the district
//! set's digital-economy group). What is included is the other framework's, unchanged; what
//! cannot be included is refused naming the entry and the problem.

use dti_domain::framework::load::parse_framework;
use dti_domain::framework::{content_hash, Framework};
use dti_domain::FrameworkCatalog;

fn catalog() -> FrameworkCatalog {
    FrameworkCatalog::builtin().expect("the built-in frameworks load")
}

/// Departments assessed on the 2023 district set's digital-economy group (7) alone.
const DIGITAL_ECONOMY: &str = r#"
schema = 1
id = "test-2024-department-digital-economy"
year = 2024
unit_kind = "department"
title = "Chỉ số hoạt động kinh tế số (bộ chỉ số cấp huyện) cho các sở có nhiệm vụ kinh tế số"
source = "test data"
total_points = 90

[[includes]]
framework = "hcm-2023-district"
groups = ["7"]
"#;

/// One group of its own, and two indicators of the district set's group 7.
const OWN_AND_TWO: &str = r#"
schema = 1
id = "test-2024-department-mixed"
year = 2024
unit_kind = "department"
title = "t"
source = "s"
total_points = 70

[[groups]]
code = "1"
name = "g"
points = 10

[[indicators]]
code = "1.1"
name = "i"
points = 10
[indicators.rule]
kind = "boolean"
variable = "done"
[[indicators.variables]]
name = "done"
type = "bool"
meaning = "m"

[[includes]]
framework = "hcm-2023-district"
indicators = ["7.1", "7.3"]
"#;

fn json<T: serde::Serialize>(value: &T) -> serde_json::Value {
    serde_json::to_value(value).expect("serializes")
}

fn problems(catalog: &FrameworkCatalog, text: &str) -> String {
    match catalog.parse("bad.toml", text) {
        Ok(framework) => panic!("expected a refusal, loaded {}", framework.id),
        Err(error) => error.to_string(),
    }
}

#[test]
fn a_whole_group_is_taken_with_its_rules_points_and_variables() {
    let catalog = catalog();
    let district = catalog.get_str("hcm-2023-district").unwrap().clone();
    let framework = catalog.parse("de.toml", DIGITAL_ECONOMY).expect("loads");
    assert_eq!(framework.unit_kind.as_str(), "department");
    assert_eq!(framework.groups.len(), 1);
    let group = &framework.groups[0];
    let source_group = district
        .groups
        .iter()
        .find(|g| g.code.as_str() == "7")
        .unwrap();
    assert_eq!(group.code, source_group.code);
    assert_eq!(group.name, "Hoạt động kinh tế số");
    assert_eq!(group.points, source_group.points);
    assert_eq!(
        group.declared_indicator_count,
        source_group.declared_indicator_count
    );
    assert_eq!(
        group.included_from.as_ref().map(|id| id.as_str()),
        Some("hcm-2023-district")
    );
    let taken: Vec<serde_json::Value> = framework.indicators.iter().map(json).collect();
    let source: Vec<serde_json::Value> = district
        .indicators
        .iter()
        .filter(|i| i.group.as_str() == "7")
        .map(json)
        .collect();
    assert_eq!(taken.len(), 3);
    assert_eq!(
        taken, source,
        "rules, points, variables and names unchanged"
    );
    assert!(framework.indicator_by_str("7.2").is_some(), "indexed");
}

#[test]
fn single_indicators_come_with_their_group_worth_their_sum() {
    let catalog = catalog();
    let framework = catalog.parse("mixed.toml", OWN_AND_TWO).expect("loads");
    let codes: Vec<&str> = framework.groups.iter().map(|g| g.code.as_str()).collect();
    assert_eq!(codes, ["1", "7"]);
    assert_eq!(framework.groups[0].included_from, None);
    let seven = &framework.groups[1];
    assert_eq!(seven.points.to_string(), "60");
    assert_eq!(seven.declared_indicator_count, None);
    let indicators: Vec<&str> = framework
        .indicators
        .iter()
        .map(|i| i.code.as_str())
        .collect();
    assert_eq!(indicators, ["1.1", "7.1", "7.3"]);
}

#[test]
fn a_sub_indicator_comes_with_its_parent_and_not_alone() {
    let catalog = catalog();
    let collected = r#"
schema = 1
id = "test-2024-province-budget"
year = 2024
unit_kind = "province"
title = "t"
source = "s"
scored = false
total_points = 15

[[includes]]
framework = "mic-2022-province"
indicators = ["5.12"]
"#;
    let framework = catalog.parse("budget.toml", collected).expect("loads");
    let codes: Vec<&str> = framework
        .indicators
        .iter()
        .map(|i| i.code.as_str())
        .collect();
    assert_eq!(codes[0], "5.12");
    assert!(codes.len() > 1 && codes[1..].iter().all(|c| c.starts_with("5.12.")));
    let alone = collected.replace("[\"5.12\"]", "[\"5.12.1\"]");
    let message = problems(&catalog, &alone);
    assert!(
        message.contains("indicator 5.12.1 is a sub-indicator; include its parent 5.12"),
        "{message}"
    );
}

#[test]
fn what_cannot_be_included_is_named() {
    let catalog = catalog();
    let cases = [
        (
            DIGITAL_ECONOMY.replace(
                "framework = \"hcm-2023-district\"",
                "framework = \"hn-2024-district\"",
            ),
            "includes hn-2024-district: framework hn-2024-district is not known here",
        ),
        (
            DIGITAL_ECONOMY.replace("[\"7\"]", "[\"12\"]"),
            "includes hcm-2023-district: group 12 is not a group of hcm-2023-district",
        ),
        (
            DIGITAL_ECONOMY.replace("groups = [\"7\"]", "indicators = [\"7.9\"]"),
            "indicator 7.9 is not an indicator of hcm-2023-district",
        ),
        (
            DIGITAL_ECONOMY.replace(
                "groups = [\"7\"]",
                "groups = [\"7\"]\nindicators = [\"7.1\"]",
            ),
            "indicator 7.1 is already included with its group 7",
        ),
        (
            DIGITAL_ECONOMY.replace("groups = [\"7\"]", ""),
            "names no group and no indicator to include",
        ),
        (
            DIGITAL_ECONOMY.replace("total_points = 90", "total_points = 100"),
            "total_points is 100 but the groups add up to 90",
        ),
        (
            DIGITAL_ECONOMY.replace(
                "framework = \"hcm-2023-district\"",
                "framework = \"test-2024-department-digital-economy\"",
            ),
            "a framework cannot include from itself",
        ),
        (
            DIGITAL_ECONOMY.replace(
                "framework = \"hcm-2023-district\"",
                "framework = \"mic-2022-province\"",
            ),
            "a scored framework includes only from a scored one",
        ),
        (
            OWN_AND_TWO
                .replace("code = \"1\"", "code = \"7\"")
                .replace("code = \"1.1\"", "code = \"7.1\""),
            "group 7 of hcm-2023-district has the code of a group this framework already has",
        ),
        (
            DIGITAL_ECONOMY.replace("groups = [\"7\"]", "groups = [\"7\"]\nevery = true"),
            "unknown field `every`",
        ),
    ];
    for (text, expected) in cases {
        let message = problems(&catalog, &text);
        assert!(message.contains("bad.toml"), "{message}");
        assert!(
            message.contains(expected),
            "expected {expected:?} in:\n{message}"
        );
    }
    // Without a catalog nothing can be included.
    let message = parse_framework("de.toml", DIGITAL_ECONOMY)
        .unwrap_err()
        .to_string();
    assert!(
        message.contains("hcm-2023-district is not known here"),
        "{message}"
    );
}

/// Files that include from one another load in any order, from a directory or from the
/// platform's stored list; the content hash is that of what was included, the same each time.
#[test]
fn including_files_load_after_what_they_include_from() {
    let base = OWN_AND_TWO.replace("test-2024-department-mixed", "zz-2024-department-base");
    let including = r#"
schema = 1
id = "aa-2024-department-more"
year = 2024
unit_kind = "department"
title = "t"
source = "s"
total_points = 10

[[includes]]
framework = "zz-2024-department-base"
groups = ["1"]
"#;
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("aa.toml"), including).unwrap();
    std::fs::write(dir.path().join("zz.toml"), &base).unwrap();
    let mut from_dir = catalog();
    from_dir.load_dir(dir.path()).expect("both load");
    let more: Framework = (**from_dir.get_str("aa-2024-department-more").unwrap()).clone();
    assert_eq!(
        more.groups[0].included_from.as_ref().map(|id| id.as_str()),
        Some("zz-2024-department-base")
    );

    let stored = catalog();
    let errors = stored.add_all(vec![
        ("aa-2024-department-more".into(), including.into()),
        ("zz-2024-department-base".into(), base.clone()),
    ]);
    assert!(errors.is_empty(), "{errors:?}");
    assert_eq!(
        stored.hash_of(&more.id),
        Some(content_hash(&more)),
        "the same content however it was loaded"
    );

    // A file whose included framework is missing stays out and is named.
    let alone = catalog();
    let errors = alone.add_all(vec![("aa-2024-department-more".into(), including.into())]);
    assert_eq!(errors.len(), 1);
    assert!(errors[0]
        .to_string()
        .contains("zz-2024-department-base is not known here"));
    assert!(alone.get_str("aa-2024-department-more").is_none());
    std::fs::remove_file(dir.path().join("zz.toml")).unwrap();
    let message = catalog().load_dir(dir.path()).unwrap_err().to_string();
    assert!(
        message.contains("zz-2024-department-base is not known here"),
        "{message}"
    );
}

/// A framework made only of included groups is an additional assessment: a unit's previous
/// year on it is compared with another additional one, never with its kind's main ranking.
#[test]
fn an_additional_assessment_compares_only_with_additional_ones() {
    let catalog = catalog();
    let department = catalog.get_str("hcm-2023-department").unwrap();
    let district = catalog.get_str("hcm-2023-district").unwrap();
    let additional = catalog.parse("de.toml", DIGITAL_ECONOMY).unwrap();
    let mixed = catalog.parse("mixed.toml", OWN_AND_TWO).unwrap();
    let additional_again = catalog
        .parse(
            "de-2025.toml",
            &DIGITAL_ECONOMY.replace("test-2024-department", "test-2025-department"),
        )
        .unwrap();
    assert!(additional.is_additional());
    assert!(!mixed.is_additional() && !department.is_additional());
    assert!(!department.comparable_with(&additional));
    assert!(!additional.comparable_with(department));
    assert!(additional_again.comparable_with(&additional));
    assert!(department.comparable_with(&mixed), "main with main");
    assert!(
        !department.comparable_with(district),
        "another kind of unit"
    );
}
