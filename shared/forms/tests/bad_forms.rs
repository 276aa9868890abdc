//! Forms the importer refuses, each with every problem at once and each problem naming the
//! sheet, the cell, the indicator and the variable: a form of another framework or year, of
//! another version of the framework, with an edited label, with an extra or a missing sheet,
//! with values that are not what their cells take, with a partly filled indicator, with a
//! not-applicable indicator that has values, with another unit, and a file that is no form.

mod support;

use std::collections::BTreeMap;

use calamine::Data;
use dti_domain::framework::FrameworkCatalog;
use dti_domain::UnitId;
use dti_forms::{import_form, write_form, FilledValues, FormProblem, FormSpec, ImportOptions};
use dti_i18n::Lang;
use support::{
    at, catalog, options, read_all, registry, sample_units, sheet, write_all, SheetCells,
};

/// quan-1's sample values in a district form for 2023, labels in `lang`.
fn quan_1_form(catalog: &FrameworkCatalog, lang: Lang) -> Vec<u8> {
    let framework = catalog.get_str("hcm-2023-district").expect("framework");
    let unit = sample_units(catalog, "hcm-2023-districts.json")
        .into_iter()
        .find(|u| u.unit.as_str() == "quan-1")
        .expect("quan-1");
    let spec = FormSpec {
        framework,
        year: 2023,
        unit: Some((unit.unit.clone(), "Quận 1".into())),
        lang,
    };
    let filled = FilledValues {
        values: unit,
        evidence: BTreeMap::new(),
    };
    write_form(&spec, Some(&filled)).expect("a form")
}

/// The problems of importing `bytes` with `options`; the import must fail.
fn problems(bytes: &[u8], options: &ImportOptions<'_>) -> Vec<FormProblem> {
    match import_form(bytes, options) {
        Ok(form) => panic!("imported: {}", form.cohort),
        Err(problems) => problems,
    }
}

fn texts(problems: &[FormProblem]) -> Vec<String> {
    problems.iter().map(ToString::to_string).collect()
}

/// `sheets` with `cell` of sheet `name` set to `data`.
fn with_cell(mut sheets: Vec<SheetCells>, name: &str, cell: &str, data: Data) -> Vec<SheetCells> {
    sheet(&mut sheets, name).cells.insert(at(cell), data);
    sheets
}

#[test]
fn bad_values_are_all_reported_at_once_with_sheet_cell_indicator_and_variable() {
    let catalog = catalog();
    let registry = registry();
    let sheets = read_all(&quan_1_form(&catalog, Lang::Vi));
    // Group 3: 3.1 is on row 8 with a and b below it; 3.2 on row 11 with a on row 12.
    let group = sheet(&mut sheets.clone(), "Nhóm 3").clone();
    assert_eq!(group.cells[&at("A11")], Data::String("3.2".into()));
    assert_eq!(group.cells[&at("A12")], Data::String("a".into()));
    let sheets = with_cell(sheets, "Nhóm 3", "E12", Data::String("12,5".into()));
    let sheets = with_cell(sheets, "Nhóm 3", "E9", Data::Float(-3.0));
    let sheets = with_cell(sheets, "Nhóm 1", "E9", Data::String("boss".into()));
    let sheets = with_cell(sheets, "Nhóm 2", "E9", Data::String("maybe".into()));
    let sheets = with_cell(sheets, "Nhóm 3", "E10", Data::Float(1e17));
    let bad = write_all(&sheets);

    let found = problems(&bad, &options(&catalog, &registry, Lang::En));
    assert_eq!(
        texts(&found),
        [
            "Sheet 'Nhóm 1', cell E9: 1.1 head_role must be one of head, deputy, none, found 'boss'",
            "Sheet 'Nhóm 2', cell E9: 2.1 yes must be 'Có' or 'Không', found 'maybe'",
            "Sheet 'Nhóm 3', cell E9: 3.1 a must be a whole number ≥ 0, found '-3'",
            "Sheet 'Nhóm 3', cell E10: 3.1 b is too large for a spreadsheet to hold exactly (at most 9007199254740992), found '100000000000000000'",
            "Sheet 'Nhóm 3', cell E12: 3.2 a must be a whole number ≥ 0, found '12,5'",
        ]
    );
    let first = &found[4];
    assert_eq!(first.sheet.as_deref(), Some("Nhóm 3"));
    assert_eq!(first.cell.as_deref(), Some("E12"));
    assert_eq!(first.indicator.as_deref(), Some("3.2"));
    assert_eq!(first.variable.as_deref(), Some("a"));

    let found = problems(&bad, &options(&catalog, &registry, Lang::Vi));
    assert!(
        texts(&found).contains(
            &"Trang 'Nhóm 3', ô E12: 3.2 a phải là số nguyên ≥ 0, thấy '12,5'".to_owned()
        ),
        "{found:#?}"
    );
}

