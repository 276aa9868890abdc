//! Property tests of the form importer: a form filled with random valid values (generated
//! for a real unit of either 2023 framework) imports to exactly those values, and forms whose
//! cells hold random garbage, or bytes that are no form at all, are refused with problems,
//! never a panic. Writing .xlsx is slow, so the case counts are low.

mod support;

use std::collections::BTreeMap;

use calamine::Data;
use dti_domain::sample::{sample_cohort, SampleOptions};
use dti_domain::values::{decode_cohort, UnitValues};
use dti_domain::FrameworkCatalog;
use dti_forms::{import_form, write_form, FilledValues, FormSpec, META_SHEET};
use dti_i18n::Lang;
use proptest::prelude::*;
use serde_json::json;
use support::{catalog, options, read_all, registry, sample_units, write_all};

const FRAMEWORKS: [(&str, &str); 2] = [
    ("hcm-2023-district", "hcm-2023-districts.json"),
    ("hcm-2023-department", "hcm-2023-departments.json"),
];

/// Random valid values of a real unit of the framework, and the form filled with them.
fn filled_form(
    catalog: &FrameworkCatalog,
    framework: usize,
    unit: prop::sample::Index,
    seed: u64,
    missing: u64,
    lang: Lang,
) -> (UnitValues, Vec<u8>) {
    let (framework_id, sample) = FRAMEWORKS[framework];
    let fw = catalog.get_str(framework_id).expect("framework").clone();
    let units = sample_units(catalog, sample);
    let unit_id = units[unit.index(units.len())].unit.clone();
    let options = SampleOptions {
        units: 1,
        seed,
        unit_ids: vec![unit_id.to_string()],
        missing_percent: missing,
        ..SampleOptions::default()
    };
    let document = sample_cohort(&fw, &options).to_string();
    let decoded = decode_cohort(&document, catalog);
    let values = decoded
        .value
        .unwrap_or_else(|| panic!("generated values are valid: {:?}", decoded.issues))
        .units
        .remove(0);
    let name = registry()
        .unit(&unit_id)
        .map_or_else(|| unit_id.to_string(), |u| u.name.clone());
    let spec = FormSpec {
        framework: &fw,
        year: 2023,
        unit: Some((unit_id, name)),
        lang,
    };
    let filled = FilledValues {
        values: values.clone(),
        evidence: BTreeMap::new(),
    };
    let bytes = write_form(&spec, Some(&filled)).expect("a form");
    (values, bytes)
}

fn lang() -> impl Strategy<Value = Lang> {
    prop_oneof![Just(Lang::Vi), Just(Lang::En)]
}

/// Cell contents a person or a broken program might leave.
fn garbage() -> impl Strategy<Value = Data> {
    prop_oneof![
        any::<String>().prop_map(Data::String),
        "[a-zA-Z ,.%-]{0,12}".prop_map(Data::String),
        any::<f64>()
            .prop_filter("a finite number", |f| f.is_finite())
            .prop_map(Data::Float),
        prop_oneof![Just(-1.0), Just(0.5), Just(1e16), Just(1e300), Just(-0.0)]
            .prop_map(Data::Float),
        any::<bool>().prop_map(Data::Bool),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(12))]

    #[test]
    fn filled_forms_import_to_the_values_they_were_filled_with(
        framework in 0usize..2,
        unit in any::<prop::sample::Index>(),
        seed in any::<u64>(),
        missing in 0u64..30,
        lang in lang(),
    ) {
        let catalog = catalog();
        let registry = registry();
        let (values, bytes) = filled_form(&catalog, framework, unit, seed, missing, lang);
        let imported = import_form(&bytes, &options(&catalog, &registry, Lang::En));
        let imported = match imported {
            Ok(imported) => imported,
            Err(problems) => return Err(TestCaseError::fail(format!("{problems:#?}"))),
        };
        prop_assert_eq!(imported.cohort, json!({"framework": FRAMEWORKS[framework].0, "units": [values]}));
    }

    #[test]
    fn garbage_in_cells_is_refused_with_problems_never_a_panic(
        framework in 0usize..2,
        unit in any::<prop::sample::Index>(),
        seed in any::<u64>(),
        lang in lang(),
        edits in prop::collection::vec((any::<prop::sample::Index>(), garbage()), 1..6),
        text in "x[a-z]{0,6}",
        number_cell in any::<prop::sample::Index>(),
    ) {
        let catalog = catalog();
        let registry = registry();
        let (_, bytes) = filled_form(&catalog, framework, unit, seed, 0, lang);
        let mut sheets = read_all(&bytes);

        // Random garbage in random cells of any sheet, the form's own sheet included.
        let cells: Vec<(usize, (u32, u16))> = sheets
            .iter()
            .enumerate()
            .flat_map(|(s, sheet)| sheet.cells.keys().map(move |at| (s, *at)))
            .collect();
        for (index, data) in edits {
            let (s, at) = cells[index.index(cells.len())];
            sheets[s].cells.insert(at, data);
        }
        match import_form(&write_all(&sheets), &options(&catalog, &registry, Lang::En)) {
            Ok(_) => {}
            Err(problems) => {
                prop_assert!(!problems.is_empty());
                prop_assert!(problems.iter().all(|p| !p.text.is_empty()));
            }
        }

        // Text in a cell that held a number (a count, an amount or a decimal) is a problem.
        let mut sheets = read_all(&bytes);
        let numbers: Vec<(usize, (u32, u16))> = sheets
            .iter()
            .enumerate()
            .filter(|(_, sheet)| sheet.name != META_SHEET)
            .flat_map(|(s, sheet)| {
                sheet
                    .cells
                    .iter()
                    .filter(|(_, data)| matches!(data, Data::Float(_) | Data::Int(_)))
                    .map(move |(at, _)| (s, *at))
            })
            .filter(|(_, (row, col))| *col >= 4 && *row > 0)
            .collect();
        prop_assume!(!numbers.is_empty());
        let (s, at) = numbers[number_cell.index(numbers.len())];
        sheets[s].cells.insert(at, Data::String(text.clone()));
        let refused = import_form(&write_all(&sheets), &options(&catalog, &registry, Lang::En));
        prop_assert!(refused.is_err(), "{:?} in {} {:?} was accepted", text, sheets[s].name, at);
        prop_assert!(!refused.unwrap_err().is_empty());
    }

    #[test]
    fn bytes_that_are_no_form_are_refused(
        bytes in prop::collection::vec(any::<u8>(), 0..2048),
        cut in any::<prop::sample::Index>(),
        lang in lang(),
    ) {
        let catalog = catalog();
        let registry = registry();
        let refused = import_form(&bytes, &options(&catalog, &registry, Lang::En));
        prop_assert!(refused.is_err_and(|problems| !problems.is_empty()));

        // A real form cut short.
        let (_, form) = filled_form(&catalog, 0, cut, 7, 0, lang);
        let short = &form[..cut.index(form.len())];
        let refused = import_form(short, &options(&catalog, &registry, Lang::En));
        prop_assert!(refused.is_err_and(|problems| !problems.is_empty()));
    }
}
