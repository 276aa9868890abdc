//! The unit registry: cohorts per round, lineage, and its checks.

use dti_domain::framework::UnitKind;
use dti_domain::units::{NotAMember, UnitRegistry, UnitType};
use dti_domain::{FrameworkCatalog, FrameworkId, RoundRef, UnitId};

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

#[test]
fn membership_names_the_unit_and_why_it_cannot_be_assessed() {
    let registry = UnitRegistry::builtin().unwrap();
    let district = |unit: &str, year| registry.member(&id(unit), UnitKind::District, year);
    assert_eq!(district("quan-1", 2023).unwrap().name, "Quận 1");
    assert_eq!(district("thu-duc", 2023).unwrap().kind, UnitType::District);
    let cases = [
        (
            district("quan-99", 2023),
            NotAMember::Unknown(id("quan-99")),
            "unknown unit quan-99: it is not in the unit registry",
        ),
        (
            district("so-y-te", 2023),
            NotAMember::OtherKind {
                unit: id("so-y-te"),
                kind: UnitType::Department,
                assessed: UnitKind::District,
            },
            "unit so-y-te is a department, the round is for districts",
        ),
        (
            registry.member(&id("quan-1"), UnitKind::Department, 2023),
            NotAMember::OtherKind {
                unit: id("quan-1"),
                kind: UnitType::District,
                assessed: UnitKind::Department,
            },
            "unit quan-1 is a district, the round is for departments",
        ),
        (
            district("quan-2", 2023),
            NotAMember::NotActive {
                unit: id("quan-2"),
                year: 2023,
                active_from: None,
                active_until: Some(2020),
            },
            "unit quan-2 is not active in 2023 (active until 2020)",
        ),
        (
            district("thu-duc", 2020),
            NotAMember::NotActive {
                unit: id("thu-duc"),
                year: 2020,
                active_from: Some(2021),
                active_until: None,
            },
            "unit thu-duc is not active in 2020 (active from 2021)",
        ),
    ];
    for (found, expected, message) in cases {
        let refusal = found.unwrap_err();
        assert_eq!(refusal.to_string(), message);
        assert_eq!(refusal, expected);
    }
}

#[test]
fn a_cohort_of_the_wrong_kind_of_units_is_reported_against_its_framework() {
    let text = r#"
schema = 1
[[units]]
id = "quan-1"
name = "Quận 1"
kind = "district"
[[units]]
id = "so-y-te"
name = "Sở Y tế"
kind = "department"
[[cohorts]]
year = 2023
framework = "hcm-2023-district"
units = ["quan-1", "so-y-te"]
"#;
    let registry = UnitRegistry::parse("r.toml", text).unwrap();
    let catalog = FrameworkCatalog::builtin().unwrap();
    let problems: Vec<String> = registry
        .check_against(&catalog)
        .into_iter()
        .filter(|p| p.starts_with("cohort"))
        .collect();
    assert_eq!(
        problems,
        ["cohort 2023/hcm-2023-district: unit so-y-te is a department, the round is for districts"]
    );
}

#[test]
fn a_year_without_a_listed_cohort_takes_every_active_unit_of_the_kind() {
    let text = r#"
schema = 1
[[units]]
id = "old"
name = "Old"
kind = "district"
active_until = 2023
[[units]]
id = "kept"
name = "Kept"
kind = "district"
[[units]]
id = "new"
name = "New"
kind = "district"
active_from = 2024
[[units]]
id = "dept"
name = "Dept"
kind = "department"
[[cohorts]]
year = 2023
framework = "hcm-2023-district"
units = ["kept"]
"#;
    let registry = UnitRegistry::parse("r.toml", text).unwrap();
    let round = |year| RoundRef {
        year,
        framework: FrameworkId::parse("hcm-2023-district").unwrap(),
    };
    let ids = |year| -> Vec<String> {
        registry
            .cohort_or_active(&round(year), UnitKind::District)
            .units
            .iter()
            .map(ToString::to_string)
            .collect()
    };
    // The listed cohort wins over "every active unit".
    assert_eq!(ids(2023), ["kept"]);
    // 2024 lists none: the districts active in 2024, the retired one and the department left out.
    assert_eq!(ids(2024), ["kept", "new"]);
    assert_eq!(ids(2022), ["kept", "old"]);
    assert_eq!(
        registry
            .cohort_or_active(&round(2024), UnitKind::Province)
            .units,
        []
    );
}

