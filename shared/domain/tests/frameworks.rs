//! The built-in frameworks load and are complete; broken files fail naming file, code and
//! problem; a new year's framework is only a data file.

use dti_domain::framework::load::parse_framework;
use dti_domain::framework::{Combine, Rule, UnitKind};
use dti_domain::units::UnitRegistry;
use dti_domain::FrameworkCatalog;
use std::path::Path;

fn catalog() -> FrameworkCatalog {
    FrameworkCatalog::builtin().expect("built-in frameworks load")
}

#[test]
fn builtin_frameworks_have_the_decisions_shape() {
    let catalog = catalog();
    let department = catalog.get_str("hcm-2023-department").unwrap();
    assert_eq!(department.groups.len(), 6);
    assert_eq!(department.indicators.len(), 32);
    assert_eq!(department.total_points.to_string(), "330");
    assert_eq!(department.unit_kind, UnitKind::Department);
    let district = catalog.get_str("hcm-2023-district").unwrap();
    assert_eq!(district.groups.len(), 9);
    assert_eq!(district.indicators.len(), 51);
    assert_eq!(district.total_points.to_string(), "660");
    let points: Vec<String> = district
        .groups
        .iter()
        .map(|g| g.points.to_string())
        .collect();
    assert_eq!(
        points,
        ["60", "50", "70", "60", "35", "185", "90", "90", "20"]
    );
    for framework in [department, district] {
        assert!(framework.scored);
        assert!(framework
            .indicators
            .iter()
            .all(|i| i.rule.is_some() && !i.name.is_empty() && !i.method.is_empty()));
        assert!(framework
            .indicators
            .iter()
            .all(|i| i.variables.iter().all(|v| !v.meaning.is_empty())));
        assert!(framework
            .general_info
            .iter()
            .any(|f| f.key == "civil_servants" && !f.restated_by.is_empty()));
    }
    let min_max: Vec<&str> = department
        .cohort_dependent_indicators()
        .map(|i| i.code.as_str())
        .collect();
    assert_eq!(min_max, ["4.1", "5.1"]);
    let min_max: Vec<&str> = district
        .cohort_dependent_indicators()
        .map(|i| i.code.as_str())
        .collect();
    assert_eq!(min_max, ["5.1"]);
}

#[test]
fn the_decisions_inconsistencies_are_documented_in_the_data() {
    let catalog = catalog();
    let district = catalog.get_str("hcm-2023-district").unwrap();
    assert_eq!(
        district.declared_total_points.as_ref().unwrap().to_string(),
        "690"
    );
    assert_ne!(
        district.declared_total_points.as_ref(),
        Some(&district.total_points)
    );
    assert!(district
        .notes
        .iter()
        .any(|n| n.contains("690") && n.contains("660")));
    let tiers = district.indicator_by_str("3.3").unwrap();
    assert!(tiers.note.as_deref().unwrap_or_default().contains("150"));
    assert!(
        tiers.method.contains("150 điểm"),
        "the source's wording is kept verbatim"
    );
    let Some(Rule::Tiers(rule)) = &tiers.rule else {
        panic!("3.3 is tiers_3_3")
    };
    let tier_points: Vec<String> = rule.tiers.iter().map(|t| t.points.to_string()).collect();
    assert_eq!(tier_points, ["30", "15"]);
}

#[test]
fn appendix_three_lists_owners_and_sub_indicators() {
    let catalog = catalog();
    let national = catalog.get_str("mic-2022-province").unwrap();
    assert!(!national.scored);
    assert_eq!(national.general_info.len(), 17);
    assert!(national.general_info.iter().all(|f| !f.owners.is_empty()));
    let points: Vec<String> = national
        .groups
        .iter()
        .map(|g| g.points.to_string())
        .collect();
    assert_eq!(
        points,
        ["100", "100", "100", "100", "100", "200", "150", "150", "0"]
    );
    let subs: Vec<&str> = national
        .indicators
        .iter()
        .filter(|i| i.parent.as_ref().is_some_and(|p| p.as_str() == "5.12"))
        .map(|i| i.code.as_str())
        .collect();
    assert_eq!(
        subs,
        ["5.12.1", "5.12.2", "5.12.3", "5.12.4", "5.12.5", "5.12.6"]
    );
    assert!(national
        .indicators
        .iter()
        .all(|i| !i.owners.is_empty() && i.combine.is_some()));
    let shared_2_6 = national.indicator_by_str("2.6").unwrap();
    assert_eq!(shared_2_6.owners.len(), 3);
    assert_eq!(shared_2_6.combine, Some(Combine::Any));
    assert_eq!(
        national.indicator_by_str("6.22").unwrap().combine,
        Some(Combine::Sum)
    );
    assert_eq!(
        national.indicator_by_str("8.1").unwrap().owners[0].as_str(),
        "cong-an-tp"
    );
}

