//! Forms saved by LibreOffice Calc (`tests/fixtures/make-fixtures.sh` made them; CI only reads
//! the committed files) import as the values they were filled with: a plain re-save of a
//! Vietnamese district form and of an English department form, and a form edited as people
//! do — a number stored as text, a formula with its cached value, merged cells, a date in the
//! evidence column, an answer typed in lower case.

mod support;

use std::collections::BTreeMap;

use dti_forms::import_form;
use dti_i18n::Lang;
use serde_json::json;
use support::{catalog, options, registry, repo, sample_units};

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(repo().join("shared/forms/tests/fixtures").join(name)).expect("a fixture")
}

fn imports_as_the_sample(
    file: &str,
    framework: &str,
    sample: &str,
    unit: &str,
) -> BTreeMap<String, String> {
    let catalog = catalog();
    let registry = registry();
    let expected = sample_units(&catalog, sample)
        .into_iter()
        .find(|u| u.unit.as_str() == unit)
        .expect("the unit's sample");
    let form = import_form(&fixture(file), &options(&catalog, &registry, Lang::En))
        .unwrap_or_else(|problems| panic!("{file}: {problems:#?}"));
    assert_eq!(
        form.cohort,
        json!({"framework": framework, "units": [expected]}),
        "{file}"
    );
    form.evidence
}

#[test]
fn a_district_form_re_saved_by_libreoffice_reads_as_its_values() {
    let evidence = imports_as_the_sample(
        "quan-1-libreoffice.xlsx",
        "hcm-2023-district",
        "hcm-2023-districts.json",
        "quan-1",
    );
    assert!(evidence.is_empty());
}

#[test]
fn an_english_department_form_re_saved_by_libreoffice_reads_as_its_values() {
    let evidence = imports_as_the_sample(
        "so-tttt-libreoffice-en.xlsx",
        "hcm-2023-department",
        "hcm-2023-departments.json",
        "so-tttt",
    );
    assert!(evidence.is_empty());
}

#[test]
fn text_numbers_formulas_merged_cells_and_dates_saved_by_libreoffice_read_correctly() {
    let evidence = imports_as_the_sample(
        "quan-1-edited-libreoffice.xlsx",
        "hcm-2023-district",
        "hcm-2023-districts.json",
        "quan-1",
    );
    assert_eq!(
        evidence,
        BTreeMap::from([("1.2".to_owned(), "2023-03-15".to_owned())])
    );
}