#[test]
fn the_built_in_registry_assesses_each_unit_in_2024_and_2025_with_one_framework() {
    let registry = UnitRegistry::builtin().unwrap();
    let catalog = FrameworkCatalog::builtin().unwrap();
    let framework_of = |unit: &str, year| -> Vec<String> {
        registry
            .frameworks_assessing(&catalog, &id(unit), year)
            .iter()
            .map(ToString::to_string)
            .collect()
    };
    for year in [2023, 2024, 2025] {
        assert_eq!(
            framework_of("quan-1", year),
            ["hcm-2023-district"],
            "{year}"
        );
        assert_eq!(
            framework_of("so-tttt", year),
            ["hcm-2023-department"],
            "{year}"
        );
        assert_eq!(
            framework_of("tp-hcm", year),
            ["mic-2022-province"],
            "{year}"
        );
    }
    // Merged into Thủ Đức City in 2021: in no round since.
    assert!(framework_of("quan-2", 2024).is_empty());
    // With no listed 2024 cohort, 2024 takes the same units as 2023's listed ones.
    for framework in ["hcm-2023-district", "hcm-2023-department"] {
        let framework = catalog.get_str(framework).unwrap();
        let listed = registry
            .cohort(&RoundRef {
                year: 2023,
                framework: framework.id.clone(),
            })
            .unwrap();
        let derived = registry.cohort_or_active(
            &RoundRef {
                year: 2024,
                framework: framework.id.clone(),
            },
            framework.unit_kind,
        );
        let mut listed_units = listed.units.clone();
        listed_units.sort();
        assert_eq!(derived.units, listed_units, "{}", framework.id);
        assert_eq!(derived.year, 2024);
    }
}

#[test]
fn a_registry_written_back_reads_as_the_same_registry() {
    let seed = UnitRegistry::builtin().unwrap();
    let written = seed.to_toml();
    let read = UnitRegistry::parse("written.toml", &written).unwrap();
    assert_eq!(read.to_toml(), written);
    assert_eq!(read.units().count(), seed.units().count());
    assert_eq!(read.lineage(), seed.lineage());
    assert_eq!(read.cohorts(), seed.cohorts());
    assert_eq!(read.unit(&id("thu-duc")), seed.unit(&id("thu-duc")));
}

#[test]
fn an_operators_edits_are_checked_as_a_whole_registry() {
    use dti_domain::units::{Lineage, LineageChange, RoundCohort, Unit};
    let seed = UnitRegistry::builtin().unwrap();
    let new_district = Unit {
        id: id("huyen-moi"),
        name: "Huyện Mới".to_owned(),
        kind: UnitType::District,
        active_from: Some(2024),
        active_until: None,
    };
    let added = seed.with_unit(new_district.clone()).unwrap();
    assert_eq!(added.unit(&id("huyen-moi")), Some(&new_district));
    let cohort_2024 = RoundCohort {
        year: 2024,
        framework: FrameworkId::parse("hcm-2023-district").unwrap(),
        units: vec![id("quan-1"), id("huyen-moi")],
    };
    let with_cohort = added.with_cohort(cohort_2024.clone()).unwrap();
    assert_eq!(with_cohort.cohort(&cohort_2024.round()), Some(&cohort_2024));
    // Setting it again replaces it rather than defining it twice.
    let replaced = with_cohort
        .with_cohort(RoundCohort {
            units: vec![id("huyen-moi")],
            ..cohort_2024.clone()
        })
        .unwrap();
    assert_eq!(
        replaced.cohort(&cohort_2024.round()).unwrap().units.len(),
        1
    );

    // The new unit may not be in the 2023 cohort: it does not exist then.
    let error = added
        .with_cohort(RoundCohort {
            year: 2023,
            ..cohort_2024.clone()
        })
        .unwrap_err()
        .to_string();
    assert!(
        error.contains("unit huyen-moi does not exist in 2023"),
        "{error}"
    );
    // Ending a unit before a cohort that lists it is refused, naming the cohort.
    let error = with_cohort
        .with_unit(Unit {
            active_until: Some(2023),
            ..new_district.clone()
        })
        .unwrap_err()
        .to_string();
    assert!(
        error.contains("active_until 2023 is before active_from 2024"),
        "{error}"
    );
    assert!(
        error.contains("cohort 2024/hcm-2023-district: unit huyen-moi does not exist in 2024"),
        "{error}"
    );

    // Lineage: into a unit that exists in the year it takes effect, never in a cycle.
    let link = |from: &str, to: &str, year: u16| Lineage {
        from: id(from),
        to: id(to),
        effective_year: year,
        change: LineageChange::Merged,
        note: None,
    };
    let merged = added
        .with_lineage(link("quan-1", "huyen-moi", 2024))
        .unwrap();
    assert_eq!(merged.successor_in(&id("quan-1"), 2024), id("huyen-moi"));
    let error = added
        .with_lineage(link("quan-1", "huyen-moi", 2023))
        .unwrap_err()
        .to_string();
    assert!(
        error.contains("unit huyen-moi does not exist in 2023, the year the change takes effect"),
        "{error}"
    );
    let error = merged
        .with_lineage(link("huyen-moi", "quan-1", 2025))
        .unwrap_err()
        .to_string();
    assert!(
        error.contains("units huyen-moi, quan-1 form a cycle"),
        "{error}"
    );
    let error = added
        .with_lineage(link("quan-1", "quan-1", 2024))
        .unwrap_err()
        .to_string();
    assert!(error.contains("a unit cannot continue itself"), "{error}");
}