#[test]
fn an_indicator_is_filled_whole_or_marked_not_applicable_and_the_domain_rules_apply() {
    let catalog = catalog();
    let registry = registry();
    let sheets = read_all(&quan_1_form(&catalog, Lang::En));
    // 3.2 b emptied; 3.1 marked not applicable while it has values; 3.3 b = 0 (a zero
    // denominator, the domain's rule).
    let mut sheets = sheets;
    sheet(&mut sheets, "Group 3").cells.remove(&at("E13"));
    let sheets = with_cell(sheets, "Group 3", "F8", Data::String("Yes".into()));
    let group = sheet(&mut sheets.clone(), "Group 3").clone();
    assert_eq!(group.cells[&at("A14")], Data::String("3.3".into()));
    let sheets = with_cell(sheets, "Group 3", "E16", Data::Float(0.0));
    let found = problems(&write_all(&sheets), &options(&catalog, &registry, Lang::En));
    assert_eq!(
        texts(&found),
        [
            "Sheet 'Group 3', cell F8: indicator 3.1 is marked not applicable but has values",
            "Sheet 'Group 3', cell E13: 3.2 b is empty; fill every variable of indicator 3.2 or mark it not applicable",
            "Sheet 'Group 3', cell E16: 3.3 b: denominator is zero; the ratio cannot be computed",
        ]
    );
    assert_eq!(found[2].indicator.as_deref(), Some("3.3"));
    assert_eq!(found[2].variable.as_deref(), Some("b"));
}

#[test]
fn edited_labels_extra_and_missing_sheets_are_refused() {
    let catalog = catalog();
    let registry = registry();
    let mut sheets = read_all(&quan_1_form(&catalog, Lang::Vi));
    sheet(&mut sheets, "Nhóm 2")
        .cells
        .insert(at("C8"), Data::String("100".into()));
    sheet(&mut sheets, "Nhóm 2")
        .cells
        .insert(at("B9"), Data::String("Có tổ chức".into()));
    sheets.retain(|s| s.name != "Nhóm 9");
    sheets.insert(
        3,
        SheetCells {
            name: "Ghi chú".into(),
            hidden: false,
            cells: BTreeMap::from([((0, 0), Data::String("ghi chú của đơn vị".into()))]),
        },
    );
    let found = problems(&write_all(&sheets), &options(&catalog, &registry, Lang::En));
    let texts = texts(&found);
    assert_eq!(texts.len(), 4, "{texts:#?}");
    assert_eq!(
        texts[0],
        "Sheet 'Ghi chú': sheet 'Ghi chú' is not part of the form; remove it"
    );
    assert!(
        texts[1].starts_with("Sheet 'Nhóm 2', cell C8: label changed: expected '5', found '100'"),
        "{texts:#?}"
    );
    assert!(
        texts[2].starts_with("Sheet 'Nhóm 2', cell B9: label changed: expected '"),
        "{texts:#?}"
    );
    assert!(texts[2].ends_with("', found 'Có tổ chức'"), "{texts:#?}");
    assert_eq!(texts[3], "Workbook: the form's sheet 'Nhóm 9' is missing");
}

