//! A form filled with every unit's sample values of both 2023 frameworks, in both languages,
//! reads back as exactly the contract JSON it was filled from: values, not-applicable marks,
//! general information (contacts and amounts of đồng above 2^31 included) and evidence
//! references. A second reader (calamine over the written file, looking rows up by their
//! labels) finds the values where a person sees them, and a re-saved copy (every cell read and
//! written again) imports the same.

mod support;

use std::collections::BTreeMap;

use calamine::Data;
use dti_domain::framework::{Framework, GeneralInfoType};
use dti_domain::values::UnitValues;
use dti_forms::{import_form, write_form, FilledValues, FormSpec};
use dti_i18n::Lang;
use serde_json::{json, Value};
use support::{catalog, options, read_all, registry, row_of, sample_units, write_all};

/// General information for every field of the framework: text, counts, đồng, contacts.
fn general_info(framework: &Framework) -> BTreeMap<String, Value> {
    framework
        .general_info
        .iter()
        .map(|field| {
            let value = match field.ty {
                GeneralInfoType::Text => json!(format!("{} của đơn vị", field.name)),
                GeneralInfoType::Count => json!(1234),
                GeneralInfoType::Money => json!(7_250_000_000u64),
                GeneralInfoType::Contact => json!({
                    "name": "Nguyễn Văn A", "unit": "Phòng Văn hoá và Thông tin",
                    "position": "Trưởng phòng", "phone": "0903 123 456",
                    "email": "nva@tphcm.gov.vn"
                }),
            };
            (field.key.clone(), value)
        })
        .collect()
}

fn round_trip(framework_id: &str, sample: &str) {
    let catalog = catalog();
    let registry = registry();
    let framework = catalog.get_str(framework_id).expect("framework").clone();
    let units = sample_units(&catalog, sample);
    assert!(units.len() > 20, "{sample} has every unit");
    for (index, unit) in units.iter().enumerate() {
        let mut unit: UnitValues = unit.clone();
        if index % 2 == 0 {
            unit.general_info = general_info(&framework);
        }
        let lang = if index % 3 == 0 { Lang::En } else { Lang::Vi };
        let name = registry
            .unit(&unit.unit)
            .expect("a registry unit")
            .name
            .clone();
        let spec = FormSpec {
            framework: &framework,
            year: 2023,
            unit: Some((unit.unit.clone(), name)),
            lang,
        };
        let evidence: BTreeMap<String, String> = unit
            .values
            .keys()
            .take(3)
            .map(|code| (code.to_string(), format!("{}/QĐ-UBND", code.as_str())))
            .collect();
        let filled = FilledValues {
            values: unit.clone(),
            evidence: evidence.clone(),
        };
        let bytes = write_form(&spec, Some(&filled)).expect("a form");
        let expected = json!({ "framework": framework_id, "units": [unit] });
        let imported = import_form(&bytes, &options(&catalog, &registry, Lang::En))
            .unwrap_or_else(|problems| panic!("{}: {problems:#?}", unit.unit));
        assert_eq!(imported.cohort, expected, "{}", unit.unit);
        assert_eq!(imported.evidence, evidence, "{}", unit.unit);
        assert_eq!(imported.meta.year, 2023);

        let resaved = write_all(&read_all(&bytes));
        let again = import_form(&resaved, &options(&catalog, &registry, Lang::En))
            .unwrap_or_else(|problems| panic!("{} re-saved: {problems:#?}", unit.unit));
        assert_eq!(again.cohort, expected, "{} re-saved", unit.unit);
    }
}

#[test]
fn district_forms_read_back_as_the_values_they_were_filled_with() {
    round_trip("hcm-2023-district", "hcm-2023-districts.json");
}

#[test]
fn department_forms_read_back_as_the_values_they_were_filled_with() {
    round_trip("hcm-2023-department", "hcm-2023-departments.json");
}

#[test]
fn values_stand_in_the_value_column_under_their_indicator_as_people_read_them() {
    let catalog = catalog();
    let framework = catalog
        .get_str("hcm-2023-district")
        .expect("framework")
        .clone();
    let unit = sample_units(&catalog, "hcm-2023-districts.json")
        .into_iter()
        .find(|u| u.unit.as_str() == "thu-duc")
        .expect("thu-duc");
    let spec = FormSpec {
        framework: &framework,
        year: 2023,
        unit: Some((unit.unit.clone(), "Thành phố Thủ Đức".into())),
        lang: Lang::Vi,
    };
    let filled = FilledValues {
        values: unit,
        evidence: BTreeMap::new(),
    };
    let sheets = read_all(&write_form(&spec, Some(&filled)).expect("a form"));
    let names: Vec<&str> = sheets.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(names[0], "THÔNG TIN CHUNG");
    assert_eq!(
        names[1..10],
        [
            "Nhóm 1", "Nhóm 2", "Nhóm 3", "Nhóm 4", "Nhóm 5", "Nhóm 6", "Nhóm 7", "Nhóm 8",
            "Nhóm 9"
        ]
    );
    assert_eq!(names[10], "dti-form");
    assert!(sheets[10].hidden && !sheets[0].hidden);

    // 1.2 {"a": 33, "b": 57}: the indicator's row, then a and b with their values in E.
    let group = &sheets[1];
    let indicator = row_of(group, "1.2", 0);
    assert_eq!(
        group.cells[&(indicator, 2)],
        Data::String("10".into()),
        "1.2 is worth 10 points"
    );
    let a = row_of(group, "a", indicator);
    assert_eq!(a, indicator + 1);
    assert_eq!(group.cells[&(a, 4)], Data::Float(33.0));
    assert_eq!(group.cells[&(a + 1, 4)], Data::Float(57.0));
    // 1.1 head_role = "head"; 1.3 is not applicable (column F says so).
    let head = row_of(group, "head_role", row_of(group, "1.1", 0));
    assert_eq!(group.cells[&(head, 4)], Data::String("head".into()));
    assert_eq!(
        group.cells[&(row_of(group, "1.3", 0), 5)],
        Data::String("Có".into())
    );
    // 8.5's activities: reports then resolved of each, in order.
    let group = &sheets[8];
    let first = row_of(group, "#1 reports", row_of(group, "8.5", 0));
    assert_eq!(group.cells[&(first, 4)], Data::Float(49.0));
    assert_eq!(group.cells[&(first + 1, 4)], Data::Float(30.0));
    assert_eq!(group.cells[&(first + 2, 4)], Data::Float(30.0));
    assert_eq!(group.cells[&(first + 3, 4)], Data::Float(26.0));
}

#[test]
fn an_empty_template_for_a_unit_reads_as_the_unit_with_no_values() {
    let catalog = catalog();
    let registry = registry();
    let framework = catalog
        .get_str("hcm-2023-department")
        .expect("framework")
        .clone();
    let spec = FormSpec {
        framework: &framework,
        year: 2023,
        unit: Some((
            dti_domain::UnitId::parse("so-tttt").expect("id"),
            "Sở Thông tin và Truyền thông".into(),
        )),
        lang: Lang::Vi,
    };
    let bytes = write_form(&spec, None).expect("a form");
    let imported = import_form(&bytes, &options(&catalog, &registry, Lang::Vi)).expect("valid");
    assert_eq!(
        imported.cohort,
        json!({"framework": "hcm-2023-department", "units": [{"unit": "so-tttt", "values": {}, "not_applicable": []}]})
    );
}
