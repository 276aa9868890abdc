//! Reading a filled form back: the hidden metadata sheet first (framework, version, year,
//! unit, language), then the layout the template of that metadata has, so every label cell is
//! compared with the text the template wrote and every input cell is read where the template
//! put it. Values are converted exactly ([`crate::cell`]) and then validated by the same domain
//! rules as every submission (`dti_domain::values::decode_cohort`). Every problem names the
//! sheet, the cell, the indicator and the variable, and all of them are reported at once.//!
//! This module reads the workbook, its metadata and its unit; `place` says where a problem
//! is, `reading` gathers the input cells and checks each indicator is filled whole.

mod place;
mod reading;

use std::collections::BTreeMap;
use std::io::Cursor;

use calamine::{open_workbook_from_rs, Data, Range, Reader, Xlsx};
use dti_domain::framework::Framework;
use dti_domain::values::decode_cohort;
use dti_domain::{FrameworkCatalog, UnitId, UnitRegistry};
use dti_i18n::{Arg, Catalog, Lang};
use serde_json::Value;

use crate::cell;
use crate::layout::{FormLayout, FormSpec, Slot};
use crate::meta::{framework_hash, FormMeta, FORM_FORMAT_VERSION, META_SHEET};
use place::Place;
use reading::Reading;

/// What the importer needs: the frameworks and units it knows, what the caller expects, and
/// the language of its messages.
#[derive(Debug, Clone, Copy)]
pub struct ImportOptions<'a> {
    /// Known frameworks.
    pub catalog: &'a FrameworkCatalog,
    /// Known units.
    pub registry: &'a UnitRegistry,
    /// The framework the form must be for, when the caller knows it.
    pub framework: Option<&'a str>,
    /// The year the form must be for, when the caller knows it.
    pub year: Option<u16>,
    /// The language of the problems.
    pub lang: Lang,
}

/// A problem with a form, where it is and what it is, in the caller's language.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FormProblem {
    /// The sheet.
    pub sheet: Option<String>,
    /// The cell (`E12`).
    pub cell: Option<String>,
    /// The indicator code (or general-information key).
    pub indicator: Option<String>,
    /// The variable.
    pub variable: Option<String>,
    /// The whole line for people: place and problem.
    pub text: String,
}

impl std::fmt::Display for FormProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.text)
    }
}

/// A valid form, read.
#[derive(Debug, Clone)]
pub struct ImportedForm {
    /// What it was made for.
    pub meta: FormMeta,
    /// The contract's cohort document with the one unit (what `dtictl submit` reads).
    pub cohort: Value,
    /// Evidence references by indicator code.
    pub evidence: BTreeMap<String, String>,
    /// Warnings of the domain's checks (a ratio above 100 %…), placed like problems.
    pub warnings: Vec<FormProblem>,
}

/// Reads and validates a filled form.
pub fn import_form(
    bytes: &[u8],
    options: &ImportOptions<'_>,
) -> Result<ImportedForm, Vec<FormProblem>> {
    let catalog = options.lang.catalog();
    let at = Place { catalog };
    let mut workbook: Xlsx<_> =
        open_workbook_from_rs(Cursor::new(bytes)).map_err(|error: calamine::XlsxError| {
            vec![at.workbook(catalog.format(
                "import-unreadable",
                &[("reason", Arg::from(error.to_string()))],
            ))]
        })?;
    let sheet_names: Vec<String> = workbook.sheet_names().clone();
    if !sheet_names.iter().any(|name| name == META_SHEET) {
        return Err(vec![at.workbook(
            catalog.format("import-not-a-form", &[("sheet", Arg::from(META_SHEET))]),
        )]);
    }
    let meta_range =
        workbook
            .worksheet_range(META_SHEET)
            .map_err(|error: calamine::XlsxError| {
                vec![at.workbook(catalog.format(
                    "import-unreadable",
                    &[("reason", Arg::from(error.to_string()))],
                ))]
            })?;
    let (meta, framework) = read_meta(&meta_range, options, &at)?;
    let unit = match meta.unit.as_deref().map(|id| (id, UnitId::parse(id))) {
        None => None,
        Some((_, Ok(id))) => {
            let name = options
                .registry
                .unit(&id)
                .map_or_else(|| id.to_string(), |unit| unit.name.clone());
            Some((id, name))
        }
        Some((id, Err(error))) => {
            return Err(vec![at.workbook(catalog.format(
                "import-unit-invalid",
                &[
                    ("found", Arg::from(id)),
                    ("reason", Arg::from(error.to_string())),
                ],
            ))]);
        }
    };
    let spec = FormSpec {
        framework,
        year: meta.year,
        unit,
        lang: meta.lang,
    };
    let layout = FormLayout::of(&spec);
    let mut problems = Vec::new();
    for name in &sheet_names {
        if name != META_SHEET && layout.sheet(name).is_none() {
            problems.push(at.sheet(
                name,
                catalog.format("import-extra-sheet", &[("sheet", Arg::from(name))]),
            ));
        }
    }
    let mut reading = Reading::new(framework, catalog);
    for sheet in &layout.sheets {
        if !sheet_names.contains(&sheet.name) {
            problems.push(at.workbook(
                catalog.format("import-missing-sheet", &[("sheet", Arg::from(&sheet.name))]),
            ));
            continue;
        }
        let range = match workbook.worksheet_range(&sheet.name) {
            Ok(range) => range,
            Err(error) => {
                problems.push(at.sheet(
                    &sheet.name,
                    catalog.format(
                        "import-unreadable",
                        &[("reason", Arg::from(error.to_string()))],
                    ),
                ));
                continue;
            }
        };
        let empty = Data::Empty;
        let value_at =
            |row: u32, col: u16| range.get_value((row, u32::from(col))).unwrap_or(&empty);
        for label in &sheet.labels {
            let found = cell::shown(value_at(label.row, label.col));
            if found.trim_end() != label.text.trim_end() {
                problems.push(at.cell(
                    &sheet.name,
                    label.row,
                    label.col,
                    None,
                    catalog.format(
                        "import-label-edited",
                        &[
                            ("expected", Arg::from(&label.text)),
                            ("found", Arg::from(found)),
                        ],
                    ),
                ));
            }
        }
        for input in &sheet.inputs {
            if let Err(problem) = reading.read(input, value_at(input.row, input.col)) {
                reading
                    .failed
                    .insert(input.slot.indicator().unwrap_or_default().to_owned());
                problems.push(at.cell(
                    &sheet.name,
                    input.row,
                    input.col,
                    Some(&input.slot),
                    problem,
                ));
            }
        }
    }
    let unit = reading.unit.clone();
    match check_unit(&meta, framework, options.registry, unit.as_deref(), catalog) {
        Ok(()) => {}
        Err(problem) => problems.push(at.slot(&layout, &Slot::UnitId, problem)),
    }
    problems.extend(reading.completeness(&layout, &at));
    let document = reading.document(unit.as_deref().unwrap_or("unit"));
    let decoded = decode_cohort(&document.to_string(), options.catalog);
    let mut warnings = Vec::new();
    for issue in &decoded.issues {
        let placed = at.issue(&layout, issue);
        if issue.is_error() {
            problems.push(placed);
        } else {
            warnings.push(placed);
        }
    }
    match decoded.value {
        Some(cohort) if problems.is_empty() => Ok(ImportedForm {
            meta,
            cohort: serde_json::to_value(&cohort).unwrap_or(Value::Null),
            evidence: reading.evidence,
            warnings,
        }),
        _ => Err(problems),
    }
}