#[test]
fn every_owner_and_cohort_member_is_a_known_unit() {
    let registry = UnitRegistry::builtin().expect("registry loads");
    assert_eq!(registry.check_against(&catalog()), Vec::<String>::new());
}

#[test]
fn a_new_years_framework_is_only_a_data_file() {
    let mut catalog = catalog();
    catalog
        .load_dir(&Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data"))
        .expect("test framework loads");
    let new = catalog.get_str("test-2025-district").unwrap();
    assert_eq!(new.groups.len(), 3);
    assert_eq!(new.year, 2025);
    assert_eq!(new.cohort_dependent_indicators().count(), 1);
}

const MINIMAL: &str = r#"
schema = 1
id = "mini"
year = 2024
unit_kind = "district"
title = "t"
source = "s"
total_points = 10

[[groups]]
code = "1"
name = "g"
points = 10

[[indicators]]
code = "1.1"
name = "i"
points = 10
[indicators.rule]
kind = "ratio"
numerator = ["a"]
denominator = ["b"]
[[indicators.variables]]
name = "a"
type = "count"
meaning = "m"
[[indicators.variables]]
name = "b"
type = "count"
meaning = "m"
"#;

fn broken(from: &str, to: &str) -> String {
    assert!(
        MINIMAL.contains(from),
        "{from} not in the minimal framework"
    );
    let text = MINIMAL.replacen(from, to, 1);
    match parse_framework("broken.toml", &text) {
        Ok(_) => panic!("expected {from:?} → {to:?} to be rejected"),
        Err(e) => e.to_string(),
    }
}

#[test]
fn the_minimal_framework_loads() {
    parse_framework("mini.toml", MINIMAL).expect("minimal framework loads");
}

#[test]
fn broken_files_name_the_file_the_code_and_the_problem() {
    let cases = [
        (
            "total_points = 10",
            "total_points = 11",
            "total_points is 11 but the groups add up to 10",
        ),
        (
            "points = 10\n\n[[indicators]]",
            "points = 12\n\n[[indicators]]",
            "1: group points are 12 but its indicators add up to 10",
        ),
        (
            "kind = \"ratio\"",
            "kind = \"ratios\"",
            "1.1: rule kind \"ratios\" is not known",
        ),
        (
            "denominator = [\"b\"]",
            "denominator = [\"c\"]",
            "1.1: rule uses variable c, which is not declared",
        ),
        (
            "denominator = [\"b\"]",
            "denominator = [\"a\"]",
            "1.1: variable b is declared but the rule does not use it",
        ),
        (
            "name = \"b\"\ntype = \"count\"",
            "name = \"b\"\ntype = \"bool\"",
            "1.1: rule needs variable b to be a count, but it is declared bool",
        ),
        (
            "name = \"b\"\ntype = \"count\"",
            "name = \"b\"\ntype = \"number\"",
            "1.1: variable b: type \"number\" is not known",
        ),
        ("schema = 1", "schema = 2", "schema 2 is not supported"),
        (
            "code = \"1.1\"",
            "code = \"2.1\"",
            "2.1: group 2 is not defined",
        ),
        (
            "code = \"1.1\"",
            "code = \"x\"",
            "x: indicator code must be dot-separated numbers",
        ),
        (
            "title = \"t\"",
            "title = \"t\"\ncolour = \"red\"",
            "unknown field `colour`",
        ),
        (
            "numerator = [\"a\"]",
            "numerator = [\"a\"]\nthreshold = \"0.8\"",
            "1.1: rule ratio: unknown field `threshold`",
        ),
        (
            "id = \"mini\"",
            "id = \"Mini 2024\"",
            "invalid framework id",
        ),
        ("[[groups]]", "[[groups", "not a valid framework file"),
    ];
    for (from, to, expected) in cases {
        let message = broken(from, to);
        assert!(message.contains("broken.toml"), "{message}");
        assert!(
            message.contains(expected),
            "expected {expected:?} in:\n{message}"
        );
    }
}

#[test]
fn duplicate_codes_and_bad_thresholds_are_rejected() {
    let duplicated = format!("{MINIMAL}\n[[indicators]]\ncode = \"1.1\"\nname = \"dup\"\npoints = 0\n[indicators.rule]\nkind = \"boolean\"\nvariable = \"yes\"\n[[indicators.variables]]\nname = \"yes\"\ntype = \"bool\"\nmeaning = \"m\"\n");
    let message = parse_framework("dup.toml", &duplicated)
        .unwrap_err()
        .to_string();
    assert!(
        message.contains("1.1: indicator code is used twice"),
        "{message}"
    );
    let threshold = MINIMAL.replace("kind = \"ratio\"", "kind = \"target\"\nthreshold = \"1.5\"");
    let message = parse_framework("t.toml", &threshold)
        .unwrap_err()
        .to_string();
    assert!(
        message.contains("1.1: threshold 3/2 must lie between 0 and 1"),
        "{message}"
    );
}

#[test]
fn each_built_in_file_is_named_after_its_id() {
    use dti_domain::framework::{catalog::BUILTIN_FILES, is_builtin};
    let catalog = catalog();
    for (file, _) in BUILTIN_FILES {
        let id = file.strip_suffix(".toml").unwrap();
        assert!(catalog.get_str(id).is_some(), "{file} defines {id}");
        assert!(is_builtin(id));
    }
    assert_eq!(catalog.ids().len(), BUILTIN_FILES.len());
    assert!(!is_builtin("hcm-2024-district"));
    assert!(!is_builtin("hcm-2023-district.toml"));
}

#[test]
fn a_duplicate_framework_id_is_refused() {
    let mut catalog = catalog();
    let again = parse_framework(
        "again.toml",
        dti_domain::framework::catalog::BUILTIN_FILES[0].1,
    )
    .unwrap();
    let message = catalog.insert("again.toml", again).unwrap_err().to_string();
    assert!(message.contains("already defined"), "{message}");
}

/// A framework id names one content for good: the same content added again changes nothing,
/// other content under the id is refused naming the hash in force, and `holds` tells a
/// framework the catalog has from one it lacks or holds with other content.
#[test]
fn a_catalog_holds_each_id_with_one_content_hash() {
    use dti_domain::framework::{content_hash, Added};
    let catalog = catalog();
    let mini = parse_framework("mini.toml", MINIMAL).unwrap();
    let hash = content_hash(&mini);
    assert!(!catalog.holds("mini", &hash));
    assert_eq!(catalog.add("mini.toml", mini.clone()), Ok(Added::New));
    assert!(catalog.holds("mini", &hash));
    assert_eq!(catalog.hash_of(&mini.id), Some(hash.clone()));
    assert_eq!(catalog.add("mini.toml", mini), Ok(Added::AlreadyKnown));

    let changed = parse_framework(
        "mini.toml",
        &MINIMAL.replacen("title = \"t\"", "title = \"u\"", 1),
    )
    .unwrap();
    let changed_hash = content_hash(&changed);
    assert_ne!(changed_hash, hash);
    let refused = catalog.add("mini.toml", changed).unwrap_err().to_string();
    assert!(refused.contains(&hash), "{refused}");
    assert!(!catalog.holds("mini", &changed_hash));
    assert!(!catalog.holds("not-a-framework", &hash));
    assert!(!catalog.holds("NOT AN ID", &hash));

    let district = catalog.get_str("hcm-2023-district").unwrap();
    assert!(catalog.holds("hcm-2023-district", &content_hash(district)));
}