#[test]
fn forms_of_another_framework_year_or_version_are_refused() {
    let catalog = catalog();
    let registry = registry();
    let form = quan_1_form(&catalog, Lang::En);
    let expecting = |framework, year| ImportOptions {
        framework,
        year,
        ..options(&catalog, &registry, Lang::En)
    };
    assert_eq!(
        texts(&problems(
            &form,
            &expecting(Some("hcm-2023-department"), Some(2024))
        )),
        [
            "Workbook: the form is for framework hcm-2023-district, expected hcm-2023-department",
            "Workbook: the form is for year 2023, expected 2024",
        ]
    );
    assert!(import_form(&form, &expecting(Some("hcm-2023-district"), Some(2023))).is_ok());

    // A catalog whose district framework differs by one indicator's name: the form was made
    // from another version of it.
    let text = dti_domain::framework::catalog::BUILTIN_FILES
        .iter()
        .find(|(file, _)| *file == "hcm-2023-district.toml")
        .expect("district file")
        .1
        .replacen("Nhận thức số", "Nhận thức số (sửa đổi)", 1);
    let mut changed = FrameworkCatalog::default();
    changed
        .insert(
            "changed.toml",
            dti_domain::framework::load::parse_framework("changed.toml", &text).expect("parses"),
        )
        .expect("inserted");
    let changed_options = ImportOptions {
        catalog: &changed,
        ..options(&catalog, &registry, Lang::En)
    };
    assert_eq!(
        texts(&problems(&form, &changed_options)),
        ["Workbook: the form was made from another version of framework hcm-2023-district; make a new form"]
    );
    let empty = FrameworkCatalog::default();
    let unknown = ImportOptions {
        catalog: &empty,
        ..options(&catalog, &registry, Lang::En)
    };
    assert_eq!(
        texts(&problems(&form, &unknown)),
        ["Workbook: the form is for framework hcm-2023-district, which is not known"]
    );
}

#[test]
fn the_unit_must_be_the_forms_and_one_the_round_assesses() {
    let catalog = catalog();
    let registry = registry();
    let sheets = read_all(&quan_1_form(&catalog, Lang::En));
    let general = sheet(&mut sheets.clone(), "GENERAL INFORMATION").clone();
    assert_eq!(general.cells[&at("D8")], Data::String("quan-1".into()));
    let other = with_cell(
        sheets.clone(),
        "GENERAL INFORMATION",
        "D8",
        Data::String("quan-3".into()),
    );
    assert_eq!(
        texts(&problems(&write_all(&other), &options(&catalog, &registry, Lang::En))),
        ["Sheet 'GENERAL INFORMATION', cell D8: the form was made for unit quan-1, found 'quan-3'"]
    );

    // A template without a unit: the unit writes its id, which must be a district.
    let framework = catalog.get_str("hcm-2023-district").expect("framework");
    let spec = FormSpec {
        framework,
        year: 2023,
        unit: None,
        lang: Lang::En,
    };
    let blank = read_all(&write_form(&spec, None).expect("a form"));
    assert_eq!(
        texts(&problems(
            &write_all(&blank),
            &options(&catalog, &registry, Lang::En)
        )),
        ["Sheet 'GENERAL INFORMATION', cell D8: the unit id is missing"]
    );
    let department = with_cell(
        blank.clone(),
        "GENERAL INFORMATION",
        "D8",
        Data::String("so-tttt".into()),
    );
    let found = texts(&problems(
        &write_all(&department),
        &options(&catalog, &registry, Lang::En),
    ));
    assert_eq!(found.len(), 1, "{found:#?}");
    assert!(
        found[0]
            .starts_with("Sheet 'GENERAL INFORMATION', cell D8: unit id 'so-tttt' is not valid: "),
        "{found:#?}"
    );
    let district = with_cell(
        blank,
        "GENERAL INFORMATION",
        "D8",
        Data::String("quan-5".into()),
    );
    let imported = import_form(
        &write_all(&district),
        &options(&catalog, &registry, Lang::En),
    )
    .expect("valid");
    assert_eq!(imported.cohort["units"][0]["unit"], "quan-5");
    let _ = UnitId::parse("quan-5");
}

#[test]
fn a_file_that_is_no_form_is_refused() {
    let catalog = catalog();
    let registry = registry();
    assert_eq!(
        problems(
            b"not a spreadsheet",
            &options(&catalog, &registry, Lang::En)
        )
        .len(),
        1
    );
    let mut sheets = read_all(&quan_1_form(&catalog, Lang::En));
    sheets.retain(|s| s.name != "dti-form");
    assert_eq!(
        texts(&problems(
            &write_all(&sheets),
            &options(&catalog, &registry, Lang::En)
        )),
        ["Workbook: not a DTI form: the form's hidden sheet 'dti-form' is missing"]
    );
}
