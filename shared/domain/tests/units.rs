//! The unit registry: cohorts per round, lineage, and its checks.

use dti_domain::units::{UnitRegistry, UnitType};
use dti_domain::{FrameworkId, RoundRef, UnitId};

fn id(s: &str) -> UnitId {
    UnitId::parse(s).unwrap()
}

#[test]
fn the_2023_cohorts_are_complete() {
    let registry = UnitRegistry::builtin().unwrap();
    let round = |framework: &str| RoundRef {
        year: 2023,
        framework: FrameworkId::parse(framework).unwrap(),
    };
    let districts = registry.cohort(&round("hcm-2023-district")).unwrap();
    assert_eq!(districts.units.len(), 22);
    assert!(districts.units.contains(&id("thu-duc")));
    assert!(districts
        .units
        .iter()
        .all(|u| registry.unit(u).unwrap().kind == UnitType::District));
    let departments = registry.cohort(&round("hcm-2023-department")).unwrap();
    assert!(departments.units.len() >= 20);
    assert!(departments
        .units
        .iter()
        .all(|u| registry.unit(u).unwrap().kind == UnitType::Department));
    assert_eq!(
        registry.unit(&id("thu-duc")).unwrap().name,
        "Thành phố Thủ Đức"
    );
}

#[test]
fn lineage_follows_merged_districts_to_thu_duc() {
    let registry = UnitRegistry::builtin().unwrap();
    assert_eq!(registry.successor_in(&id("quan-2"), 2020), id("quan-2"));
    assert_eq!(registry.successor_in(&id("quan-2"), 2023), id("thu-duc"));
    assert_eq!(registry.successor_in(&id("quan-1"), 2023), id("quan-1"));
    let mut before: Vec<&str> = registry
        .predecessors(&id("thu-duc"))
        .iter()
        .map(|u| u.as_str())
        .collect();
    before.sort();
    assert_eq!(before, ["quan-2", "quan-9", "quan-thu-duc"]);
}

#[test]
fn a_broken_registry_names_each_problem() {
    let text = r#"
schema = 1
[[units]]
id = "a"
name = "A"
kind = "district"
active_until = 2020
[[cohorts]]
year = 2023
framework = "hcm-2023-district"
units = ["a", "ghost", "a"]
[[lineage]]
from = "a"
to = "nowhere"
effective_year = 2021
change = "merged"
"#;
    let error = UnitRegistry::parse("r.toml", text).unwrap_err().to_string();
    for expected in [
        "unit a does not exist in 2023",
        "unit ghost is not defined",
        "unit a is listed twice",
        "unit nowhere is not defined",
    ] {
        assert!(error.contains(expected), "expected {expected:?} in {error}");
    }
}