/// The metadata, and the framework it names, checked against the catalog and the caller's
/// expectations.
fn read_meta<'c>(
    range: &Range<Data>,
    options: &ImportOptions<'c>,
    at: &Place<'_>,
) -> Result<(FormMeta, &'c Framework), Vec<FormProblem>> {
    let catalog = at.catalog;
    let rows: Vec<(String, String)> = range
        .rows()
        .map(|row| {
            let text = |i: usize| row.get(i).map(cell::shown).unwrap_or_default();
            (text(0), text(1))
        })
        .collect();
    let version = rows
        .iter()
        .find(|(key, _)| key == "format_version")
        .map(|(_, v)| v.trim().to_owned());
    if let Some(version) = version.filter(|v| *v != FORM_FORMAT_VERSION.to_string()) {
        return Err(vec![at.workbook(catalog.format(
            "import-format-version",
            &[
                ("found", Arg::from(version)),
                ("expected", Arg::from(FORM_FORMAT_VERSION)),
            ],
        ))]);
    }
    let meta = FormMeta::from_rows(&rows).map_err(|field| {
        vec![at.workbook(catalog.format("import-meta-missing", &[("field", Arg::from(field))]))]
    })?;
    let mut problems = Vec::new();
    let framework = options.catalog.get_str(&meta.framework);
    match framework {
        None => problems.push(at.workbook(catalog.format(
            "import-unknown-framework",
            &[("framework", Arg::from(&meta.framework))],
        ))),
        Some(framework) if framework_hash(framework) != meta.framework_hash => {
            problems.push(at.workbook(catalog.format(
                "import-framework-changed",
                &[("framework", Arg::from(&meta.framework))],
            )))
        }
        Some(_) => {}
    }
    if let Some(expected) = options.framework.filter(|f| *f != meta.framework) {
        problems.push(at.workbook(catalog.format(
            "import-other-framework",
            &[
                ("found", Arg::from(&meta.framework)),
                ("expected", Arg::from(expected)),
            ],
        )));
    }
    if let Some(expected) = options.year.filter(|y| *y != meta.year) {
        problems.push(at.workbook(catalog.format(
            "import-other-year",
            &[
                ("found", Arg::from(meta.year)),
                ("expected", Arg::from(expected)),
            ],
        )));
    }
    match framework {
        Some(framework) if problems.is_empty() => Ok((meta, framework.as_ref())),
        _ => Err(problems),
    }
}

/// The unit id is there, well formed, the one the form was made for, and a unit the round
/// assesses.
fn check_unit(
    meta: &FormMeta,
    framework: &Framework,
    registry: &UnitRegistry,
    unit: Option<&str>,
    catalog: &Catalog,
) -> Result<(), String> {
    let Some(unit) = unit else {
        return Err(catalog.text("import-unit-missing"));
    };
    if let Some(expected) = meta.unit.as_deref().filter(|expected| *expected != unit) {
        return Err(catalog.format(
            "import-unit-other",
            &[
                ("expected", Arg::from(expected)),
                ("found", Arg::from(unit)),
            ],
        ));
    }
    let invalid = |reason: String| {
        catalog.format(
            "import-unit-invalid",
            &[("found", Arg::from(unit)), ("reason", Arg::from(reason))],
        )
    };
    let id = UnitId::parse(unit).map_err(|e| invalid(e.to_string()))?;
    registry
        .member(&id, framework.unit_kind, meta.year)
        .map(|_| ())
        .map_err(|e| invalid(e.to_string()))
}
